"""The store: seeding, privacy on the way in, all-or-nothing writes, and sharing the file with another process."""

import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest

import segcore
from segcore.errors import InputError, NotFoundError, StoreBusyError
from segcore.store import ColumnPlan, TablePlan


def _all_text(store) -> list[str]:
    """Every VARCHAR value anywhere in the store."""
    con = duckdb.connect(str(store.path), read_only=True)
    try:
        cols = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE data_type = 'VARCHAR'").fetchall()
        out = []
        for t, c in cols:
            out += [r[0] for r in con.execute(f'SELECT DISTINCT "{c}" FROM "{t}" LIMIT 50000').fetchall() if r[0]]
        return out
    finally:
        con.close()


def test_new_store_is_seeded_with_the_sample(sample_store):
    ds = sample_store.list_datasets()
    assert ds["name"].tolist() == ["sample"]
    rec = sample_store.dataset("sample")
    assert rec["n_users"] == 20_000 and rec["n_events"] >= 500_000
    # the event log itself is not kept by default; what the quality report needs from it is
    assert sample_store.tables("sample") == ["users", "features"]
    assert rec["event_facts"]["events"] == rec["n_events"] and rec["event_facts"]["events_without_time"] == 0
    assert rec["event_facts"]["first_event"] < rec["event_facts"]["last_event"]
    assert [p["column"] for p in rec["privacy"]] == ["email"] and rec["privacy"][0]["action"] == "hash"


def test_no_raw_email_is_stored(sample_store):
    assert not any("@" in v for v in _all_text(sample_store))
    raw = pd.read_parquet(segcore.sample.SAMPLE_DIR / "users.parquet", columns=["user_id", "email"]).head(3)
    stored = sample_store.read_table("sample", "users", ["user_id", "email"]).set_index("user_id")
    import hashlib
    for uid, email in zip(raw["user_id"], raw["email"]):
        assert stored.loc[uid, "email"] == hashlib.sha256(email.strip().lower().encode()).hexdigest()


def test_failed_run_write_leaves_store_unchanged(store_copy):
    before = store_copy.list_runs()
    n_assign = len(store_copy._df("SELECT * FROM assignments"))
    bad_personas = pd.DataFrame({"cluster": ["not-a-number"], "name": ["x"], "description": [""], "colour": ["#000000"]})
    record = {"run_id": "r1", "dataset": "sample", "algo": "kmeans", "k": 2, "seed": 0, "created_at": None}
    assign = pd.DataFrame({"user_id": ["a", "b"], "cluster": [0, 1]})
    with pytest.raises(Exception):
        store_copy.save_run(record, assign, bad_personas)
    assert store_copy.list_runs().equals(before)
    assert len(store_copy._df("SELECT * FROM assignments")) == n_assign


def test_failed_import_leaves_store_unchanged(store_copy, tmp_path):
    good = tmp_path / "u.csv"
    good.write_text("user_id,x\n1,2\n")
    plan = TablePlan(str(good), "csv", (ColumnPlan("user_id", "user_id", "text"), ColumnPlan("x", "x")))
    broken = TablePlan(str(good), "csv", (ColumnPlan("nope", "user_id", "text"),))
    tables_before = store_copy._df("SELECT table_name FROM information_schema.tables ORDER BY 1")
    with pytest.raises(Exception):
        store_copy.import_dataset("new", users=plan, events=broken, kind="users", source="u.csv")
    assert not store_copy.has_dataset("new")
    assert store_copy._df("SELECT table_name FROM information_schema.tables ORDER BY 1").equals(tables_before)


def test_dataset_names_are_validated_and_not_silently_replaced(store_copy, tmp_path):
    f = tmp_path / "u.csv"
    f.write_text("user_id,x\n1,2\n")
    with pytest.raises(InputError, match="not allowed"):
        segcore.import_file(store_copy, f, 'x"; DROP TABLE runs; --')
    with pytest.raises(InputError, match="already exists"):
        segcore.import_file(store_copy, f, "sample")
    assert store_copy.dataset("sample")["n_users"] == 20_000
    with pytest.raises(NotFoundError, match="the store has: sample"):
        store_copy.dataset("missing")


_HOLDER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _hold_lock(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_waits_for_another_process_then_succeeds(empty_store):
    proc = _hold_lock(empty_store.path, 1.5)
    start = time.monotonic()
    patient = segcore.Store(empty_store.path, timeout=20)
    assert patient.list_datasets().empty
    assert time.monotonic() - start >= 1.0  # it really waited for the lock
    proc.wait(timeout=10)


def test_gives_a_clear_message_when_the_store_stays_locked(empty_store):
    proc = _hold_lock(empty_store.path, 3)
    try:
        with pytest.raises(StoreBusyError, match="locked by another process"):
            segcore.Store(empty_store.path, timeout=0.3)
    finally:
        proc.wait(timeout=10)


def test_personas_are_saved_and_checked(store_copy, sample_run):
    # sample_run lives in the session store; fit a small run in the copy instead
    run_id = segcore.create_run(store_copy, "sample", 3, seed=1)
    p = store_copy.personas(run_id)
    p.loc[0, "name"] = "Renamed"
    store_copy.save_personas(run_id, p)
    assert store_copy.personas(run_id).loc[0, "name"] == "Renamed"
    assert "Renamed" in set(store_copy.segments(run_id)["persona"])
    with pytest.raises(InputError, match="each cluster"):
        store_copy.save_personas(run_id, p.iloc[:1])


def test_import_reports_progress_from_duckdb(empty_store):
    from segcore.sample import SAMPLE_DIR

    seen = []
    segcore.import_file(empty_store, SAMPLE_DIR / "events.parquet", "p", kind="events",
                        progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0 <= fractions[0] < 0.1
    assert {"reading the events file", "engineering per-user features"} <= {m for _, m in seen}
