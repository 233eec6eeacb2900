"""Real logs that we did not make (tests/data/README.md), through the command line as a user runs it.

For each: the import reads the log for what it is, no default feature is constant, empty or a
duplicate, money follows the amounts (checked against pandas), the KPIs the data supports have
values and the others say what they need, and persona names and descriptions use no word the data
cannot support.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import segcore as cli

import segcore

DATA = Path(__file__).resolve().parent / "data"
CDNOW = DATA / "cdnow" / "cdnow_sample.csv"
ECOM = DATA / "retentioneering_ecom" / "ecom_extract.csv"

# Words a description may only use when the data has what they speak of.
_TIME_OF_DAY = r"night|by day|session|visit|quick visits"
_ADS = r"\bads?\b|ad-|click"
_MONEY = r"spend|basket|revenue|order value"
_DEVICE = r"mobile|desktop"


@pytest.fixture(scope="module")
def real_store(tmp_path_factory, sample_store):
    """A copy of the sample store with both real logs imported through the command line, and a run on each."""
    path = tmp_path_factory.mktemp("real") / "real.duckdb"
    shutil.copy(sample_store.path, path)
    reports = {"cdnow": cli("import", str(CDNOW), "--name", "cdnow", "--kind", "events", store=path).stdout,
               "ecom": cli("import", str(ECOM), "--name", "ecom", "--kind", "events", store=path).stdout}
    runs, sweeps = {}, {}
    for name in reports:
        sweeps[name] = json.loads(cli("sweep", name, "--k", "2-6", "--json", store=path).stdout)
        runs[name] = cli("run", name, "--k", str(sweeps[name]["recommended_k"]), store=path).stdout.split()[-1]
    return path, reports, runs, sweeps


def _defaults(path, name):
    catalogue = json.loads(cli("features", name, "--json", store=path).stdout)
    return catalogue, [f["name"] for f in catalogue["features"] if f["default"]]


def _assert_defaults_are_usable(features: pd.DataFrame, defaults: list[str]):
    for f in defaults:
        values = pd.to_numeric(features[f], errors="coerce")
        assert values.notna().mean() > 0.5, f"{f} is mostly empty"
        assert values.nunique() > 1, f"{f} is constant"
    rho = features[defaults].apply(pd.to_numeric, errors="coerce").corr(method="spearman").abs()
    twins = [(a, b) for i, a in enumerate(defaults) for b in defaults[i + 1:] if rho.loc[a, b] >= 0.995]
    assert not twins, twins


def _assert_words(text: str, forbidden: list[str]):
    for pattern in forbidden:
        assert not re.search(pattern, text, re.IGNORECASE), (pattern, text)


# --- a real retailer's transaction log ---------------------------------------------------------

def test_cdnow_is_read_as_a_transaction_log_of_dates(real_store):
    _, reports, _, _ = real_store
    report = reports["cdnow"]
    assert "2,357 customers from 6,919 transactions" in report
    assert "a transaction log: every row is a purchase" in report
    assert "times are dates only" in report
    assert "timestamps in 'date' as dates written as YYYYMMDD" in report
    # every column of the file says what became of it; the item count is not dropped without a word
    for line in ("column 'customer_id': used as user id", "column 'date': used as timestamp",
                 "column 'number_of_cds': used as quantity", "column 'dollar_value': used as amount"):
        assert line in report


def test_cdnow_money_follows_the_amounts(real_store):
    path, _, _, _ = real_store
    log = pd.read_csv(CDNOW, dtype={"customer_id": str})
    feats = segcore.Store(path).read_table("cdnow").set_index("user_id")
    by_customer = log.groupby("customer_id")
    assert len(feats) == log["customer_id"].nunique()
    np.testing.assert_allclose(feats["revenue"], by_customer["dollar_value"].sum().reindex(feats.index), rtol=1e-9)
    np.testing.assert_allclose(feats["items"], by_customer["number_of_cds"].sum().reindex(feats.index))
    # an order is a customer's purchases on one day (the log has no order ids and no times)
    orders = by_customer["date"].nunique().reindex(feats.index)
    np.testing.assert_array_equal(feats["n_purchases"], orders)
    np.testing.assert_allclose(feats["avg_order_value"], feats["revenue"] / orders, rtol=1e-9)
    # days between a repeat customer's first and last order, over the gaps between them
    dates = pd.to_datetime(log["date"].astype(str), format="%Y%m%d")
    span = dates.groupby(log["customer_id"]).agg(["min", "max"]).reindex(feats.index)
    repeat = orders > 1
    expected = (span["max"] - span["min"]).dt.days[repeat] / (orders[repeat] - 1)
    np.testing.assert_allclose(feats.loc[repeat, "purchase_interval_days"], expected, rtol=1e-9)
    assert feats.loc[~repeat, "purchase_interval_days"].isna().all()


def test_cdnow_default_features_are_usable(real_store):
    path, _, _, _ = real_store
    catalogue, defaults = _defaults(path, "cdnow")
    assert {"recency_days", "n_purchases", "revenue", "avg_order_value"} <= set(defaults)
    not_built = {f["feature"] for f in catalogue["not_built"]}
    assert {"night_share", "ad_impressions", "avg_session_minutes", "n_sessions"}.isdisjoint(
        {f["name"] for f in catalogue["features"]})
    assert "n_returns" in not_built  # the log has no returns: not a column of zeros
    # mostly missing (one-time buyers have no gap between orders): offered, not chosen
    assert "purchase_interval_days" not in defaults
    _assert_defaults_are_usable(segcore.Store(path).read_table("cdnow"), defaults)


def test_cdnow_kpis_fit_a_transaction_log(real_store):
    path, _, runs, _ = real_store
    out = json.loads(cli("kpis", runs["cdnow"], "--json", store=path).stdout)
    shown = [k["name"] for k in out["kpis"]]
    assert shown == ["revenue_per_user", "orders_per_user", "avg_order_value", "repeat_rate", "churn_rate"]
    assert {k["name"] for k in out["not_available"]} == {"ctr", "conversion_rate"}
    assert any("a transaction log records purchases only" in k["why"] for k in out["not_available"])
    churn = next(k for k in out["kpis"] if k["name"] == "churn_rate")["definition"]
    assert "own average gap between orders" in churn
    log = pd.read_csv(CDNOW, dtype={"customer_id": str})
    everyone = next(s for s in out["segments"] if s["segment"] == "All users")
    assert everyone["revenue_per_user"] == pytest.approx(log["dollar_value"].sum() / log["customer_id"].nunique())
    repeaters = (log.groupby("customer_id")["date"].nunique() >= 2).mean()
    assert everyone["repeat_rate"] == pytest.approx(repeaters)
    for seg in out["segments"]:
        assert not seg["withheld"]
        assert all(seg[k] is not None and np.isfinite(seg[k]) for k in shown), seg
        # each figure on real customers: an interval around it, or the reason there is none
        for k in shown:
            cell = seg["evidence"][k]
            if cell["reason"] and cell["reason"].startswith("not enough data"):
                assert cell["value"] is None and cell["q"] is None
            else:
                assert cell["ci_low"] <= cell["value"] <= cell["ci_high"], (seg["segment"], k, cell)
                assert cell["value"] == pytest.approx(seg[k]), (k, cell, seg[k])
                if seg["segment"] != "All users" and not cell["reason"]:
                    assert 0 <= cell["p"] <= cell["q"] <= 1


def test_cdnow_personas_speak_of_customers_not_sessions(real_store):
    path, _, runs, sweeps = real_store
    personas = segcore.Store(path).personas(runs["cdnow"])
    text = " ".join(personas["name"] + " " + personas["description"])
    _assert_words(text, [_TIME_OF_DAY, _ADS, _DEVICE, r"cart|weekend|weekday"])
    assert sweeps["cdnow"]["reason"]
    profile = cli("profile", runs["cdnow"], store=path).stdout
    _assert_words(profile.split("separates segments most")[0], [_TIME_OF_DAY, _ADS, _DEVICE])


def _assert_cards_hold_up(cards: list[dict]):
    """Each card of a real run: a narrative without n/a or nan, and every difference it states holds up."""
    for card in cards:
        assert not re.search(r"\bnan\b|n/a", card["narrative"]), card["narrative"]
        for t in card["traits"]:
            if t["significant"]:
                assert t["q"] < 0.05 and (t["diff_low"] > 0 or t["diff_high"] < 0), t
            assert (t["mean"] > t["rest"]) == (t["diff"] > 0), t
        for k in card["kpis"]:
            if k["significant"]:
                assert k["q"] < 0.05, k
        assert len(card["angles"]) <= 3


def test_cdnow_cards_state_what_holds_up_and_suggest_no_clickstream_angle(real_store):
    path, _, runs, _ = real_store
    cards = json.loads(cli("cards", runs["cdnow"], "--json", store=path).stdout)["cards"]
    _assert_cards_hold_up(cards)
    angles = " ".join(a["angle"] + " " + a["because"] for c in cards for a in c["angles"])
    # a transaction log has no sessions, ads, times of day or devices to build an angle on
    _assert_words(angles, [_TIME_OF_DAY, _ADS, _DEVICE, r"cart"])
    # the customers who have not bought for longest are offered a win-back, on the evidence of their recency
    lapsed = max(cards, key=lambda c: next((t["mean"] for t in c["traits"] if t["feature"] == "recency_days"), 0))
    assert any(a["angle"].startswith("Win-back") and "Days since last activity" in a["because"]
               for a in lapsed["angles"]), lapsed["angles"]


def test_cdnow_report_opens_with_every_section(real_store, tmp_path):
    path, _, runs, _ = real_store
    out = tmp_path / "cdnow.html"
    cli("report", runs["cdnow"], "--out", str(out), store=path)
    page = out.read_text(encoding="utf-8")
    for section in ("data", "method", "map", "profiles", "personas", "kpis", "fairness"):
        assert f'<section id="{section}">' in page
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)  # what a reader sees, not plotly's code
    assert not re.search(r"\bnan\b|n/a", text), re.findall(r".{60}(?:\bnan\b|n/a).{60}", text)[:3]
    assert "transaction log" in text and "cdnow_sample.csv" in text


# --- a clickstream in its own vocabulary ---------------------------------------------------------

def test_ecom_vocabulary_is_proposed_and_said(real_store):
    _, reports, _, _ = real_store
    report = reports["ecom"]
    assert "purchase = 'purchase'" in report and "add to cart = 'add_to_cart'" in report
    assert "product view = 'product_view'" in report
    assert "no event type was read as ad impression, ad click, sign-up" in report
    assert "'catalog'" in report and "count as activity" in report
    # columns no role takes are kept per user, not lost
    assert "column 'acquisition_channel': used as channel" in report
    assert "column 'user_cohort': kept per user as its last value" in report
    assert "not built: revenue (needs amounts on purchase events)" in report


def test_ecom_counts_follow_the_log(real_store):
    path, _, _, _ = real_store
    log = pd.read_csv(ECOM)
    feats = segcore.Store(path).read_table("ecom").set_index("user_id")
    counts = log.groupby("user_id")["event"].value_counts().unstack(fill_value=0).reindex(feats.index)
    np.testing.assert_array_equal(feats["n_purchases"], counts["purchase"])
    np.testing.assert_array_equal(feats["add_to_cart"], counts["add_to_cart"])
    np.testing.assert_array_equal(feats["product_views"], counts["product_view"])
    np.testing.assert_array_equal(feats["n_events"], log.groupby("user_id").size().reindex(feats.index))
    np.testing.assert_array_equal(feats["n_sessions"], log.groupby("user_id")["session_id"].nunique()
                                  .reindex(feats.index))
    # the channel a user came by first; the cohort they belong to (the last value, one per user here)
    ordered = log.sort_values("timestamp").groupby("user_id")
    assert (feats["channel"] == ordered["acquisition_channel"].first().reindex(feats.index)).all()
    assert (feats["user_cohort"] == ordered["user_cohort"].last().reindex(feats.index)).all()
    assert {"revenue", "ad_impressions", "ctr"}.isdisjoint(feats.columns)


def test_ecom_default_features_are_usable(real_store):
    path, _, _, _ = real_store
    catalogue, defaults = _defaults(path, "ecom")
    assert {"n_purchases", "add_to_cart", "product_views"} <= set(defaults)
    assert "channel" not in defaults  # an attribute: compared afterwards, not clustered on
    feats = segcore.Store(path).read_table("ecom")
    _assert_defaults_are_usable(feats, defaults)
    # the suggestions name duplicates, and the defaults keep only one of each
    twins = [s for s in catalogue["suggestions"] if s["issue"] == "correlated" and "1.00" in s["detail"]]
    for s in twins:
        assert not set(s["features"]) <= set(defaults), s


def test_ecom_kpis_have_no_nan(real_store):
    path, _, runs, _ = real_store
    out = json.loads(cli("kpis", runs["ecom"], "--json", store=path).stdout)
    shown = [k["name"] for k in out["kpis"]]
    assert "conversion_rate" in shown and "churn_rate" in shown and "orders_per_user" in shown
    assert {"ctr", "revenue_per_user", "avg_order_value"} <= {k["name"] for k in out["not_available"]}
    everyone = next(s for s in out["segments"] if s["segment"] == "All users")
    assert all(everyone[k] is not None and np.isfinite(everyone[k]) for k in shown)
    for seg in out["segments"]:
        for k in shown:
            # a value, or none because the segment has nothing to measure it on (no buyers for repeat rate)
            assert seg[k] is not None or (k == "repeat_rate" and seg["orders_per_user"] == 0), (k, seg)
            # conversion on a real clickstream: sessions bunch within users, and the interval is over users
            cell = seg["evidence"][k]
            assert (cell["value"] is None) == bool(cell["reason"] and cell["reason"].startswith("not enough")), cell
            if cell["value"] is not None:
                assert cell["ci_low"] <= cell["value"] <= cell["ci_high"] and cell["value"] == pytest.approx(seg[k])
    text = cli("kpis", runs["ecom"], store=path).stdout
    assert "nan" not in text.lower()


def test_ecom_cards_speak_of_no_money_and_no_ads(real_store):
    path, _, runs, _ = real_store
    cards = json.loads(cli("cards", runs["ecom"], "--json", store=path).stdout)["cards"]
    _assert_cards_hold_up(cards)
    _assert_words(" ".join(c["narrative"] + " ".join(a["angle"] for a in c["angles"]) for c in cards), [_MONEY, _ADS])


def test_ecom_personas_speak_of_no_money_and_no_ads(real_store):
    path, _, runs, _ = real_store
    personas = segcore.Store(path).personas(runs["ecom"])
    _assert_words(" ".join(personas["name"] + " " + personas["description"]), [_MONEY, _ADS])


@pytest.mark.slow
def test_a_vocabulary_of_its_own_is_translated(tmp_path, cli_store):
    """The same clickstream with renamed events: --event says which mean purchase and add to cart."""
    log = pd.read_csv(ECOM)
    log["event"] = log["event"].replace({"purchase": "Order_Completed", "add_to_cart": "warenkorb"})
    f = tmp_path / "renamed.csv"
    log.to_csv(f, index=False)
    report = cli("import", str(f), "--name", "renamed", "--kind", "events",
                 "--event", "purchase=order_completed", "add_to_cart=warenkorb", store=cli_store).stdout
    assert "purchase = 'order_completed'" in report and "add to cart = 'warenkorb'" in report
    feats = segcore.Store(cli_store).read_table("renamed").set_index("user_id")
    truth = (log["event"] == "Order_Completed").groupby(log["user_id"]).sum().reindex(feats.index)
    np.testing.assert_array_equal(feats["n_purchases"], truth)
    # not given, but named as our kind is: still a product view
    np.testing.assert_array_equal(feats["product_views"], (log["event"] == "product_view").groupby(log["user_id"])
                                  .sum().reindex(feats.index))
    bad = cli("import", str(f), "--name", "bad", "--kind", "events", "--event", "purchase=x", "sign_up=x",
              store=cli_store, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "both purchase and sign_up" in bad.stderr


@pytest.fixture
def cli_store(tmp_path, sample_store):
    dst = tmp_path / "cli.duckdb"
    shutil.copy(sample_store.path, dst)
    return dst


@pytest.mark.slow
def test_a_log_imported_as_a_users_table_is_refused_unless_allowed(cli_store):
    refused = cli("import", str(CDNOW), "--name", "crm", "--id", "customer_id", store=cli_store, check=False)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "4,562 rows of 'cdnow_sample.csv' repeat a user id" in refused.stderr and "event" in refused.stderr
    assert "crm" not in segcore.Store(cli_store).list_datasets()["name"].tolist()
    out = cli("import", str(CDNOW), "--name", "crm", "--id", "customer_id", "--allow-repeated-ids",
              store=cli_store).stdout
    assert "2,357 users" in out and "4,562 rows of 'cdnow_sample.csv' repeat a user id" in out
