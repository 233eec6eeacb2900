"""Suggestions before clustering: features that add noise, repeat each other, or are dominated by outliers.

- near-constant: one value covers at least 95 % of users; it cannot separate segments;
- correlated pair: |Spearman rho| above 0.9; the pair counts twice in every distance, so keep one
  (at 0.995 and above, where rho rounds to 1.00, the two are duplicates and the default selection
  keeps only the first);
- outlier-dominated: more than 5 % of users lie beyond 3 interquartile ranges from the quartiles; keep
  outlier capping on (or log-transform), or the extremes will form segments of their own.

Checks run on a seeded sample of at most 20,000 users.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import finite_numbers

__all__ = ["feature_suggestions"]

NEAR_CONSTANT = 0.95
CORRELATED = 0.9
DUPLICATE = 0.995
OUTLIER_SHARE = 0.05
SAMPLE = 20_000


def feature_suggestions(frame: pd.DataFrame, numeric: list[str], *, seed: int = 0) -> pd.DataFrame:
    """One row per finding: feature, issue, detail, suggestion, the measured ``value`` (share of the
    top value, share of extreme users, or Spearman's rho) and the ``partner`` a correlated feature
    is correlated with (empty frame when all is well)."""
    df = finite_numbers(frame[list(numeric)])
    if len(df) > SAMPLE:
        df = df.sample(SAMPLE, random_state=seed)
    rows = []
    for col in df.columns:
        values = df[col].dropna()
        if values.empty:
            continue
        top_share = float(values.value_counts(normalize=True).iloc[0])
        if top_share >= NEAR_CONSTANT:
            rows.append({"feature": col, "issue": "near-constant",
                         "detail": f"{top_share:.0%} of users have the same value ({values.mode().iloc[0]:g})",
                         "suggestion": "deselect it: it cannot tell segments apart", "value": top_share})
            continue
        q1, q3 = values.quantile([0.25, 0.75])
        iqr = q3 - q1
        if iqr > 0:
            extreme = float(((values < q1 - 3 * iqr) | (values > q3 + 3 * iqr)).mean())
            if extreme > OUTLIER_SHARE:
                rows.append({"feature": col, "issue": "outlier-dominated",
                             "detail": f"{extreme:.0%} of users lie beyond 3 IQR of the quartiles",
                             "suggestion": "keep outlier capping on and skewed counts logged",
                             "value": extreme})
    usable = [c for c in df.columns if c not in {r["feature"] for r in rows if r["issue"] == "near-constant"}]
    if len(usable) > 1:
        corr = df[usable].corr(method="spearman").abs()
        upper = corr.where(np.triu(np.ones(corr.shape, dtype=bool), k=1))
        for (a, b), rho in upper.stack().items():
            if rho > CORRELATED:
                rows.append({"feature": b, "issue": "correlated", "detail": f"Spearman {rho:.2f} with {a}",
                             "suggestion": f"keep one of {a} and {b}: together they count twice",
                             "value": float(rho), "partner": a})
    return pd.DataFrame(rows, columns=["feature", "issue", "detail", "suggestion", "value", "partner"])
