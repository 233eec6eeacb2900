"""The quality report finds each planted problem, says what to do, and stays quiet about healthy data."""

import duckdb
import pytest

import segcore
from segcore.workflow import quality_report


def _lines(report):
    return [f.line() for f in report.findings]


def test_planted_problems_in_a_users_table(empty_store, tmp_path):
    rows = ["user_id,plan,score,empty,sparse"]
    for i in range(100):
        score = 1000 if i % 10 == 0 else i % 7  # 10% extreme values
        sparse = "" if i % 4 else "1.5"  # 75% missing
        rows.append(f"u{i:03d},gold,{score},,{sparse}")
    rows += [rows[-1]] * 2  # one id three times (one row per id is segmented)
    f = tmp_path / "u.csv"
    f.write_text("\n".join(rows))
    segcore.import_file(empty_store, f, "crm")
    report = quality_report(empty_store, "crm")
    text = "\n".join(_lines(report))
    assert "column 'plan': has a single value for every user" in text
    assert "column 'empty': has no values" in text
    assert "column 'sparse': is 75% missing" in text
    assert "extreme outliers (beyond 3 IQR) are common in score (10%)" in text
    assert "column 'user_id': 2 user ids appear more than once" in text
    assert report.columns.set_index("column").loc["sparse", "missing_share"] == 0.75


@pytest.mark.parametrize("kept", ["not kept", "kept", "kept by a store without the import's counts"])
def test_planted_problems_in_an_event_log(empty_store, tmp_path, kept):
    lines = ["uid,when,what"]
    lines += [f"a,2026-01-0{d} 10:00:00,page_view" for d in range(1, 8)]
    lines += ["b,2026-01-02 10:00:00,page_view", "b,not a date,click", ",2026-01-03 10:00:00,click"]
    f = tmp_path / "e.csv"
    f.write_text("\n".join(lines))
    segcore.import_file(empty_store, f, "log", kind="events", mapping={"user_id": "uid", "timestamp": "when",
                                                                      "event_type": "what"},
                        keep_events=kept != "not kept")
    assert ("events" in empty_store.tables("log")) == (kept != "not kept")
    if kept.startswith("kept by"):  # the counts are then taken from the kept log
        with duckdb.connect(str(empty_store.path)) as con:
            con.execute("UPDATE datasets SET event_facts = NULL")
    report = quality_report(empty_store, "log")
    text = "\n".join(_lines(report))
    assert "1 of 10 events have no readable time" in text
    assert "1 events have no user id" in text
    assert "1 users (50%) have fewer than 3 events" in text and text.count("warning: 1 users") == 1
    assert "info: events from 2026-01-01 to 2026-01-07" in text
    assert report.facts["events"] == 10


def test_the_sample_has_only_the_expected_findings(sample_store):
    report = quality_report(sample_store, "sample")
    text = "\n".join(_lines(report))
    assert "avg_order_value': is 70% missing" in text  # non-buyers have no average order
    assert "appear more than once" not in text and "no readable time" not in text
    assert "events from 2026-04-01 to 2026-10-01" in text
