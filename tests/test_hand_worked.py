"""Hand-worked cases for the rules a marketer reads the results of (issue 16): the four-fifths check,
personal data found by content, column roles and date orders proposed, personas named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segcore._mapping import propose_mapping, timestamp_format
from segcore.fairness import fairness_report
from segcore.personas import suggest_personas
from segcore.pii import detect_pii
from segcore.profile import profile_clusters


def test_four_fifths_by_hand():
    # 100 users, 50 women and 50 men. Segment A: 40 women, 10 men; segment B: 10 women, 40 men.
    gender = ["F"] * 40 + ["M"] * 10 + ["F"] * 10 + ["M"] * 40
    segment = ["A"] * 50 + ["B"] * 50
    report = fairness_report(pd.DataFrame({"gender": gender}), pd.Series(segment), min_group=30)
    t = report.table.set_index(["segment", "group"])
    # A selects 40 of 50 women (0.8) and 10 of 50 men (0.2): the men's impact ratio is 0.2 / 0.8 = 0.25
    assert t.loc[("A", "F"), "selection_rate"] == pytest.approx(0.8)
    assert t.loc[("A", "M"), "selection_rate"] == pytest.approx(0.2)
    assert t.loc[("A", "M"), "impact_ratio"] == pytest.approx(0.25) and t.loc[("A", "M"), "flagged"]
    assert t.loc[("A", "F"), "impact_ratio"] == pytest.approx(1.0) and not t.loc[("A", "F"), "flagged"]
    # A is 80 % women against 50 % of everyone: represented 1.6 times
    assert t.loc[("A", "F"), "segment_share"] == pytest.approx(0.8)
    assert t.loc[("A", "F"), "representation"] == pytest.approx(1.6)
    assert sorted(report.flags["segment"] + report.flags["group"]) == ["AM", "BF"]


def test_a_ratio_below_four_fifths_is_flagged_only_when_it_is_not_chance():
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import test_proportions_2indep as score_test

    # X: 6 of 30 users in S (0.20); Y: 4 of 30 (0.13). The ratio 0.67 is below the rule, but on 30 users
    # each the difference is well within chance. In T, the same groups at 24/30 and 26/30.
    group = ["X"] * 30 + ["Y"] * 30
    segment = ["S"] * 6 + ["T"] * 24 + ["S"] * 4 + ["T"] * 26
    report = fairness_report(pd.DataFrame({"g": group}), pd.Series(segment))
    t = report.table.set_index(["segment", "group"])
    assert t.loc[("S", "Y"), "impact_ratio"] == pytest.approx(4 / 6) and t.loc[("S", "Y"), "below_rule"]
    assert t.loc[("S", "Y"), "p"] == pytest.approx(score_test(4, 30, 6, 30, method="score").pvalue, rel=1e-12)
    assert not t.loc[("S", "Y"), "flagged"] and report.flags.empty
    assert any("could be chance after correction" in line for line in report.lines())
    # every comparison with its segment's most-selected group, corrected together
    tested = report.table["p"].notna()
    assert report.table.loc[tested, "q"].to_numpy() == pytest.approx(
        multipletests(report.table.loc[tested, "p"], method="fdr_bh")[1])
    # ten times the users, the same rates: now the difference holds up, and is flagged
    big = fairness_report(pd.DataFrame({"g": group * 10}), pd.Series(segment * 10)).table.set_index(
        ["segment", "group"])
    assert big.loc[("S", "Y"), "flagged"] and big.loc[("S", "Y"), "q"] < 0.05


def test_four_fifths_boundary_and_small_groups():
    # group X: 50 users, 25 in S (0.5); group Y: 50 users, 20 in S (0.4): 0.4 / 0.5 = 0.8, on the rule's boundary
    group = ["X"] * 25 + ["Y"] * 20 + ["X"] * 25 + ["Y"] * 30 + ["Z"] * 10
    segment = ["S"] * 45 + ["T"] * 55 + ["S"] * 10
    t = fairness_report(pd.DataFrame({"g": group}), pd.Series(segment), min_group=30).table.set_index(
        ["segment", "group"])
    assert t.loc[("S", "Y"), "impact_ratio"] == pytest.approx(0.8)
    assert not t.loc[("S", "Y"), "flagged"]  # below four fifths is flagged, four fifths itself is not
    # Z has 10 users, fewer than min_group: its ratio is not judged and never flagged, and it sets no maximum
    assert not t.loc[("S", "Z"), "judged"] and not t.loc[("S", "Z"), "flagged"]
    assert t.loc[("S", "Z"), "selection_rate"] == pytest.approx(1.0)
    assert t.loc[("S", "X"), "max_rate"] == pytest.approx(0.5)


def test_a_ratio_of_exactly_four_fifths_is_not_flagged_whatever_the_floating_point():
    # 5 of X's 100 users and 4 of Y's 100 are in S: 0.04 / 0.05 is 0.8, which floating point makes 0.7999999999999999
    group = ["X"] * 100 + ["Y"] * 100
    segment = ["S"] * 5 + ["T"] * 95 + ["S"] * 4 + ["T"] * 96
    t = fairness_report(pd.DataFrame({"g": group}), pd.Series(segment)).table.set_index(["segment", "group"])
    assert t.loc[("S", "Y"), "impact_ratio"] == pytest.approx(0.8)
    assert not t.loc[("S", "Y"), "flagged"]


def test_phones_and_ip_addresses_are_found_by_content_under_neutral_names():
    rng = np.random.default_rng(0)
    n = 60
    sample = pd.DataFrame({
        "contact": [f"+49 30 {rng.integers(1_000_000, 9_999_999)}" for _ in range(n)],
        "origin": [f"{rng.integers(1, 223)}.{rng.integers(0, 255)}.{rng.integers(0, 255)}.{rng.integers(1, 254)}"
                   for _ in range(n)],
        "order_ref": [f"{rng.integers(100_000, 999_999)}-{rng.integers(0, 9)}" for _ in range(n)],  # phone-shaped
        "plan": rng.choice(["gold", "free"], n),
    })
    kinds = {f.column: f.kind for f in detect_pii(sample)}
    assert kinds.get("contact") == "phone"
    assert kinds.get("origin") == "ip_address"
    assert "order_ref" not in kinds  # a column named as a reference holds ids, not phone numbers
    assert "plan" not in kinds


def test_roles_are_proposed_from_names_and_then_from_contents():
    assert propose_mapping(["user_id", "timestamp", "event_type", "amount", "session_id"]) == {
        "user_id": "user_id", "timestamp": "timestamp", "event_type": "event_type", "amount": "amount",
        "session_id": "session_id"}
    # names that say nothing: the dates, and the ids that repeat (40 users over 200 rows), are found in the values
    times = pd.Timestamp("2026-03-01 08:00") + pd.to_timedelta(np.arange(200) * 37, unit="min")
    sample = pd.DataFrame({"c1": [f"u{i % 40:03d}" for i in range(200)],
                           "c2": times.strftime("%Y-%m-%d %H:%M"),
                           "c3": np.where(np.arange(200) % 7 == 0, "purchase", "page_view")})
    assert propose_mapping(["c1", "c2", "c3"], sample) == {"timestamp": "c2", "user_id": "c1", "event_type": "c3"}
    # with only three distinct values a column is too few to be user ids: nothing is guessed for them
    assert "user_id" not in propose_mapping(["c1", "c2"], sample.assign(c1=[f"u{i % 3}" for i in range(200)]))


def test_day_and_month_order():
    both = timestamp_format(pd.Series(["01/02/2026 10:00", "03/04/2026 11:00", "05/06/2026 12:00"]))
    assert both.arg == "%d/%m/%Y %H:%M" and both.ambiguous  # either order reads them: said, day first
    days_first = timestamp_format(pd.Series(["13/02/2026 10:00", "03/04/2026 11:00"]))
    assert days_first.arg == "%d/%m/%Y %H:%M" and not days_first.ambiguous  # a 13th month does not exist
    months_first = timestamp_format(pd.Series(["02/13/2026 10:00", "04/03/2026 11:00"]))
    assert months_first.arg == "%m/%d/%Y %H:%M" and not months_first.ambiguous


def test_personas_are_named_after_what_sets_them_apart():
    # three planted groups of 40 users: lapsed (long since last seen), big spenders, night owls
    rng = np.random.default_rng(1)
    n = 40
    frame = pd.DataFrame({
        "recency_days": np.r_[rng.normal(90, 5, n), rng.normal(5, 2, n), rng.normal(6, 2, n)],
        "revenue": np.r_[rng.normal(20, 5, n), rng.normal(900, 50, n), rng.normal(25, 5, n)],
        "night_share": np.r_[rng.normal(0.1, 0.02, n), rng.normal(0.1, 0.02, n), rng.normal(0.8, 0.05, n)],
    })
    labels = np.repeat([0, 1, 2], n)
    names = suggest_personas(profile_clusters(frame, labels)).set_index("cluster")["name"]
    assert names.to_dict() == {0: "Lapsed users", 1: "High spenders", 2: "Night owls"}
    # two segments that share their strongest trait get different names
    twin = suggest_personas(profile_clusters(frame.assign(revenue=np.r_[frame["revenue"][:n] + 900,
                                                                         frame["revenue"][n:]]), labels))
    assert twin["name"].is_unique


@pytest.mark.parametrize("text, expected", [
    ("the file is empty", "The file is empty."),
    ("k=12 should be < the number of users (10)", "k=12 should be < the number of users (10)."),
    ("ctr_x has no values", "ctr_x has no values."),
    ("Already a sentence.", "Already a sentence."),
    ('dataset "x" not found: try "sample".', 'Dataset "x" not found: try "sample".'),
    ("is it?", "Is it?"),
    ("", ""),
])
def test_app_messages_are_sentences(text, expected):
    from segcore.errors import InputError, sentence

    assert sentence(text) == expected
    if text:
        assert str(InputError(text)) == expected
        # the command line keeps its clause after "segcore: error:"
        assert InputError(text).for_cli() == text


def test_a_trait_says_the_difference_in_units_and_as_a_ratio():
    from segcore.profile import Trait, profile_clusters, summarise_segments

    assert Trait("n_purchases", 1.2, 3.1, 1.0).text() == \
        "n_purchases: 3.1 against 1 for the average user (3.1x), +1.2 sd"
    assert Trait("device=mobile", 0.9, 0.54, 0.2).text(str.upper) == \
        "DEVICE=MOBILE: 54.0% against 20.0% of all users (2.7x), +0.9 sd"
    assert Trait("trend", -0.5, -2.0, 1.0).ratio is None and "x)" not in Trait("trend", -0.5, -2.0, 1.0).text()
    assert Trait("spend", -1.0, 0.0, 0.0).ratio is None
    # a proportion reads as a percentage, money with cents, big counts whole
    assert Trait("night_share", 2.0, 0.71, 0.2).text() == \
        "night_share: 71.0% against 20.0% for the average user (3.5x), +2.0 sd"
    assert Trait("revenue", 1.5, 1234.5, 310.0).text().startswith("revenue: 1,234.50 against 310.00 for")
    assert Trait("n_events", 1.0, 1234.5, 310.0).text().startswith("n_events: 1,234 against 310 for")
    # a segment of two users buying 4 and 6 times among ten users buying 1 on average otherwise
    values = pd.DataFrame({"n_purchases": [4.0, 6.0] + [0.0] * 8})
    prof = profile_clusters(values, [1, 1] + [0] * 8)
    (trait,) = next(s for s in summarise_segments(prof, {0: "Rest", 1: "Buyers"}, stability={},
                                                  rules=pd.DataFrame(), min_segment_size=1) if s.cluster == 1).traits
    assert (trait.mean, trait.overall, trait.ratio) == (5.0, 1.0, 5.0)
    assert trait.z == pytest.approx((5.0 - 1.0) / np.std([4.0, 6.0] + [0.0] * 8))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
                          st.sampled_from(["1.5", "x", "", "-inf", "7", None]), st.booleans()),
                min_size=0, max_size=30))
def test_finite_numbers_reads_every_kind_of_column_as_before(rows):
    from segcore._common import finite_numbers

    frame = pd.DataFrame(rows, columns=["f", "i", "text", "flag"])
    frame["nullable"] = pd.array([None if i % 3 == 0 else i for i in frame["i"]], dtype="Int64")
    # the frame-wide formula it replaces, as the reference
    expected = frame.apply(pd.to_numeric, errors="coerce").astype(float).replace([np.inf, -np.inf], np.nan)
    got = finite_numbers(frame)
    pd.testing.assert_frame_equal(got, expected)
    assert np.isfinite(got.to_numpy()[~got.isna().to_numpy()]).all()
