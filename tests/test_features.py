"""Feature SQL on a tiny event log worked out by hand."""

import math

import pandas as pd
import pytest

import segcore
from segcore.features import catalog, default_features

EVENTS = """user_id,ts,event_type,amount,session_id,category,device
007,2026-01-01 10:00:00,page_view,,s1,Shoes,mobile
007,2026-01-01 10:05:00,ad_impression,,s1,Shoes,mobile
007,2026-01-01 10:06:00,ad_click,,s1,Shoes,mobile
007,2026-01-01 10:10:00,purchase,30.0,s1,Shoes,mobile
007,2026-01-05 23:00:00,page_view,,s2,Books,desktop
007,2026-01-05 23:30:00,purchase,10.0,s2,Books,desktop
8,2026-01-10 12:00:00,page_view,,s3,Books,desktop
8,2026-01-10 12:00:00,ad_impression,,s3,Books,desktop
"""


@pytest.fixture
def tiny(empty_store, tmp_path):
    f = tmp_path / "events.csv"
    f.write_text(EVENTS)
    segcore.import_file(empty_store, f, "tiny", kind="events", mapping={
        "user_id": "user_id", "timestamp": "ts", "event_type": "event_type", "amount": "amount",
        "session_id": "session_id", "category": "category", "device": "device"})
    return empty_store.read_table("tiny").set_index("user_id")


def test_features_match_hand_computation(tiny):
    assert list(tiny.index) == ["007", "8"]  # ids kept as text, leading zeros included
    u = tiny.loc["007"]
    # reference time = last event in the log: 2026-01-10 12:00
    assert u["recency_days"] == pytest.approx((pd.Timestamp("2026-01-10 12:00") - pd.Timestamp("2026-01-05 23:30")).total_seconds() / 86400)
    assert u["tenure_days"] == pytest.approx(9 + 2 / 24)
    assert u["n_sessions"] == 2 and u["n_events"] == 6 and u["events_per_session"] == 3
    assert u["avg_session_minutes"] == pytest.approx((10 + 30) / 2)
    assert u["n_purchases"] == 2 and u["revenue"] == 40 and u["avg_order_value"] == 20
    assert u["conversion_rate"] == 1.0  # both sessions bought
    assert u["ad_impressions"] == 1 and u["ad_clicks"] == 1 and u["ctr"] == 1.0
    assert u["mobile_share"] == pytest.approx(4 / 6)
    assert u["night_share"] == pytest.approx(2 / 6)  # 23:00 and 23:30
    assert u["category_diversity"] == 2
    assert u["share_shoes"] == pytest.approx(4 / 6) and u["share_books"] == pytest.approx(2 / 6)
    v = tiny.loc["8"]
    assert v["recency_days"] == 0 and v["n_purchases"] == 0 and v["revenue"] == 0
    assert math.isnan(v["avg_order_value"])  # no orders: missing, imputed later and visibly
    assert v["ctr"] == 0 and v["share_books"] == 1 and v["share_shoes"] == 0


def test_sessions_are_cut_at_30_minutes_when_the_log_has_no_session_id(empty_store, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("uid,when\na,2026-01-01 10:00:00\na,2026-01-01 10:20:00\na,2026-01-01 10:51:00\n"
                 "a,2026-01-01 11:15:00\nb,2026-01-01 09:00:00\n")
    segcore.import_file(empty_store, f, "nosess", kind="events", mapping={"user_id": "uid", "timestamp": "when"})
    feats = empty_store.read_table("nosess").set_index("user_id")
    assert feats.loc["a", "n_sessions"] == 2  # 10:00-10:20 | 10:51-11:15 (31 min gap cuts)
    assert feats.loc["b", "n_sessions"] == 1


def test_catalog_groups_and_defaults(sample_store):
    infos = catalog(sample_store.columns("sample"), sample_store.summarize("sample"))
    by_name = {f.name: f for f in infos}
    assert by_name["recency_days"].group == "behaviour"
    assert by_name["revenue"].group == "value"
    assert by_name["night_share"].group == "context"
    assert by_name["country"].group == "attributes" and by_name["country"].kind == "categorical"
    assert "email" not in by_name  # hashed ids are not features
    assert "user_id" not in by_name and "churned" not in by_name
    defaults = default_features(infos)
    assert "country" not in defaults and "share_deals" in defaults and len(defaults) == 28
