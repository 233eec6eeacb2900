"""Shapes of logs, worked by hand: transaction logs (returns, order lines, unit prices), logs of dates
only, event vocabularies in other words and languages, columns kept per user, and RFM scoring."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import segcore
from segcore._mapping import propose_event_vocabulary, propose_mapping, propose_shape, timestamp_format
from segcore.errors import InputError
from segcore.kpi import kpi_report
from segcore.rfm import RFM_GROUPS, rfm_groups, rfm_scores


def _counts(rows):
    return pd.DataFrame(rows, columns=["value", "events", "with_amount"])


def test_event_vocabulary_from_names_in_several_languages():
    vocab = propose_event_vocabulary(_counts([
        ("seite_angesehen", 500, 0), ("in_den_warenkorb", 40, 0), ("Bestellung", 10, 10), ("view_item", 200, 0),
        ("Ad Impression", 90, 0), ("clic_pub", 5, 0), ("registrierung", 3, 0), ("cart", 60, 0)]))
    assert vocab == {"add_to_cart": ["in_den_warenkorb"], "purchase": ["Bestellung"], "product_view": ["view_item"],
                     "ad_impression": ["Ad Impression"], "ad_click": ["clic_pub"], "sign_up": ["registrierung"]}
    # 'cart' is a page (the cart viewed), not adding to it; 'payment_details' is a step, not the purchase
    assert "cart" not in sum(vocab.values(), [])


def test_the_rarest_event_carrying_amounts_is_the_purchase_when_no_name_says_so():
    vocab = propose_event_vocabulary(_counts([
        ("seen", 1000, 0), ("basket_total_shown", 80, 80), ("done", 12, 12), ("refund_note", 30, 3)]))
    assert vocab == {"purchase": ["done"]}
    assert propose_event_vocabulary(_counts([("seen", 10, 0), ("other", 5, 1)])) == {}


def test_a_page_view_that_carries_the_price_is_not_proposed_as_the_purchase():
    # found by the generated-log property test: a log of page views with the page's price came out with
    # every view counted as an order and its price as revenue
    assert propose_event_vocabulary(_counts([("page_view", 40, 40)])) == {}
    assert propose_event_vocabulary(_counts([("Page View", 40, 40), ("search", 9, 9), ("txn", 12, 12)])) == \
        {"purchase": ["txn"]}


def test_dates_written_as_numbers_are_read_as_dates():
    fmt = timestamp_format(pd.Series([19970101, 19970118, 19980630]))
    assert (fmt.transform, fmt.arg, fmt.share) == ("strptime", "%Y%m%d", 1.0)
    assert timestamp_format(pd.Series(["19970101", "19971231"])).arg == "%Y%m%d"
    assert timestamp_format(pd.Series([1_700_000_000, 1_700_000_100])).transform == "epoch_s"  # not dates


def test_shape_and_roles_proposed_for_an_order_export():
    cols = ["Kundennummer", "Rechnungsnummer", "Datum", "Menge", "Einzelpreis", "Warengruppe"]
    mapping = propose_mapping(cols)
    assert mapping == {"user_id": "Kundennummer", "timestamp": "Datum", "quantity": "Menge",
                       "unit_price": "Einzelpreis", "order_id": "Rechnungsnummer", "category": "Warengruppe"}
    assert propose_shape(mapping) == "transactions"
    assert propose_shape({**mapping, "event_type": "x"}) == "events"
    assert propose_shape({"user_id": "u", "timestamp": "t"}) == "events"


def _write(tmp_path, name, frame):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_order_lines_with_unit_prices_and_returns(tmp_path, empty_store):
    """Three customers' order lines: value = quantity x unit price; a negative quantity is a return."""
    lines = pd.DataFrame({
        "customer": ["a", "a", "a", "a", "b", "b", "c"],
        "invoice": ["1", "1", "2", "R3", "4", "5", "6"],
        "when": ["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-11 09:00", "2024-01-12 09:00",
                 "2024-01-05 12:00", "2024-01-25 12:00", "2024-01-31 18:00"],
        "qty": [2, 1, 1, -1, 3, 1, 5],
        "price": [10.0, 5.0, 20.0, 20.0, 2.0, 2.0, 1.0]})
    path = _write(tmp_path, "lines.csv", lines)
    report = segcore.import_file(empty_store, path, "lines", kind="events", mapping={
        "user_id": "customer", "order_id": "invoice", "timestamp": "when", "quantity": "qty", "unit_price": "price"})
    assert report.shape == "transactions"
    f = empty_store.read_table("lines").set_index("user_id")
    # a: orders 1 (2x10 + 1x5 = 25) and 2 (20), then returns one item of 20: spent 25 net
    assert f.loc["a", "n_purchases"] == 2 and f.loc["a", "revenue"] == pytest.approx(25.0)
    assert f.loc["a", "avg_order_value"] == pytest.approx(22.5)  # (25 + 20) / 2 orders
    assert f.loc["a", "items"] == 4 and f.loc["a", "items_per_order"] == 2
    assert f.loc["a", "n_returns"] == 1 and f.loc["a", "returned_value"] == pytest.approx(20.0)
    assert f.loc["a", "purchase_interval_days"] == pytest.approx(10 - 1 / 24)  # Jan 1 10:00 -> Jan 11 09:00
    assert np.isnan(f.loc["a", "interval_regularity"])  # one gap: no spread to measure
    assert f.loc["b", "revenue"] == pytest.approx(8.0) and f.loc["b", "purchase_interval_days"] == pytest.approx(20)
    assert f.loc["c", "n_purchases"] == 1 and np.isnan(f.loc["c", "purchase_interval_days"])
    assert f.loc["c", "recency_days"] == 0 and f.loc["a", "recency_days"] == pytest.approx(20 + 9 / 24)
    assert "n_events" not in f and "night_share" not in f  # transaction features, not clickstream ones


def test_an_event_log_of_dates_only_gets_no_session_or_time_of_day_features(tmp_path, empty_store):
    log = pd.DataFrame({"user": ["a", "a", "b", "b", "b"], "day": ["2024-03-01", "2024-03-01", "2024-03-02",
                                                                   "2024-03-05", "2024-03-05"],
                        "what": ["visit", "buy", "visit", "visit", "buy"], "euros": [None, 9.5, None, None, 3.0]})
    path = _write(tmp_path, "days.csv", log)
    report = segcore.import_file(empty_store, path, "days", kind="events", mapping={
        "user_id": "user", "timestamp": "day", "event_type": "what", "amount": "euros"},
        vocabulary={"purchase": ["buy"]})
    assert report.facts["time_resolution"] == "date"
    assert any("dates only" in line for line in report.lines())
    f = empty_store.read_table("days").set_index("user_id")
    for gone in ("night_share", "avg_session_minutes", "n_sessions", "events_per_session", "conversion_rate"):
        assert gone not in f, gone
    assert f.loc["a", "revenue"] == 9.5 and f.loc["b", "n_purchases"] == 1 and f.loc["b", "active_days"] == 2


def test_columns_no_role_takes_are_kept_per_user(tmp_path, empty_store):
    users = list("abcdef")
    log = pd.DataFrame({"uid": [u for u in users for _ in range(2)],
                        "ts": [f"2024-01-0{d} 1{i}:00" for i in range(6) for d in (1, 2)],
                        "plan": [p for p in ["free", "pro"] * 3 for _ in range(2)],
                        "basket": [1.0, 3.0, 10.0, 20.0] * 3,
                        # one value per user, different for each: a name, an account number; never kept
                        "holder": [f"Person {u}" for u in users for _ in range(2)],
                        "account": [918_273 + 97 * i for i in range(6) for _ in range(2)]})
    path = _write(tmp_path, "kept.csv", log)
    report = segcore.import_file(empty_store, path, "kept", kind="events",
                                 mapping={"user_id": "uid", "timestamp": "ts"})
    fates = dict(report.columns)
    assert fates["plan"].startswith("kept per user as its last value")
    assert fates["basket"] == "kept per user as its mean, 'basket_mean'"
    assert fates["holder"].startswith("not used") and fates["account"].startswith("not used")
    assert {"holder", "account", "account_mean"}.isdisjoint(empty_store.read_table("kept").columns)
    f = empty_store.read_table("kept").set_index("user_id")
    assert f.loc["b", "plan"] == "pro" and f.loc["a", "basket_mean"] == 2.0
    segcore.import_file(empty_store, path, "summed", kind="events", mapping={"user_id": "uid", "timestamp": "ts"},
                        aggregates={"basket": "sum", "plan": "none"})
    f = empty_store.read_table("summed").set_index("user_id")
    assert f.loc["b", "basket_sum"] == 30.0 and "plan" not in f
    with pytest.raises(InputError, match="'nope' is not in"):
        segcore.import_file(empty_store, path, "x", kind="events", mapping={"user_id": "uid", "timestamp": "ts"},
                            aggregates={"nope": "sum"})
    with pytest.raises(InputError, match="already has a role"):
        segcore.import_file(empty_store, path, "x", kind="events", mapping={"user_id": "uid", "timestamp": "ts"},
                            aggregates={"ts": "last"})


def test_a_vocabulary_value_may_mean_one_kind_only(tmp_path, empty_store):
    path = _write(tmp_path, "v.csv", pd.DataFrame({"u": ["a"], "t": ["2024-01-01 10:00"], "e": ["x"]}))
    with pytest.raises(InputError, match="both purchase and add_to_cart"):
        segcore.import_file(empty_store, path, "v", kind="events", mapping={"user_id": "u", "timestamp": "t",
                            "event_type": "e"}, vocabulary={"purchase": ["x"], "add_to_cart": ["X "]})
    with pytest.raises(InputError, match="Unknown event kind 'refund'"):
        segcore.import_file(empty_store, path, "v", kind="events", mapping={"user_id": "u", "timestamp": "t",
                            "event_type": "e"}, vocabulary={"refund": ["x"]})
    assert empty_store.list_datasets().empty


def test_rfm_scores_and_groups_by_hand():
    frame = pd.DataFrame({"recency_days": [1, 1, 50, 300, 400, 10, 200, 350, 20, 500],
                          "n_purchases": [9, 8, 1, 1, 1, 5, 6, 7, 2, 1],
                          "revenue": [900, 700, 10, 5, 5, 300, 400, 500, 50, 1]})
    s = rfm_scores(frame)
    # recency: the two most recent tie for the best rank; the four one-time buyers share the lowest frequency
    assert s["r"].tolist() == [5, 5, 3, 2, 1, 4, 3, 2, 4, 1]
    assert s["f"].tolist() == [5, 5, 1, 1, 1, 3, 4, 4, 3, 1]
    assert s["m"].tolist() == [5, 5, 2, 1, 1, 3, 4, 4, 3, 1]
    assert rfm_groups(s).tolist() == ["Champions", "Champions", "About to sleep", "Hibernating", "Hibernating",
                                      "Potential loyalists", "Loyal customers", "At risk", "Potential loyalists",
                                      "Hibernating"]
    cells = [f"{r}{f}" for r in range(1, 6) for f in range(1, 6)]
    assert all(sum(bool(re.fullmatch(p, c)) for _, p, _ in RFM_GROUPS) == 1 for c in cells)


def test_kpis_of_a_transaction_log_by_hand():
    frame = pd.DataFrame({"persona": ["A", "A", "B", "B"], "recency_days": [10, 100, 5, 300],
                          "n_purchases": [3, 1, 2, 1], "revenue": [30.0, 10.0, 50.0, 5.0],
                          "avg_order_value": [10.0, 10.0, 25.0, 5.0], "purchase_interval_days": [20, None, 2, None]})
    r = kpi_report(frame)
    t = r.table.set_index("segment")
    assert [k.name for k in r.shown] == ["revenue_per_user", "orders_per_user", "avg_order_value", "repeat_rate",
                                         "churn_rate"]
    assert t.loc["A", "avg_order_value"] == pytest.approx(40 / 4) and t.loc["B", "repeat_rate"] == 0.5
    # churn: twice one's own gap (A's first: 10 <= 40; B's first: 5 > 4); one-time buyers: twice the median gap (22)
    assert t.loc["A", "churn_rate"] == 0.5 and t.loc["B", "churn_rate"] == 1.0
    assert "44 days" not in r.definitions["churn_rate"] and "22 days" in r.definitions["churn_rate"]
    assert set(r.unavailable) == {"ctr", "conversion_rate"}


def test_products_pages_and_channels(tmp_path, empty_store):
    lines = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "b"],
                          "order_date": ["2024-01-01", "2024-01-01", "2024-02-01", "2024-01-05", "2024-01-09"],
                          "sku": ["p1", "p2", "p1", "p3", "p3"], "qty": [1, 2, -1, 1, 1],
                          "value": [5.0, 8.0, -5.0, 3.0, 3.0], "utm_source": ["mail", "mail", "ads", "ads", "ads"]})
    path = _write(tmp_path, "shop.csv", lines)
    report = segcore.import_file(empty_store, path, "shop", kind="events")
    assert dict(report.columns) == {"customer_id": "used as user id", "order_date": "used as timestamp",
                                    "sku": "used as product", "qty": "used as quantity", "value": "used as amount",
                                    "utm_source": "used as channel"}
    f = empty_store.read_table("shop").set_index("user_id")
    # a bought p1 and p2 (p1's return is not a product bought); b bought p3 twice
    assert f.loc["a", "n_products"] == 2 and f.loc["b", "n_products"] == 1
    assert f.loc["a", "channel"] == "mail" and f.loc["b", "channel"] == "ads"  # the first touch
    assert f.loc["a", "revenue"] == 8.0 and f.loc["a", "n_returns"] == 1
