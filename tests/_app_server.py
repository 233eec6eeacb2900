"""`segcore app` started as a user starts it, for the tests that talk to the real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(store: Path, *, log=subprocess.DEVNULL, umap_worker: bool = False, timeout: float = 90,
               env: dict | None = None):
    """``segcore app`` on ``store`` and a free port; yields its URL once /_stcore/health answers ok.
    ``env``: more environment variables for the server."""
    port = free_port()
    env = {**os.environ, "SEGCORE_STORE": str(store), "PERSONA_LAB_UMAP_WORKER": "1" if umap_worker else "0",
           **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "segcore.cli", "app", "--store", str(store), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise AssertionError(f"segcore app did not answer /_stcore/health within {timeout:.0f} s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
