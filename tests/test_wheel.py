"""A wheel built from the repo installs and works (issue 16): the sample and the dashboard ship inside it.

The wheel goes into a fresh virtual environment, with the dependencies lent by the test environment
(a .pth file; nothing is downloaded but the build backend), and runs from a folder outside the repo.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest
from _app_server import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(tmp.glob("persona_lab-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies, from this environment's site-packages (its .pth files, such as the editable install of
    # this repo, are not read from there)
    (Path(site) / "_deps_from_tests.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp / "elsewhere"
    work.mkdir()
    return venv, work


def _run(venv, work, *args, timeout=300):
    return subprocess.run([str(venv / "bin" / "segcore"), "--store", str(work / "s.duckdb"), *args], cwd=work,
                          capture_output=True, text=True, timeout=timeout)


def test_the_package_comes_from_the_wheel(installed):
    venv, work = installed
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import segcore, dashboard; "
                            "print(segcore.__file__); print(dashboard.__file__)"],
                           cwd=work, capture_output=True, text=True, check=True).stdout.split()
    assert all(str(venv) in w for w in where), where


def test_datasets_and_import_work_from_the_wheel(installed):
    venv, work = installed
    done = _run(venv, work, "datasets")
    assert done.returncode == 0, done.stderr
    assert "sample" in done.stdout and "20000" in done.stdout.replace(",", "")
    done = _run(venv, work, "import", str(ROOT / "tests" / "data" / "cdnow" / "cdnow_sample.csv"), "--name", "cdnow",
                "--kind", "events")
    assert done.returncode == 0, done.stderr
    assert "dataset 'cdnow': 2,357 customers" in done.stdout


def test_the_app_starts_from_the_wheel(installed):
    venv, work = installed
    port = free_port()
    proc = subprocess.Popen([str(venv / "bin" / "segcore"), "app", "--store", str(work / "app.duckdb"), "--port",
                             str(port)], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        import time

        deadline, body = time.monotonic() + 120, b""
        while time.monotonic() < deadline and body != b"ok":
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
            except OSError:
                time.sleep(0.5)
        assert body == b"ok"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
        assert b"<noscript>" in page or b"streamlit" in page.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
