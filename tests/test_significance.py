"""KPI evidence: intervals and tests equal statsmodels' and scipy's, the ratio's error a bootstrap's, a
planted lift is found after correction and no lift is not."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import proportion
from statsmodels.stats.multitest import multipletests

from segcore.errors import InputError
from segcore.significance import MIN_UNITS, kpi_evidence, kpi_report_with_evidence


def _users(n, seed=0, **lift):
    """A generated snapshot: n users per persona A-F with purchases, revenue, sessions and ads; ``lift``
    multiplies one persona's purchase probability (``{"B": 1.5}``)."""
    rng = np.random.default_rng(seed)
    parts = []
    for persona in "ABCDEF":
        buy = 0.3 * lift.get(persona, 1.0)
        orders = rng.binomial(4, buy, n)
        sessions = rng.integers(1, 8, n)
        impressions = rng.integers(0, 30, n)
        parts.append(pd.DataFrame({
            "persona": persona, "n_purchases": orders, "revenue": orders * rng.gamma(2.0, 20.0, n),
            "avg_order_value": np.where(orders > 0, rng.gamma(2.0, 20.0, n), np.nan),
            "n_sessions": sessions, "conversion_rate": np.minimum(orders, sessions) / sessions,
            "ad_impressions": impressions, "ad_clicks": rng.binomial(impressions, 0.05),
            "recency_days": rng.exponential(40, n)}))
    return pd.concat(parts, ignore_index=True)


def test_shares_and_means_are_statsmodels_and_scipys():
    frame = _users(400, seed=1)
    ev = kpi_evidence(frame).set_index(["segment", "kpi"])
    mine = frame["persona"] == "C"
    # repeat-purchase rate: buyers with two or more orders, among buyers
    buyers = frame["n_purchases"] >= 1
    yes, n = int((frame["n_purchases"][mine] >= 2).sum()), int(buyers[mine].sum())
    rest_yes, rest_n = int((frame["n_purchases"][~mine] >= 2).sum()), int(buyers[~mine].sum())
    cell = ev.loc[("C", "repeat_rate")]
    wilson = proportion.proportion_confint(yes, n, method="wilson")
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx(wilson, rel=1e-12)
    score = proportion.test_proportions_2indep(yes, n, rest_yes, rest_n, method="score")
    assert cell["p"] == pytest.approx(score.pvalue, rel=1e-12)
    assert (cell["diff_low"], cell["diff_high"]) == pytest.approx(
        proportion.confint_proportions_2indep(yes, n, rest_yes, rest_n, method="newcomb"), rel=1e-12)
    # revenue per user: Student-t for the mean, Welch against the other users
    revenue = frame["revenue"]
    cell = ev.loc[("C", "revenue_per_user")]
    welch = stats.ttest_ind(revenue[mine], revenue[~mine], equal_var=False)
    assert cell["p"] == pytest.approx(welch.pvalue, rel=1e-12)
    assert cell["value"] == pytest.approx(revenue[mine].mean())
    assert cell["rest"] == pytest.approx(revenue[~mine].mean())
    t = stats.t.ppf(0.975, mine.sum() - 1) * revenue[mine].std(ddof=1) / np.sqrt(mine.sum())
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((revenue[mine].mean() - t, revenue[mine].mean() + t))
    # every tested cell corrected together, Benjamini-Hochberg by default
    tested = ev["p"].notna()
    assert ev.loc[tested, "q"].to_numpy() == pytest.approx(multipletests(ev.loc[tested, "p"], method="fdr_bh")[1])
    holm = kpi_evidence(frame, correction="holm")
    assert holm["q"].dropna().to_numpy() == pytest.approx(multipletests(holm["p"].dropna(), method="holm")[1])


def test_a_ratio_with_one_event_per_user_is_a_mean_of_yes_and_no():
    """Hand-worked: with one impression each, clicks over impressions is the share of users who clicked,
    and the delta method's standard error is the plain one, sd / sqrt(n)."""
    clicks = np.array([1, 0, 0, 1, 0] * 8)
    frame = pd.DataFrame({"persona": ["A"] * 40, "ad_impressions": 1, "ad_clicks": clicks})
    cell = kpi_evidence(frame).set_index(["segment", "kpi"]).loc[("A", "ctr")]
    se = clicks.std(ddof=1) / np.sqrt(40)
    assert cell["value"] == 0.4 and (cell["ci_high"] - cell["ci_low"]) / 2 == pytest.approx(1.959964 * se, rel=1e-6)


def test_a_ratio_interval_matches_a_bootstrap_over_users():
    frame = _users(300, seed=2)
    part = frame[frame["persona"] == "D"]
    cell = kpi_evidence(frame).set_index(["segment", "kpi"]).loc[("D", "ctr")]
    counted = part[part["ad_impressions"] > 0]
    boot = stats.bootstrap((counted["ad_clicks"].to_numpy(), counted["ad_impressions"].to_numpy()),
                           lambda c, i: c.sum() / i.sum(), paired=True, n_resamples=4000, method="percentile",
                           random_state=0)
    # users, not impressions, are the unit: the delta method's interval is the bootstrap's, within 15 %
    width = cell["ci_high"] - cell["ci_low"]
    assert width == pytest.approx(boot.confidence_interval.high - boot.confidence_interval.low, rel=0.15)
    # a binomial interval over impressions would be narrower than the spread between users allows
    binomial = proportion.proportion_confint(counted["ad_clicks"].sum(), counted["ad_impressions"].sum(),
                                             method="wilson")
    assert binomial[1] - binomial[0] < width


def test_a_planted_lift_is_found_after_correction_and_no_lift_is_not():
    lifted = kpi_evidence(_users(800, seed=3, B=1.4)).set_index(["segment", "kpi"])
    orders = lifted.loc[("B", "orders_per_user")]
    assert orders["significant"] and orders["diff_vs_rest"] > 0
    assert lifted.loc[("B", "repeat_rate"), "significant"]
    null = kpi_evidence(_users(800, seed=3))
    assert not null["significant"].any(), null.loc[null["significant"], ["segment", "kpi", "q"]]


def test_too_few_users_says_so_instead_of_a_number():
    frame = _users(200, seed=4)
    frame = frame[(frame["persona"] != "F") | (frame.index % 20 == 0)]  # persona F: 10 users
    ev = kpi_evidence(frame).set_index(["segment", "kpi"])
    cell = ev.loc[("F", "revenue_per_user")]
    assert np.isnan(cell["value"]) and np.isnan(cell["p"]) and cell["reason"].startswith("not enough data: 10")
    assert pd.isna(ev.loc[("A", "revenue_per_user"), "reason"])
    # below the minimum segment size: left out, and in nobody's rest
    small = kpi_evidence(frame, min_segment_size=MIN_UNITS)
    assert "F" not in set(small["segment"])
    with pytest.raises(InputError, match="correction='bonferroni' should be one of bh, holm"):
        kpi_evidence(frame, correction="bonferroni")


def test_the_json_carries_each_figure_or_its_reason(sample_store, sample_run):
    from segcore import workflow

    payload = workflow.run_kpis(sample_store, sample_run).to_dict()
    assert payload["correction"] == "Benjamini-Hochberg"
    segment = next(s for s in payload["segments"] if s["segment"] != "All users")
    cell = segment["evidence"]["revenue_per_user"]
    assert set(cell) >= {"value", "ci_low", "ci_high", "diff_vs_rest", "p", "q", "significant", "reason"}
    assert cell["ci_low"] <= cell["value"] <= cell["ci_high"] and cell["value"] == pytest.approx(
        segment["revenue_per_user"])
    report = kpi_report_with_evidence(_users(100, seed=5), correction="holm")
    assert report.to_dict()["correction"] == "Holm"
