"""Whether a segment's KPIs really differ: intervals, tests against the rest, corrected together.

For each segment and KPI: the value with a 95 % confidence interval, the value over everyone else (the
other shown segments' users, never a total that includes the segment), the difference and its
p-value; then the p-values of every segment x KPI cell are corrected together (Benjamini-Hochberg by
default, Holm on request, statsmodels' ``multipletests`` given the whole vector at once).

Which interval and test depends on what the KPI counts:

- **a share of users** (churn rate; repeat-purchase rate among buyers): each user is one yes or no.
  Wilson score interval; two-proportion score test, Newcombe's interval for the difference
  (statsmodels).
- **a mean per user** (revenue per user, orders per user): Student-t interval of the mean; Welch's
  t-test against the rest (scipy). The KPI is a mean, so the test compares means; Mann-Whitney would
  answer another question (whether one group's values tend to be larger).
- **a ratio of sums** (CTR: clicks over impressions; conversion: converting sessions over sessions;
  average order value: order value over orders): events come in bunches per user, so treating every
  impression as independent (a binomial interval) would be too narrow. The user is the unit: the
  ratio's standard error comes from each user's linearised contribution ``(y - R x) / mean(x)`` (the
  delta method, as survey statistics estimates a ratio), and two ratios are compared with a z-test.

A segment's traits (:func:`trait_evidence`: how its mean of a feature differs from the other users') are
tested the same way: a category's share with the score test, any other feature's mean with Welch's test,
from each segment's count, mean and variance (one pass over the users, not one per segment). They are
a family of their own, corrected together apart from the KPIs.

A cell with fewer than ``MIN_UNITS`` users behind it (buyers for the repeat rate, users with
impressions for CTR...) or, for shares, fewer than 5 users on either side of the yes/no, gets no
figure but a reason: "not enough data".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .disclosure import shown_users
from .errors import InputError
from .kpi import CHURN_DAYS, KpiReport, KpiSpec, _churn_rule, _churned, kpi_availability, kpi_report

__all__ = ["CORRECTIONS", "MIN_UNITS", "kpi_evidence", "kpi_report_with_evidence", "trait_evidence"]

CORRECTIONS = {"bh": "fdr_bh", "holm": "holm"}  # what the user names -> statsmodels' method
MIN_UNITS = 30  # users behind a cell below which it gets no figure
MIN_EACH_SIDE = 5  # users on each side of a yes/no share, for the score interval and test to hold
LEVEL = 0.95

# How each KPI is measured per user: ("share", yes, users counted) | ("mean", value) | ("ratio", y, x)
_SHAPES = {"churn_rate": "share", "repeat_rate": "share", "revenue_per_user": "mean", "orders_per_user": "mean",
           "ctr": "ratio", "conversion_rate": "ratio", "avg_order_value": "ratio"}


def _per_user(frame: pd.DataFrame, kpi: str, rule: str, window) -> tuple[np.ndarray, np.ndarray]:
    """Per user, the KPI's numerator and denominator (for a share: yes as 1 or 0, and 1 where the user
    counts; for a mean: the value and 1)."""
    orders = pd.to_numeric(frame["n_purchases"], errors="coerce").fillna(0).to_numpy() \
        if "n_purchases" in frame else np.zeros(len(frame))

    def col(name):
        return pd.to_numeric(frame[name], errors="coerce").fillna(0).to_numpy(dtype=float)

    if kpi == "churn_rate":
        return _churned(frame, rule, window).to_numpy(dtype=float), np.ones(len(frame))
    if kpi == "repeat_rate":
        return (orders >= 2).astype(float), (orders >= 1).astype(float)
    if kpi == "revenue_per_user":
        return col("revenue"), np.ones(len(frame))
    if kpi == "orders_per_user":
        return orders.astype(float), np.ones(len(frame))
    if kpi == "ctr":
        return col("ad_clicks"), col("ad_impressions")
    if kpi == "conversion_rate":
        sessions = col("n_sessions")
        return col("conversion_rate") * sessions, sessions
    if kpi == "avg_order_value":
        return col("avg_order_value") * orders, orders.astype(float)
    raise InputError(f"no test is defined for KPI {kpi!r}")


def _ratio(y: np.ndarray, x: np.ndarray) -> tuple[float, float, int]:
    """A ratio of sums over the users with a denominator, its delta-method standard error, and those users."""
    counted = x > 0
    y, x = y[counted], x[counted]
    n = len(x)
    if n < 2:
        return np.nan, np.nan, n
    ratio = y.sum() / x.sum()
    linear = (y - ratio * x) / x.mean()
    return float(ratio), float(linear.std(ddof=1) / np.sqrt(n)), n


def _share_cell(y, x, rest) -> dict:
    """A share of users: Wilson interval; two-proportion score test and Newcombe's interval for the difference."""
    from statsmodels.stats.proportion import proportion_confint

    counted = x > 0
    yes, n = int(y[counted].sum()), int(counted.sum())
    if n < MIN_UNITS or min(yes, n - yes) < MIN_EACH_SIDE:
        return {"reason": f"not enough data: {n} users counted, {yes} of them yes"}
    low, high = proportion_confint(yes, n, alpha=1 - LEVEL, method="wilson")
    out = {"value": yes / n, "ci_low": float(low), "ci_high": float(high)}
    if rest is None:
        return out
    rest_counted = rest[1] > 0
    rest_yes, rest_n = int(rest[0][rest_counted].sum()), int(rest_counted.sum())
    if rest_n < MIN_UNITS or min(rest_yes, rest_n - rest_yes) < MIN_EACH_SIDE:
        return out | {"reason": "too few other users to compare with"}
    return out | {"rest": rest_yes / rest_n, **_two_shares(yes, n, rest_yes, rest_n)}


def _two_shares(yes: int, n: int, rest_yes: int, rest_n: int) -> dict:
    """Two shares compared: their difference, Newcombe's interval and the score test's p (statsmodels)."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels also forms ratios, unused here
        test = test_proportions_2indep(yes, n, rest_yes, rest_n, method="score", compare="diff")
        d_low, d_high = confint_proportions_2indep(yes, n, rest_yes, rest_n, method="newcomb", compare="diff",
                                                   alpha=1 - LEVEL)
    return {"diff_vs_rest": yes / n - rest_yes / rest_n, "diff_low": float(d_low), "diff_high": float(d_high),
            "p": float(test.pvalue)}


def _mean_cell(y, rest) -> dict:
    """A mean per user: Student-t interval; Welch's t-test and its interval for the difference."""
    if len(y) < MIN_UNITS:
        return {"reason": f"not enough data: {len(y)} users"}
    ci = stats.ttest_1samp(y, 0.0).confidence_interval(LEVEL)
    out = {"value": float(y.mean()), "ci_low": float(ci.low), "ci_high": float(ci.high)}
    if rest is None:
        return out
    if len(rest) < MIN_UNITS:
        return out | {"reason": "too few other users to compare with"}
    test = stats.ttest_ind(y, rest, equal_var=False)
    d = test.confidence_interval(LEVEL)
    return out | {"rest": float(rest.mean()), "diff_vs_rest": float(y.mean() - rest.mean()),
                  "diff_low": float(d.low), "diff_high": float(d.high), "p": float(test.pvalue)}


def _ratio_cell(y, x, rest) -> dict:
    """A ratio of sums: delta-method normal interval; z-test of the difference from the rest's ratio."""
    ratio, se, n = _ratio(y, x)
    if n < MIN_UNITS:
        return {"reason": f"not enough data: {n} users with a denominator"}
    z = float(stats.norm.ppf(0.5 + LEVEL / 2))
    out = {"value": ratio, "ci_low": ratio - z * se, "ci_high": ratio + z * se}
    if rest is None:
        return out
    rest_ratio, rest_se, rest_n = _ratio(*rest)
    if rest_n < MIN_UNITS:
        return out | {"reason": "too few other users to compare with"}
    spread = float(np.hypot(se, rest_se))
    diff = ratio - rest_ratio
    p = float(2 * stats.norm.sf(abs(diff) / spread)) if spread > 0 else (1.0 if diff == 0 else 0.0)
    return out | {"rest": rest_ratio, "diff_vs_rest": diff, "diff_low": diff - z * spread,
                  "diff_high": diff + z * spread, "p": p}


def _cell(kpi: str, y: np.ndarray, x: np.ndarray, rest: tuple[np.ndarray, np.ndarray] | None) -> dict:
    """One segment's figures for one KPI (against the rest, ``(y, x)`` of the other users, when given)."""
    shape = _SHAPES[kpi]
    if shape == "share":
        return {"method": shape, **_share_cell(y, x, rest)}
    if shape == "mean":
        return {"method": shape, **_mean_cell(y, None if rest is None else rest[0])}
    return {"method": shape, **_ratio_cell(y, x, rest)}


def kpi_evidence(frame: pd.DataFrame, *, by: str = "persona", churn_days: float = CHURN_DAYS,
                 min_segment_size: int = 1, correction: str = "bh", specs: list[KpiSpec] | None = None,
                 alpha: float = 0.05) -> pd.DataFrame:
    """Every segment x KPI cell with its interval, its difference from the rest and the corrected test.

    Parameters
    ----------
    frame : DataFrame
        One row per user with a ``by`` column and the KPIs' inputs (:data:`segcore.kpi.KPI_INPUTS`).
    by : str, default='persona'
    churn_days : float, default=60
        See :func:`segcore.kpi.churn_definition`.
    min_segment_size : int, default=1
        Smaller segments are left out, and their users are in nobody's rest (they would be given away
        by subtraction).
    correction : {'bh', 'holm'}, default='bh'
        Benjamini-Hochberg (false discovery rate) or Holm (family-wise error), over every tested cell.
    specs : list of KpiSpec, optional
        The KPIs (default: every one the frame supports).
    alpha : float, default=0.05
        A difference is ``significant`` when its corrected ``q`` is below this.

    Returns
    -------
    DataFrame
        One row per segment (then ``All users``, without a test) and KPI: ``value``, ``ci_low``,
        ``ci_high``, ``rest``, ``diff_vs_rest`` with ``diff_low`` and ``diff_high``, ``p``, ``q``,
        ``significant``, ``method`` and ``reason`` (why a figure is missing).
    """
    if correction not in CORRECTIONS:
        raise InputError(f"correction={correction!r} should be one of {', '.join(CORRECTIONS)}")
    if by not in frame:
        raise InputError(f"no segment column {by!r}")
    specs = specs if specs is not None else kpi_availability(frame.columns)[0]
    shown = frame[shown_users(frame[by], min_segment_size)].reset_index(drop=True)
    if shown.empty:
        raise InputError(f"every segment has fewer than {int(min_segment_size)} users: no KPI can be shown")
    rule, window = _churn_rule(frame, churn_days)
    segments = shown[by].to_numpy()
    rows = []
    for spec in specs:
        y, x = _per_user(shown, spec.name, rule, window)
        for seg in sorted(pd.unique(segments), key=str):
            mine = segments == seg
            rows.append({"segment": seg, "kpi": spec.name,
                         **_cell(spec.name, y[mine], x[mine], (y[~mine], x[~mine]))})
        rows.append({"segment": "All users", "kpi": spec.name, **_cell(spec.name, y, x, None)})
    # a dataset that supports no KPI (a users table alone) has no cell: an empty table of the same columns
    table = pd.DataFrame(rows, columns=["segment", "kpi", "method"]) if not rows else pd.DataFrame(rows)
    for col in ("value", "ci_low", "ci_high", "rest", "diff_vs_rest", "diff_low", "diff_high", "p", "reason"):
        if col not in table:
            table[col] = np.nan if col != "reason" else None
    table["q"] = _correct(table["p"].astype(float), correction, alpha)
    table["significant"] = table["q"] < alpha
    return table[["segment", "kpi", "value", "ci_low", "ci_high", "rest", "diff_vs_rest", "diff_low", "diff_high",
                  "p", "q", "significant", "method", "reason"]]


def kpi_report_with_evidence(frame: pd.DataFrame, *, by: str = "persona", churn_days: float = CHURN_DAYS,
                      min_segment_size: int = 1, shape: str | None = None, correction: str = "bh") -> KpiReport:
    """:func:`segcore.kpi.kpi_report` with the evidence behind every figure (:func:`kpi_evidence`), its tests
    corrected together by ``correction``."""
    report = kpi_report(frame, by=by, churn_days=churn_days, min_segment_size=min_segment_size, shape=shape)
    report.evidence = kpi_evidence(frame, by=by, churn_days=churn_days, min_segment_size=min_segment_size,
                                   correction=correction, specs=report.shown)
    report.correction = correction
    return report


def _correct(p: pd.Series, correction: str, alpha: float) -> pd.Series:
    """The p-values corrected together (NaN where there is no test)."""
    q = pd.Series(np.nan, index=p.index)
    tested = p.notna()
    if tested.any():
        from statsmodels.stats.multitest import multipletests

        q[tested] = multipletests(p[tested].to_numpy(), alpha=alpha, method=CORRECTIONS[correction])[1]
    return q


def _welch_from_moments(n1, m1, v1, n2, m2, v2) -> dict:
    """Welch's test of two means from each group's count, mean and variance (ddof=1): as
    ``scipy.stats.ttest_ind(equal_var=False)`` on the values, with the interval of the difference."""
    se2 = v1 / n1 + v2 / n2
    diff = m1 - m2
    if not se2 > 0:
        return {"diff_vs_rest": diff, "diff_low": diff, "diff_high": diff, "p": 1.0 if diff == 0 else 0.0}
    se = np.sqrt(se2)
    df = se2 ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    t = float(stats.t.ppf(0.5 + LEVEL / 2, df))
    return {"diff_vs_rest": diff, "diff_low": diff - t * se, "diff_high": diff + t * se,
            "p": float(2 * stats.t.sf(abs(diff) / se, df))}


def trait_evidence(values: pd.DataFrame, labels, features: dict[int, list[str]], *, min_segment_size: int = 1,
                   correction: str = "bh", alpha: float = 0.05) -> pd.DataFrame:
    """How each segment's mean of some features differs from the other users', tested and corrected together.

    Parameters
    ----------
    values : DataFrame
        Feature values per user in their units (:func:`segcore.profile.indicator_frame`: a category as
        0/1 columns named ``col=value``, whose mean is a share of users).
    labels : array-like of int, shape (len(values),)
        Each user's segment.
    features : dict
        segment -> the columns of ``values`` to test for it (say, its top traits).
    min_segment_size : int, default=1
        Smaller segments are not tested, and their users are in nobody's rest.
    correction : {'bh', 'holm'}, default='bh'
        Over every segment x feature tested here.
    alpha : float, default=0.05

    Returns
    -------
    DataFrame
        One row per segment and feature: ``mean`` (the segment's), ``rest`` (the other users'),
        ``diff_vs_rest`` with ``diff_low`` and ``diff_high`` (95 %), ``p``, ``q``, ``significant``, ``method``
        (``share``: score test and Newcombe's interval; ``mean``: Welch) and ``reason`` where there is no test.
    """
    if correction not in CORRECTIONS:
        raise InputError(f"correction={correction!r} should be one of {', '.join(CORRECTIONS)}")
    labels = np.asarray(labels)
    if labels.shape != (len(values),):
        raise InputError(f"{labels.shape[0] if labels.ndim else 0} labels for {len(values)} users")
    columns = list(dict.fromkeys(f for fs in features.values() for f in fs))
    unknown = [f for f in columns if f not in values]
    if unknown:
        raise InputError(f"no feature {unknown[0]!r} to test")
    shown = np.asarray(shown_users(pd.Series(labels), min_segment_size), dtype=bool)
    v = values[columns].iloc[np.flatnonzero(shown)].reset_index(drop=True)
    segs = labels[shown]
    # per segment and feature: count, mean and variance of the users with a value (one pass)
    grouped = v.groupby(segs)
    count, mean, var = grouped.count(), grouped.mean(), grouped.var(ddof=1)
    total_n, total_mean = v.count(), v.mean()
    total_m2 = v.var(ddof=0) * total_n
    rows = []
    for seg, wanted in features.items():
        for f in wanted:
            row = {"cluster": int(seg), "feature": f, "method": "share" if "=" in f else "mean"}
            if seg not in count.index:
                rows.append(row | {"reason": "withheld: fewer users than the minimum segment size"})
                continue
            n1, m1 = int(count.at[seg, f]), float(mean.at[seg, f])
            n2 = int(total_n[f]) - n1
            v1 = float(var.at[seg, f]) if n1 > 1 else 0.0
            # the rest's moments: everyone's, less the segment's (Chan's pairwise formula run backwards)
            m2 = (float(total_mean[f]) * total_n[f] - m1 * n1) / n2 if n2 else np.nan
            m2_sum = float(total_m2[f]) - v1 * (n1 - 1) - (m2 - m1) ** 2 * n1 * n2 / total_n[f] if n2 else np.nan
            v2 = max(m2_sum, 0.0) / (n2 - 1) if n2 > 1 else np.nan
            row |= {"mean": m1, "rest": m2}
            if n1 < MIN_UNITS or n2 < MIN_UNITS:
                rows.append(row | {"reason": f"not enough data: {n1} users with a value, {n2} others"})
                continue
            if row["method"] == "share":
                # the score test and Newcombe's interval hold at 0 % and 100 % too: a segment made entirely
                # of one category against a rest with none of it is the clearest trait there is
                yes, rest_yes = round(m1 * n1), round(m2 * n2)
                rows.append(row | _two_shares(yes, n1, rest_yes, n2))
            else:
                rows.append(row | _welch_from_moments(n1, m1, v1, n2, m2, v2))
    table = pd.DataFrame(rows, columns=["cluster", "feature", "mean", "rest", "diff_vs_rest", "diff_low",
                                        "diff_high", "p", "method", "reason"])
    table["q"] = _correct(table["p"].astype(float), correction, alpha)
    table["significant"] = table["q"] < alpha
    return table[["cluster", "feature", "mean", "rest", "diff_vs_rest", "diff_low", "diff_high", "p", "q",
                  "significant", "method", "reason"]]
