"""KPIs over time (issue 18): per week or month of activity, hand-worked, adding up to the whole log, and on
a real retailer's log against pandas."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import segcore as cli

import segcore
from segcore.errors import InputError
from segcore.trends import kpi_trends
from segcore.workflow import run_kpi_trends

CDNOW = Path(__file__).resolve().parent / "data" / "cdnow" / "cdnow_sample.csv"


def _activity(rows):
    cols = ["cluster", "period", "active_users", "n_events", "sessions", "converting_sessions", "n_purchases",
            "revenue", "order_value", "ad_impressions", "ad_clicks"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["period"] = pd.to_datetime(frame["period"])
    return frame


def test_a_periods_kpis_are_over_its_active_users():
    act = _activity([
        (0, "2026-03-30", 40, 400, 80, 8, 10, 500.0, 520.0, 100, 5),
        (0, "2026-04-06", 50, 500, 100, 20, 25, 1000.0, 1000.0, 200, 30),
        (1, "2026-04-06", 60, 300, 60, 3, 4, 80.0, 80.0, 0, 0),
        (2, "2026-04-06", 10, 10, 10, 1, 1, 5.0, 5.0, 10, 1),  # withheld: below the minimum size
    ])
    trends = kpi_trends(act, {0: "Buyers", 1: "Browsers", 2: "Few"}, {0: 200, 1: 300, 2: 12}, grain="week",
                        kpis=["ctr", "conversion_rate", "revenue_per_user", "avg_order_value", "churn_rate"],
                        units={"ctr": "rate", "revenue_per_user": "money", "avg_order_value": "money"},
                        span=("2026-04-01 08:00", "2026-04-12 23:00"), min_segment_size=50)
    t = trends.table.set_index(["segment", "period"])
    week = pd.Timestamp("2026-04-06")
    assert t.loc[("Buyers", week), "ctr"] == pytest.approx(30 / 200)
    assert t.loc[("Buyers", week), "conversion_rate"] == pytest.approx(20 / 100)
    assert t.loc[("Buyers", week), "revenue_per_user"] == pytest.approx(1000 / 50)
    # returns are in revenue, not in the value of orders
    assert t.loc[("Buyers", pd.Timestamp("2026-03-30")), "avg_order_value"] == pytest.approx(520 / 10)
    assert np.isnan(t.loc[("Browsers", week), "ctr"])  # no impressions: nothing to measure
    # all users: the shown segments' sums, the withheld one's users in no baseline
    assert t.loc[("All users", week), "active_users"] == 110
    assert t.loc[("All users", week), "revenue_per_user"] == pytest.approx(1080 / 110)
    assert "Few" not in set(trends.table["segment"]) and trends.withheld == ["Few"]
    # the log starts on a Wednesday: its first week is partial; the week of 6 April is whole
    assert t.loc[("Buyers", pd.Timestamp("2026-03-30")), "partial"] and not t.loc[("Buyers", week), "partial"]
    assert "churn_rate" in trends.not_over_time and "churn_rate" not in trends.kpis


def test_a_period_with_too_few_active_users_has_no_figure():
    act = _activity([(0, "2026-04-01", 29, 100, 30, 3, 3, 30.0, 30.0, 0, 0),
                     (1, "2026-04-01", 30, 100, 30, 3, 3, 30.0, 30.0, 0, 0)])
    trends = kpi_trends(act, {0: "A", 1: "B"}, {0: 100, 1: 100}, grain="month", kpis=["revenue_per_user"],
                        units={}, span=("2026-04-01", "2026-04-30"))
    t = trends.table.set_index("segment")
    assert np.isnan(t.loc["A", "revenue_per_user"]) and not t.loc["A", "enough"]
    assert t.loc["B", "revenue_per_user"] == pytest.approx(1.0)
    out = trends.to_dict()
    assert next(p for p in out["periods"] if p["segment"] == "A")["reason"].startswith("not enough data")
    with pytest.raises(InputError, match="(?i)grain"):
        kpi_trends(act, {}, {}, grain="day", kpis=[], units={}, span=("2026-04-01", "2026-04-30"))


def test_the_periods_add_up_to_the_whole_log(sample_store, sample_run):
    """Over every month, the run's purchases, revenue and events are the per-user features' totals."""
    features = sample_store.read_table("sample", "features", ["user_id", "n_purchases", "revenue", "n_events"])
    act = sample_store.activity_by_segment(sample_run, "month")
    assert act["n_purchases"].sum() == features["n_purchases"].sum()
    assert act["n_events"].sum() == features["n_events"].sum()
    assert act["revenue"].sum() == pytest.approx(features["revenue"].sum())
    weeks = sample_store.activity_by_segment(sample_run, "week")
    assert weeks["revenue"].sum() == pytest.approx(features["revenue"].sum())


@pytest.fixture(scope="module")
def cdnow_store(tmp_path_factory, sample_store):
    path = tmp_path_factory.mktemp("trends") / "cdnow.duckdb"
    shutil.copy(sample_store.path, path)
    cli("import", str(CDNOW), "--name", "cdnow", "--kind", "events", store=path)
    run_id = cli("run", "cdnow", "--k", "3", store=path).stdout.split()[-1]
    return path, run_id


def test_cdnow_by_month_is_pandas_on_the_csv(cdnow_store):
    path, run_id = cdnow_store
    out = json.loads(cli("kpis", run_id, "--by", "month", "--json", store=path).stdout)
    assert [k["name"] for k in out["kpis"]] == ["revenue_per_user", "orders_per_user", "avg_order_value"]
    assert set(out["not_over_time"]) == {"repeat_rate", "churn_rate"}
    log = pd.read_csv(CDNOW, dtype={"customer_id": str})
    log["month"] = pd.to_datetime(log["date"].astype(str)).dt.to_period("M").dt.start_time
    by_month = log.groupby("month").agg(users=("customer_id", "nunique"), revenue=("dollar_value", "sum"),
                                        rows=("dollar_value", "size"))
    # an order is a customer's rows on one date, in this log of dates
    by_month["orders"] = log.groupby("month").apply(lambda g: len(g[["customer_id", "date"]].drop_duplicates()))
    everyone = {p["period"]: p for p in out["periods"] if p["segment"] == "All users"}
    assert len(everyone) == len(by_month) == 18
    for month, row in by_month.iterrows():
        got = everyone[str(month.date())]
        assert got["active_users"] == row["users"]
        assert got["revenue_per_user"] == pytest.approx(row["revenue"] / row["users"])
        assert got["orders_per_user"] == pytest.approx(row["orders"] / row["users"])
    assert not any(p["partial"] for p in everyone.values())  # the log runs from 1 January to 30 June


def test_a_dataset_without_activity_says_how_to_get_it(cdnow_store, tmp_path):
    path, run_id = cdnow_store
    copy = tmp_path / "old.duckdb"
    shutil.copy(path, copy)
    import duckdb

    con = duckdb.connect(str(copy))
    con.execute('DROP TABLE "ds:cdnow:activity"')  # as a store imported before activity was counted
    con.close()
    done = cli("kpis", run_id, "--by", "week", store=copy, check=False)
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1
    assert "import its log again" in done.stderr
    with pytest.raises(InputError, match="(?i)no activity over time"):
        run_kpi_trends(segcore.Store(copy), run_id)
