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
    assert rec.n_users == 20_000 and rec.n_events >= 500_000
    # the event log itself is not kept by default; what the quality report needs from it is
    assert sample_store.tables("sample") == ["users", "features", "activity"]
    assert rec.event_facts["events"] == rec.n_events and rec.event_facts["events_without_time"] == 0
    assert rec.event_facts["first_event"] < rec.event_facts["last_event"]
    assert [p["column"] for p in rec.privacy] == ["email"] and rec.privacy[0]["action"] == "hash"


def test_no_raw_email_is_stored(sample_store):
    assert not any("@" in v for v in _all_text(sample_store))
    raw = pd.read_parquet(segcore.sample.SAMPLE_DIR / "users.parquet", columns=["user_id", "email"]).head(3)
    stored = sample_store.read_table("sample", "users", ["user_id", "email"]).set_index("user_id")
    import hashlib
    for uid, email in zip(raw["user_id"], raw["email"]):
        assert stored.loc[uid, "email"] == hashlib.sha256(email.strip().lower().encode()).hexdigest()


def test_hashed_ids_are_kept_once_and_exported_from_the_users_table(sample_store, sample_run):
    # the email's hash lives in the users table only; an export asks for it like any other column
    assert "email" not in sample_store.columns("sample")["column_name"].tolist()
    assert "email" in sample_store.segment_columns("sample")
    got = sample_store.segments(sample_run, ["email", "revenue"]).set_index("user_id")
    users = sample_store.read_table("sample", "users", ["user_id", "email"]).set_index("user_id")
    feats = sample_store.read_table("sample", columns=["user_id", "revenue"]).set_index("user_id")
    assert len(got) == 20_000 and got["email"].str.fullmatch("[0-9a-f]{64}").all()
    assert (got["email"] == users["email"].reindex(got.index)).all()
    assert (got["revenue"] == feats["revenue"].reindex(got.index)).all()
    with pytest.raises(NotFoundError, match="no column"):
        sample_store.segments(sample_run, ["emails"])


def test_a_users_only_dataset_keeps_hashed_ids_out_of_its_features(empty_store, tmp_path):
    f = tmp_path / "crm.csv"
    f.write_text("user_id,email,plan\na,ann@example.com,gold\nb,bo@example.org,free\n")
    segcore.import_file(empty_store, f, "crm")
    assert empty_store.columns("crm")["column_name"].tolist() == ["user_id", "plan"]
    assert empty_store.read_table("crm", "users")["email"].str.len().tolist() == [64, 64]


def test_a_parquet_file_in_one_row_group_is_read_in_row_ranges(tmp_path, monkeypatch):
    import segcore.store._plans as store_module

    users = pd.DataFrame({"user_id": [f"u{i:04d}" for i in range(1_000)],
                          "email": [f"p{i}@example.com" for i in range(1_000)],
                          "plan": ["gold", "free"] * 500})
    events = pd.DataFrame({"user_id": [f"u{i // 5 % 1_000:04d}" for i in range(5_000)],
                           "timestamp": pd.Timestamp("2026-03-01") + pd.to_timedelta(range(5_000), unit="min"),
                           "event_type": ["page_view", "purchase"] * 2_500, "amount": [1.0] * 5_000,
                           "session_id": [i // 5 for i in range(5_000)]})  # one session of 5 events per user
    users.to_parquet(tmp_path / "users.parquet", index=False)  # pandas writes each as one row group
    events.to_parquet(tmp_path / "events.parquet", index=False)
    plan = TablePlan(str(tmp_path / "users.parquet"), "parquet", (ColumnPlan("user_id", "user_id", "text"),))
    con = duckdb.connect()
    con.execute("SET threads = 4")
    monkeypatch.setattr(store_module, "MIN_RANGE_ROWS", 100)
    select = store_module.select(con, plan, {})
    assert select.count("UNION ALL") == 3  # four ranges for four threads
    assert sorted(r[0] for r in con.execute(select, {"src_path": plan.path}).fetchall()) == users["user_id"].tolist()
    tables = {}
    for label, rows in (("ranges", 100), ("whole", 10**9)):
        monkeypatch.setattr(store_module, "MIN_RANGE_ROWS", rows)
        store = segcore.open_store(tmp_path / f"{label}.duckdb", seed_sample=False)
        segcore.import_file(store, tmp_path / "events.parquet", "d", kind="events",
                            users_path=tmp_path / "users.parquet")
        tables[label] = (store.read_table("d", "users").sort_values("user_id", ignore_index=True),
                         store.read_table("d"))
    for a, b in zip(tables["ranges"], tables["whole"]):
        pd.testing.assert_frame_equal(a, b)
    assert len(tables["ranges"][0]) == 1_000 and (tables["ranges"][1]["n_sessions"] == 1).all()


def test_active_days_are_the_same_counted_with_day_bits_or_in_a_pass_of_their_own(empty_store, monkeypatch):
    import segcore.store._features as store_module

    segcore.import_sample(empty_store, "bits")
    monkeypatch.setattr(store_module, "MAX_BITMAP_DAYS", 0)  # the log is too long for day bits: a days pass
    segcore.import_sample(empty_store, "days")
    pd.testing.assert_frame_equal(empty_store.read_table("bits"), empty_store.read_table("days"))


def test_failed_run_write_leaves_store_unchanged(store_copy):
    before = store_copy.list_runs()
    n_assign = len(store_copy._df("SELECT * FROM assignments"))
    bad_personas = pd.DataFrame({"cluster": ["not-a-number"], "name": ["x"], "description": [""],
                                 "colour": ["#000000"]})
    record = {"run_id": "r1", "dataset": "sample", "algo": "kmeans", "k": 2, "seed": 0, "created_at": None}
    assign = pd.DataFrame({"user_id": ["a", "b"], "cluster": [0, 1]})
    with pytest.raises(duckdb.ConversionException):  # the personas' cluster, after the run and assignments
        store_copy.save_run(record, assign, bad_personas)
    assert store_copy.list_runs().equals(before)
    assert len(store_copy._df("SELECT * FROM assignments")) == n_assign


def test_failed_import_leaves_store_unchanged(store_copy, tmp_path):
    good = tmp_path / "u.csv"
    good.write_text("user_id,x\n1,2\n")
    plan = TablePlan(str(good), "csv", (ColumnPlan("user_id", "user_id", "text"), ColumnPlan("x", "x")))
    broken = TablePlan(str(good), "csv", (ColumnPlan("nope", "user_id", "text"),))
    tables_before = store_copy._df("SELECT table_name FROM information_schema.tables ORDER BY 1")
    with pytest.raises(duckdb.BinderException, match="nope"):  # after the users table was written
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
    assert store_copy.dataset("sample").n_users == 20_000
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


@pytest.mark.slow
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
    # a Parquet log is read where it lies: its first full read is the feature SQL's
    assert {"counting categories", "engineering per-user features"} <= {m for _, m in seen}
