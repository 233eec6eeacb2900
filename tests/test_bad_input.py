"""The bad-input battery: every kind of broken file gets a message naming the file, column or row and
what to do, in segcore, on the command line and in the app, and the store stays exactly as it was."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from _bad_files import REFUSED, latin1_cities  # the battery, shared with test_app

import segcore
from segcore import cli
from segcore.errors import InputError, SegcoreError


@pytest.fixture
def guarded(tmp_path):
    """A store holding one dataset, and a snapshot that must survive every refused import."""
    store = segcore.open_store(tmp_path / "s.duckdb", seed_sample=False)
    keep = tmp_path / "keep.csv"
    keep.write_text("user_id,x\n1,2\n2,5\n")
    segcore.import_file(store, keep, "keep")

    def snapshot():
        with store._connect() as con:
            tables = sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())
        return tables, store.list_datasets().to_dict("records"), store.read_table("keep", "users").to_dict("records")

    return store, snapshot


@pytest.mark.parametrize("case,fname,content,kwargs,flags,words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_in_segcore_with_a_message_and_the_store_unchanged(guarded, tmp_path, case, fname, content, kwargs,
                                                                   flags, words):
    store, snapshot = guarded
    before = snapshot()
    path = tmp_path / fname
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        segcore.import_file(store, path, "new", **kwargs)
    for w in words:  # the options to change, as the command line spells them
        assert w in err.value.for_cli(), (w, err.value.for_cli())
    # as the app shows it: no command-line flags (issue 16)
    assert not re.search(r"(^|[\s(])--[a-z]", str(err.value)), str(err.value)
    assert "\n" not in str(err.value)
    assert snapshot() == before


@pytest.mark.parametrize("case,fname,content,kwargs,flags,words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_on_the_command_line_in_one_line(guarded, tmp_path, capsys, case, fname, content, kwargs, flags,
                                                 words):
    store, snapshot = guarded
    before = snapshot()
    path = tmp_path / fname
    path.write_bytes(content)
    code = cli.main(["--store", str(store.path), "import", str(path), "--name", "new", *flags])
    err = capsys.readouterr().err
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert snapshot() == before


def _import(store, tmp_path, fname, content, **kw):
    path = tmp_path / fname
    path.write_bytes(content)
    return segcore.import_file(store, path, kw.pop("name", "new"), **kw)


def test_sql_looking_column_names_are_just_names(guarded, tmp_path):
    store, _ = guarded
    evil = 'x"; DROP TABLE datasets; --'
    content = (b'user_id,"x""; DROP TABLE datasets; --",select\n1,2,3\n2,4,5\n')
    _import(store, tmp_path, "evil.csv", content)
    assert evil in store.read_table("new", "users").columns
    assert set(store.list_datasets()["name"]) == {"keep", "new"}
    assert store.read_table("new", "users")[evil].tolist() == [2, 4]


def test_non_ascii_column_names_survive(guarded, tmp_path):
    store, _ = guarded
    content = "user_id,âge_moyen,購入額,ünïcödé\n1,30,1200,a\n2,40,800,b\n".encode()
    _import(store, tmp_path, "intl.csv", content)
    assert {"âge_moyen", "購入額", "ünïcödé"} <= set(store.read_table("new", "users").columns)


def test_a_latin1_file_is_detected_and_read(guarded, tmp_path):
    store, _ = guarded
    report = _import(store, tmp_path, "cities.csv", latin1_cities())
    assert "latin-1" in " ".join(report.read_as)
    assert store.read_table("new", "users")["city"].tolist() == ["Zürich", "Genève"]


def test_utf16_with_a_byte_order_mark_is_read(guarded, tmp_path):
    store, _ = guarded
    _import(store, tmp_path, "u16.csv", "user_id,ville\n1,Zürich\n2,Genève\n".encode("utf-16"))
    assert store.read_table("new", "users")["ville"].tolist() == ["Zürich", "Genève"]


def test_all_missing_column_is_kept_but_not_a_feature(guarded, tmp_path):
    store, _ = guarded
    _import(store, tmp_path, "gaps.csv", b"user_id,x,nothing\n" + b"".join(f"{i},{i},\n".encode() for i in range(20)))
    names = [f.name for f in segcore.feature_catalog(store, "new")]
    assert names == ["x"]
    from segcore.workflow import quality_report

    assert any("'nothing': has no values" in f.line() for f in quality_report(store, "new").findings)
    segcore.create_run(store, "new", 2)  # clustering works without it


def test_infinities_and_text_in_numbers_become_counted_missing_values(guarded, tmp_path):
    store, _ = guarded
    rows = ["user_id,spend,visits"] + [f"{i},{i * 1.5},{i}" for i in range(30)] + ["30,inf,n/a", "31,-inf,3"]
    report = _import(store, tmp_path, "nums.csv", "\n".join(rows).encode())
    text = " ".join(report.warnings)
    assert "2 of 32 values in column 'spend'" in text and "1 of 32 values in column 'visits'" in text
    users = store.read_table("new", "users")
    assert users["spend"].dtype.kind == "f" and users["spend"].isna().sum() == 2
    assert users["visits"].dtype.kind == "f"  # read as numbers despite the 'n/a'
    run = segcore.create_run(store, "new", 2)
    assert len(store.assignments(run)) == 32


def test_inf_in_a_parquet_float_column_is_not_stored_as_inf(guarded, tmp_path):
    store, _ = guarded
    path = tmp_path / "f.parquet"
    pd.DataFrame({"user_id": ["a", "b", "c"], "v": [1.0, float("inf"), float("nan")]}).to_parquet(path)
    report = segcore.import_file(store, path, "new")
    assert store.read_table("new", "users")["v"].isna().sum() == 2
    assert "1 of 3 values in column 'v'" in " ".join(report.warnings)  # NaN is missing already; inf is counted


def test_unreadable_values_in_a_parquet_log_read_in_place_are_counted(guarded, tmp_path):
    # a Parquet log is read where it lies, and each tally is asked alone (answered from the file's
    # statistics where they suffice): the row groups without a bad value must not hide the others
    store, _ = guarded
    n = 3_000
    amount = [float(i % 7) for i in range(n)]
    amount[10], amount[2_500], amount[2_900] = float("inf"), float("-inf"), None
    ts = [f"2026-05-0{1 + i % 9} 10:00" for i in range(n)]
    ts[1_700] = "later"
    path = tmp_path / "ev.parquet"
    pd.DataFrame({"user_id": [f"u{i % 50}" for i in range(n)], "ts": ts, "event_type": ["view"] * n,
                  "amount": amount}).to_parquet(path, row_group_size=500)
    report = segcore.import_file(store, path, "new", kind="events")
    text = " ".join(report.warnings)
    assert f"2 of {n:,} values in column 'amount'" in text and f"1 of {n:,} values in column 'ts'" in text
    assert report.n_users == 50


def test_events_with_missing_user_ids_and_bad_amounts_are_counted(guarded, tmp_path):
    store, _ = guarded
    rows = ["user_id,ts,event_type,amount"] + [f"u{i % 5},2026-05-0{1 + i % 9} 10:00,view,{i}.5" for i in range(40)]
    rows += [",2026-05-01 11:00,view,1", "u1,2026-05-01 12:00,purchase,free"]
    report = _import(store, tmp_path, "ev.csv", "\n".join(rows).encode(), kind="events")
    assert "1 of 42 values in column 'amount'" in " ".join(report.warnings)
    from segcore.workflow import quality_report

    lines = " ".join(f.line() for f in quality_report(store, "new").findings)
    assert "1 events" in lines or "1 event" in lines
    assert report.n_users == 5


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_an_event_log_without_any_user_id_is_refused_in_one_line(guarded, tmp_path, fmt):
    store, snapshot = guarded
    before = snapshot()
    ev = pd.DataFrame({"user_id": pd.array([None, None], dtype="string"), "event_type": ["view", "buy"],
                       "ts": pd.to_datetime(["2026-03-01", "2026-03-02"])})
    path = tmp_path / f"ev.{fmt}"
    ev.to_parquet(path, index=False) if fmt == "parquet" else ev.to_csv(path, index=False)
    mapping = {"user_id": "user_id", "timestamp": "ts", "event_type": "event_type"}
    with pytest.raises(InputError, match=r"^No row of 'ev\.\w+' has a user id and a readable timestamp"):
        segcore.import_file(store, path, "new", kind="events", mapping=mapping)
    assert snapshot() == before


def test_users_rows_without_id_are_left_out_and_said(guarded, tmp_path):
    store, _ = guarded
    report = _import(store, tmp_path, "u.csv", b"user_id,x\n1,2\n,3\n2,4\n2,5\n")
    text = " ".join(report.warnings)
    assert "1 rows of 'u.csv' have no user id" in text and "1 rows of 'u.csv' repeat a user id" in text
    assert report.n_users == 2


@pytest.mark.parametrize("k", [5, 9])
def test_k_not_below_the_number_of_users_is_refused(guarded, tmp_path, k):
    store, snapshot = guarded
    _import(store, tmp_path, "tiny.csv", b"user_id,x\n" + b"".join(f"{i},{i * i}\n".encode() for i in range(5)))
    before = snapshot()
    with pytest.raises(InputError, match=rf"k={k} .*number of users \(5\)"):
        segcore.create_run(store, "new", k)
    code = cli.main(["--store", str(store.path), "run", "new", "--k", str(k)])
    assert code == 2
    assert snapshot() == before


def test_a_sweep_past_the_number_of_users_is_refused_in_one_line(guarded, tmp_path, capsys):
    store, _ = guarded
    _import(store, tmp_path, "tiny.csv", b"user_id,x\n" + b"".join(f"{i},{i * i}\n".encode() for i in range(5)))
    assert cli.main(["--store", str(store.path), "sweep", "new", "--k", "2-8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "number of users (5)" in err[0]


def test_replace_keeps_the_old_version_until_confirmed(guarded, tmp_path):
    store, _ = guarded
    v2 = tmp_path / "v2.csv"
    v2.write_text("user_id,x\n7,1\n8,1\n9,1\n")
    with pytest.raises(InputError, match="already exists.*Replace"):
        segcore.import_file(store, v2, "keep")
    report = segcore.import_file(store, v2, "keep", replace=True)
    assert report.replaced and store.dataset("keep").n_users == 3
    # each surface says how to confirm in its own terms
    assert "`segcore discard-previous keep` deletes it" in report.lines()[-1]
    assert report.lines(surface="app")[-1].endswith("keep the new version or restore the replaced one on the "
                                                    "Data page.")
    # the app's lines are sentences; the command line's stay lines of a log
    assert all(line[0].isupper() and line.endswith(".") for line in report.lines(surface="app")), \
        report.lines(surface="app")
    assert store.previous_version("keep").n_users == 2
    assert list(store.list_datasets()["name"]) == ["keep"]  # the kept version is not a dataset of its own
    store.restore_previous("keep")
    assert store.read_table("keep", "users")["user_id"].tolist() == ["1", "2"]
    segcore.import_file(store, v2, "keep", replace=True)
    store.discard_previous("keep")
    assert store.previous_version("keep") is None
    with pytest.raises(SegcoreError, match="no replaced version"):
        store.restore_previous("keep")


def test_a_failed_replace_keeps_the_current_version(guarded, tmp_path):
    store, snapshot = guarded
    before = snapshot()
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,x\n1,2\n3\n")
    with pytest.raises(InputError):
        segcore.import_file(store, bad, "keep", replace=True)
    assert snapshot() == before


def test_jsonl_event_log_imports(guarded, tmp_path):
    store, _ = guarded
    lines = [json.dumps({"visitor": f"v{i % 4}", "when": 1_780_000_000 + 3600 * i, "what": "view"})
             for i in range(40)]
    report = _import(store, tmp_path, "log.jsonl", "\n".join(lines).encode(), kind="events",
                     mapping={"user_id": "visitor", "timestamp": "when", "event_type": "what"})
    assert report.n_users == 4 and report.n_events == 40
    assert "epoch seconds" in " ".join(report.read_as)


def test_a_ragged_row_is_named_by_its_line_across_blank_lines_and_quoted_newlines(guarded, tmp_path):
    store, _ = guarded
    content = b'user_id,note\n1,"two\nlines"\n\n2,ok\n3\n'  # the short row sits on line 6
    with pytest.raises(InputError, match=r"^Line 6 of 'gaps.csv' has 1 field where the header has 2"):
        _import(store, tmp_path, "gaps.csv", content)


def test_text_of_digits_in_parquet_stays_text(guarded, tmp_path):
    """Parquet declares its types: codes like '0042' are not numbers (found by hypothesis)."""
    store, _ = guarded
    path = tmp_path / "codes.parquet"
    pd.DataFrame({"user_id": ["a", "b", "c", "d", "e"], "code": ["0042", "7", "13", "0", "x1"]}).to_parquet(path)
    segcore.import_file(store, path, "new")
    assert store.read_table("new", "users")["code"].tolist() == ["0042", "7", "13", "0", "x1"]
