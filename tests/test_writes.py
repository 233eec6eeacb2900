"""No lost writes, no runs on the wrong data (issue 15)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import segcore
from segcore import workflow
from segcore.errors import InputError


def _cli(store, *args):
    return subprocess.Popen([sys.executable, "-m", "segcore.cli", "--store", str(store), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_processes_renaming_at_once_both_keep_their_rename(store_copy, sample_run):
    for round_ in range(4):
        procs = [_cli(store_copy.path, "personas", sample_run, "--set", f"{c}=Round {round_} persona {c}")
                 for c in (0, 1)]
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
        names = store_copy.personas(sample_run).set_index("cluster")["name"]
        assert names[0] == f"Round {round_} persona 0" and names[1] == f"Round {round_} persona 1"


def test_threads_renaming_at_once_lose_nothing(store_copy, sample_run):
    clusters = store_copy.personas(sample_run)["cluster"].tolist()
    errors = []
    barrier = threading.Barrier(len(clusters))

    def rename(c):
        barrier.wait()
        try:
            store_copy.update_personas(sample_run, {c: {"name": f"Thread {c}"}})
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=rename, args=(c,)) for c in clusters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store_copy.personas(sample_run)["name"].tolist() == [f"Thread {c}" for c in clusters]


def test_an_edit_over_someone_elses_change_is_refused_not_lost(store_copy, sample_run):
    before = store_copy.personas(sample_run).set_index("cluster")
    store_copy.update_personas(sample_run, {0: {"name": "Theirs"}})
    with pytest.raises(InputError, match="changed by someone else since you opened it"):
        store_copy.update_personas(sample_run, {0: {"name": "Mine"}}, expected={0: {"name": before.loc[0, "name"]}})
    assert store_copy.personas(sample_run).set_index("cluster").loc[0, "name"] == "Theirs"


@pytest.mark.slow
def test_a_run_fitted_while_its_dataset_is_replaced_is_not_saved(tmp_path):
    store = segcore.open_store(tmp_path / "s.duckdb")
    runs_before = len(store.list_runs())
    other = tmp_path / "other.csv"
    other.write_text("user_id,age\n" + "".join(f"x{i},{20 + i % 50}\n" for i in range(200)))

    def progress(fraction, message):
        if message.startswith("Fitting"):  # as `segcore import other.csv --name sample --replace` would, meanwhile
            segcore.import_file(store, other, "sample", replace=True)

    with pytest.raises(InputError, match="was replaced or deleted while this run was being fitted"):
        workflow.create_run(store, "sample", 3, seed=0, progress=progress)
    assert len(store.list_runs()) == runs_before
    # the replaced version comes back with its runs intact, and the new one has none on the old users
    store.restore_previous("sample")
    assert store.dataset("sample").n_users == 20_000 and len(store.list_runs()) == runs_before


@pytest.mark.slow
def test_a_read_waits_for_an_import_and_says_so(tmp_path):
    """An import holds the store for its whole length: another command queues behind it, saying what it waits
    for, instead of failing after its timeout (1 s here)."""
    import os
    import time

    import duckdb

    log = tmp_path / "big.csv"
    duckdb.sql(f"COPY (SELECT 'u' || (i % 200000) AS user_id, TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS ts, "
               f"['view', 'cart', 'buy'][1 + i % 3] AS event_type FROM range(3000000) t(i)) TO '{log}' (HEADER)")
    store = tmp_path / "s.duckdb"
    segcore.open_store(store, seed_sample=False)
    env = {**os.environ, "SEGCORE_LOCK_TIMEOUT": "1"}
    importing = subprocess.Popen([sys.executable, "-m", "segcore.cli", "--store", str(store), "import", str(log),
                                  "--name", "big", "--kind", "events"], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    sidecar = store.with_name(store.name + ".persona-lab-writer")
    deadline = time.monotonic() + 120
    while not sidecar.exists() and importing.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sidecar.exists(), "the import did not start"
    reading = subprocess.run([sys.executable, "-m", "segcore.cli", "--store", str(store), "datasets"], env=env,
                             capture_output=True, text=True, timeout=300)
    out, err = importing.communicate(timeout=300)
    assert importing.returncode == 0, err
    assert reading.returncode == 0, reading.stderr
    assert "waiting for the import of 'big'" in reading.stderr and "to finish writing the store" in reading.stderr
    assert "big" in reading.stdout  # it read the store once the import was done
    assert not sidecar.exists()


def test_a_full_disk_is_one_line_and_changes_nothing(tmp_path):
    """On a 3 MB disk: creating a store, then importing into one, say the disk is full (they said 'unexpected
    TransactionException' and 'cannot read the file')."""
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3M", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("this machine cannot mount a small disk (needs root)")
    try:
        done = subprocess.run([sys.executable, "-m", "segcore.cli", "--store", str(small / "s.duckdb"), "datasets"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode != 0 and done.stderr.strip().count("\n") == 0, done.stderr
        assert "is full: nothing was written; free some space" in done.stderr
    finally:
        subprocess.run(["umount", str(small)], check=False)
