"""Feature SQL on a tiny event log worked out by hand, and against pandas on generated logs."""

import math
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    gap = pd.Timestamp("2026-01-10 12:00") - pd.Timestamp("2026-01-05 23:30")
    assert u["recency_days"] == pytest.approx(gap.total_seconds() / 86400)
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
    assert "country" not in defaults and "share_deals" in defaults and len(defaults) == 30
    assert by_name["type_share_click"].group == "behaviour"  # 'click' is none of our kinds: a share of events


# --- the feature SQL against a plain pandas computation, on generated logs --------------------

_CATEGORIES = ["Shoes", "shoes ", "Books!", "home", "Other", "", "x y", "garden", "toys", "food", "tech",
               "art", "music", None]
_TYPES = ["page_view", "purchase", " Purchase ", "ad_click", "ad_impression", "add_to_cart"]
_DEVICES = ["mobile", "desktop", "tablet", " Mobile", "DESKTOP", None]


def _reference(ev: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    """Per-user features computed event by event with pandas, the way the SQL documents them."""
    import re

    ev = ev.dropna(subset=["user_id", "ts"]).copy()
    ev["event_type"] = ev["event_type"].str.strip().str.lower()
    ev["device"] = ev["device"].str.strip().str.lower()
    missing = ev["session_id"].isna()
    if missing.any():  # events without a session id are cut at 30 minutes of inactivity (after any event)
        ev = ev.sort_values(["user_id", "ts"], kind="stable")
        missing = ev["session_id"].isna()
        gap = (ev.groupby("user_id")["ts"].diff() > pd.Timedelta(minutes=30)) | ev.groupby("user_id").cumcount().eq(0)
        cut = (gap & missing).groupby(ev["user_id"]).cumsum()
        ev["session_id"] = ev["session_id"].astype("string").where(~missing, ev["user_id"] + "#" + cut.astype(str))
    t_ref = ev["ts"].max()
    buy = ev["event_type"] == "purchase"
    g = ev.groupby("user_id")
    sess = ev.assign(buy=buy).groupby(["user_id", "session_id"]).agg(first=("ts", "min"), last=("ts", "max"),
                                                                     buys=("buy", "sum"))
    out = pd.DataFrame({
        "n_events": g.size(),
        "recency_days": (t_ref - g["ts"].max()).dt.total_seconds() / 86400,
        "tenure_days": (t_ref - g["ts"].min()).dt.total_seconds() / 86400,
        "active_days": g["ts"].apply(lambda t: t.dt.date.nunique()),
        "n_sessions": sess.groupby("user_id").size(),
        "avg_session_minutes": ((sess["last"] - sess["first"]).dt.total_seconds() / 60).groupby("user_id").mean(),
        "conversion_rate": (sess["buys"] > 0).groupby("user_id").mean(),
        "n_purchases": buy.groupby(ev["user_id"]).sum(),
        "revenue": ev["amount"].where(buy).groupby(ev["user_id"]).sum(),
        "mobile_share": ev["device"].isin(["mobile", "phone", "tablet", "ios", "android"]).groupby(ev["user_id"]).sum()
        / ev["device"].notna().groupby(ev["user_id"]).sum().replace(0, float("nan")),
    })
    names = ev["category"].dropna().map(lambda c: re.sub(r"[^A-Za-z0-9]+", "_", c.strip(" ")).lower())
    names = names[names != ""]
    counts = names.value_counts()
    ranked = sorted((n for n in counts.index if n != "other"), key=lambda n: (-counts[n], n))
    column = {n: n for n in ranked[:top]} | {n: "other" for n in counts.index if n not in ranked[:top]}
    per_user = pd.crosstab(ev.loc[names.index, "user_id"], names.map(column))
    out["category_diversity"] = names.groupby(ev.loc[names.index, "user_id"]).nunique()
    out["category_diversity"] = out["category_diversity"].fillna(0)
    for col in per_user.columns:
        out[f"share_{col}"] = (per_user[col] / per_user.sum(axis=1)).reindex(out.index)
    return out


def _unsupported(ev: pd.DataFrame) -> set[str]:
    """The features a generated log cannot support, as the import documents them."""
    out = set()
    kinds = ev["event_type"].str.strip().str.lower()
    if (ev["ts"] == ev["ts"].dt.normalize()).all():  # dates only
        out |= {"night_share", "avg_session_minutes"}
        if ev["session_id"].isna().any():
            out |= {"n_sessions", "events_per_session", "cart_rate", "conversion_rate"}
    if not (kinds == "purchase").any():
        out |= {"n_purchases", "revenue", "avg_order_value", "conversion_rate"}
    elif ev.loc[kinds == "purchase", "amount"].isna().all():
        out |= {"revenue", "avg_order_value"}
    if ev["device"].isna().all():
        out.add("mobile_share")
    if not ev["category"].map(lambda c: isinstance(c, str) and re.sub(r"[^A-Za-z0-9]+", "", c) != "").any():
        out.add("category_diversity")
    return out


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_features_match_pandas_on_generated_logs(tmp_path_factory, data):
    n = data.draw(st.integers(1, 60), label="events")
    sessions = data.draw(st.sampled_from(["none", "text", "integers, some missing"]), label="session ids")
    ev = pd.DataFrame({
        "user_id": data.draw(st.lists(st.sampled_from(["a", "b", "c", "007"]), min_size=n, max_size=n)),
        "ts": pd.Timestamp("2026-03-01") + pd.to_timedelta(
            data.draw(st.lists(st.integers(0, 5 * 24 * 60), min_size=n, max_size=n)), unit="min"),
        "event_type": data.draw(st.lists(st.sampled_from(_TYPES), min_size=n, max_size=n)),
        "amount": data.draw(st.lists(st.sampled_from([None, 5.0, 12.5]), min_size=n, max_size=n)),
        "session_id": pd.array([None] * n, dtype="string") if sessions == "none" else pd.array(
            data.draw(st.lists(st.sampled_from(["s1", "s2", "s3"]), min_size=n, max_size=n)), dtype="string")
        if sessions == "text" else pd.array(  # kept as integers in Parquet (sessionise casts them)
            data.draw(st.lists(st.sampled_from([1, 2, 3, None]), min_size=n, max_size=n)), dtype="Int64"),
        "category": data.draw(st.lists(st.sampled_from(_CATEGORIES), min_size=n, max_size=n)),
        # the SQL reads the values as they are when all are canonical, and normalises them otherwise
        "device": data.draw(st.lists(st.sampled_from(_DEVICES), min_size=n, max_size=n)),
    })
    ev["amount"] = ev["amount"].astype("float64")
    how = data.draw(st.sampled_from(["parquet", "csv", "parquet, kept"]), label="read as")
    folder = tmp_path_factory.mktemp("gen")
    path = folder / f"ev.{how.split(',')[0]}"
    ev.to_parquet(path, index=False) if path.suffix == ".parquet" else ev.to_csv(path, index=False)
    store = segcore.open_store(folder / "s.duckdb", seed_sample=False)
    mapping = {r: r for r in ("user_id", "event_type", "amount", "session_id", "category", "device")}
    mapping["timestamp"] = "ts"
    segcore.import_file(store, path, "g", kind="events", mapping=mapping, keep_events=how.endswith("kept"))
    got = store.read_table("g").set_index("user_id")
    want = _reference(ev)
    assert sorted(got.index) == sorted(want.index)
    # only what the log supports is built, and what is not says so
    left_out = _unsupported(ev)
    assert set(store.dataset("g").event_facts["left_out"]) & set(want.columns) == left_out & set(want.columns)
    for col in want.columns:
        if col in left_out:
            assert col not in got.columns, col
            continue
        assert col in got.columns, col
        pd.testing.assert_series_equal(got[col].astype(float), want[col].reindex(got.index).astype(float),
                                       check_names=False, rtol=1e-9, obj=col)
    shares = [c for c in got.columns if c.startswith("share_")]
    assert sorted(shares) == sorted(c for c in want.columns if c.startswith("share_"))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_recency_counts_from_the_last_event_with_a_user(tmp_path, fmt):
    # the log's last event has no user: it counts in the quality report, not as the reference time
    ev = pd.DataFrame({"user_id": ["a", "b", None], "event_type": ["page_view"] * 3,
                       "ts": pd.to_datetime(["2026-03-01 10:00", "2026-03-02 10:00", "2026-03-06 10:00"]),
                       "session_id": ["s1", None, "s3"]})
    path = tmp_path / f"ev.{fmt}"
    ev.to_parquet(path, index=False) if fmt == "parquet" else ev.to_csv(path, index=False)
    store = segcore.open_store(tmp_path / "s.duckdb", seed_sample=False)
    mapping = {"user_id": "user_id", "event_type": "event_type", "timestamp": "ts", "session_id": "session_id"}
    segcore.import_file(store, path, "g", kind="events", mapping=mapping)
    got = store.read_table("g").set_index("user_id")
    assert got.loc["a", "recency_days"] == 1.0 and got.loc["b", "recency_days"] == 0.0
    assert got["n_sessions"].to_dict() == {"a": 1, "b": 1}  # b's event without a session id is cut into one
    facts = store.dataset("g").event_facts
    assert facts["events_without_user"] == 1 and facts["last_event"].startswith("2026-03-06")
