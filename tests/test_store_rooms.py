"""The store in rooms (issue 16): one connection per public call, SQL markers filled exactly once, typed
records (the migrations are tested with the store marker)."""

from __future__ import annotations

import dataclasses

import pytest

import segcore
from segcore import workflow
from segcore.store import DatasetRecord, RunRecord, Store
from segcore.store._sql import fill


@pytest.fixture
def opened(monkeypatch):
    """Counts the connections the store really opens (a call's steps share one)."""
    count = {"n": 0}
    real = Store._open

    def counting(self, read_only):
        count["n"] += 1
        return real(self, read_only)

    monkeypatch.setattr(Store, "_open", counting)

    def measure(call):
        count["n"] = 0
        result = call()
        return count["n"], result
    return measure


def test_each_public_call_opens_one_connection(store_copy, sample_run, opened):
    # before the store was split: read_table opened 6, run_matrix 17, create_run 28 (its fit in between)
    assert opened(lambda: store_copy.read_table("sample", "features"))[0] == 1
    assert opened(lambda: workflow.run_matrix(store_copy, sample_run))[0] == 1
    assert opened(lambda: workflow.run_kpis(store_copy, sample_run))[0] == 1
    assert opened(lambda: workflow.export_run(store_copy, sample_run))[0] == 1
    n, run_id = opened(lambda: workflow.create_run(store_copy, "sample", 3, features=["revenue", "n_events"]))
    assert n == 2  # the reads before the fit, the write after it: no connection is held while fitting
    assert store_copy.run(run_id).k == 3


def test_a_session_is_left_closed_and_an_error_inside_it_leaves_no_connection(store_copy, opened):
    with pytest.raises(segcore.NotFoundError):
        with store_copy.session():
            store_copy.dataset("sample")
            store_copy.dataset("nope")
    assert getattr(store_copy._local, "con", None) is None
    assert opened(lambda: store_copy.has_dataset("sample"))[0] == 1


def test_a_write_inside_a_session_rolls_back_alone_on_error(store_copy, sample_run):
    before = store_copy.personas(sample_run)
    with store_copy.session():
        with pytest.raises(segcore.InputError, match="used twice"):
            store_copy.update_personas(sample_run, {0: {"name": "Twins"}, 1: {"name": "twins"}})
        assert store_copy.personas(sample_run).equals(before)  # the session's connection still works


def test_markers_are_filled_exactly_once():
    sql = "SELECT a /*first*/ FROM t /*second*/"
    assert fill(sql, first=", b", second="WHERE b > 0") == "SELECT a , b FROM t WHERE b > 0"
    with pytest.raises(ValueError, match="not filled \\['second'\\]"):
        fill(sql, first="")
    with pytest.raises(ValueError, match="absent \\['thrid'\\]"):
        fill(sql, first="", second="", thrid="")
    with pytest.raises(ValueError, match="repeated \\['first'\\]"):
        fill(sql + " /*first*/", first="", second="")


def test_records_are_typed_and_decoded_once(sample_store, sample_run):
    ds = sample_store.dataset("sample")
    assert isinstance(ds, DatasetRecord) and ds.shape == "events" and ds.n_users == 20_000
    assert ds.hashed_columns == {"email"} and isinstance(ds.left_out, dict)
    rec = sample_store.run(sample_run)
    assert isinstance(rec, RunRecord) and rec.dataset == "sample" and rec.k == 6
    assert set(rec.segment_stability) == set(range(6)) and all(isinstance(c, int) for c in rec.segment_stability)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.k = 7
