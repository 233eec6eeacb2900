"""A store is ours alone (issue 15): recognised by its marker and schema version; anything else is refused
in one line and left exactly as it was; DuckDB never fetches an extension for us."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys

import duckdb
import pytest

import segcore
from segcore.errors import InputError
from segcore.store import SCHEMA_VERSION, STORE_MARKER


def _fingerprint(path):
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "segcore.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def foreign_duckdb(tmp_path):
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE customers (id INTEGER, email VARCHAR); INSERT INTO customers VALUES (1, 'a@b.org')")
    con.execute("CREATE TABLE datasets (anything VARCHAR)")  # a name of ours, in another application's file
    con.close()
    return path


@pytest.mark.slow
def test_another_applications_duckdb_file_is_refused_and_untouched(foreign_duckdb):
    before = _fingerprint(foreign_duckdb)
    with pytest.raises(InputError, match="is not a Persona Lab store .*customers.*left untouched"):
        segcore.open_store(foreign_duckdb)
    for verb in (["datasets"], ["runs"], ["import", "tests/data/cdnow/cdnow_sample.csv", "--name", "x"]):
        done = _cli("--store", str(foreign_duckdb), *verb)
        assert done.returncode != 0 and done.stderr.strip().count("\n") == 0, done.stderr
        assert "is not a Persona Lab store" in done.stderr
    assert _fingerprint(foreign_duckdb) == before
    con = duckdb.connect(str(foreign_duckdb), read_only=True)
    assert con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall() == \
        [("customers",), ("datasets",)]


@pytest.mark.parametrize("make, what", [
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE t (a)").connection.commit(), "an SQLite database"),
    (lambda p: p.write_text("name,email\nann,a@b.org\n"), "not a DuckDB file"),
    (lambda p: p.write_bytes(b""), "not a DuckDB file"),
    (lambda p: p.mkdir(), "a folder"),
])
def test_files_that_are_not_duckdb_are_refused_in_one_line(tmp_path, make, what):
    path = tmp_path / "store.duckdb"
    make(path)
    before = _fingerprint(path) if path.is_file() else None
    done = _cli("--store", str(path), "datasets")
    assert done.returncode != 0 and done.stderr.strip().count("\n") == 0, done.stderr
    assert f"is not a Persona Lab store ({what})" in done.stderr
    assert "extension" not in done.stderr.lower()
    if before:
        assert _fingerprint(path) == before


def test_a_new_store_is_marked(tmp_path):
    store = segcore.open_store(tmp_path / "new.duckdb", seed_sample=False)
    assert store.created
    con = duckdb.connect(str(store.path), read_only=True)
    assert dict(con.execute("SELECT key, value FROM persona_lab_store").fetchall()) == \
        {"store": STORE_MARKER, "schema_version": str(SCHEMA_VERSION)}
    con.close()
    assert not segcore.Store(store.path).created


def test_a_store_made_before_the_marker_is_brought_up_to_date(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE datasets (name VARCHAR PRIMARY KEY, kind VARCHAR, source VARCHAR, n_users BIGINT, "
                "n_events BIGINT, privacy VARCHAR, created_at TIMESTAMP)")
    con.execute("CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, dataset VARCHAR, algo VARCHAR, k INTEGER, "
                "seed INTEGER, params VARCHAR, features VARCHAR, preprocessing VARCHAR, fingerprint VARCHAR, "
                "metrics VARCHAR, versions VARCHAR, created_at TIMESTAMP)")
    con.execute("CREATE TABLE assignments (run_id VARCHAR, user_id VARCHAR, cluster INTEGER)")
    con.close()
    store = segcore.Store(path)
    assert store.list_datasets().empty
    con = duckdb.connect(str(path), read_only=True)
    assert "event_facts" in [r[0] for r in con.execute("DESCRIBE datasets").fetchall()]
    assert con.execute("SELECT value FROM persona_lab_store WHERE key = 'store'").fetchall() == [(STORE_MARKER,)]
    # the explicit migration from version 1 adds the tables and columns a young store may lack
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"personas", "projections", "projection_info"} <= tables
    assert "probability" in [r[0] for r in con.execute("DESCRIBE assignments").fetchall()]
    assert "explanation" in [r[0] for r in con.execute("DESCRIBE runs").fetchall()]
    version = con.execute("SELECT value FROM persona_lab_store WHERE key = 'schema_version'").fetchall()
    assert version == [(str(SCHEMA_VERSION),)]


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    store = segcore.open_store(tmp_path / "s.duckdb", seed_sample=False)
    con = duckdb.connect(str(store.path))
    con.execute("UPDATE persona_lab_store SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(InputError, match="made by a newer Persona Lab"):
        segcore.Store(store.path)


def test_opening_a_store_writes_nothing(tmp_path, sample_store):
    import shutil

    path = tmp_path / "copy.duckdb"
    shutil.copy(sample_store.path, path)
    before = _fingerprint(path)
    done = _cli("--store", str(path), "datasets")
    assert done.returncode == 0, done.stderr
    assert _fingerprint(path) == before


def test_no_extension_is_ever_fetched(tmp_path):
    store = segcore.open_store(tmp_path / "s.duckdb", seed_sample=False)
    with store._connect() as con:
        assert con.execute("SELECT current_setting('autoinstall_known_extensions'), "
                           "current_setting('autoload_known_extensions')").fetchall() == [(False, False)]
