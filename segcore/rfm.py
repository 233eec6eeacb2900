"""RFM: the retail analyst's classic segmentation of customers, as a baseline to compare runs with.

Each customer gets a score from 1 to 5 for recency (5: bought most recently), frequency (orders)
and monetary value (revenue), by where they rank among all customers: the score is the quintile of
their rank, and customers with equal values share the lowest rank, so that every one-time buyer gets
the same frequency score. Named groups then follow the common grid over the recency and frequency
scores (champions bought recently and often; hibernating customers neither).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["RFM_GROUPS", "RFM_INPUTS", "rfm_groups", "rfm_scores"]

RFM_INPUTS = ("recency_days", "n_purchases", "revenue")

# (name, pattern over the recency then frequency score, what it means): the usual R x F grid.
RFM_GROUPS = (
    ("Champions", r"5[45]", "bought most recently, and most often"),
    ("Loyal customers", r"[34][45]", "buy often, and not long ago"),
    ("Potential loyalists", r"[45][23]", "recent, with a few orders"),
    ("New customers", r"51", "their first order was very recent"),
    ("Promising", r"41", "a recent first order"),
    ("Need attention", r"33", "average recency and frequency"),
    ("About to sleep", r"3[12]", "few orders, and not lately"),
    ("Can't lose them", r"[12]5", "used to buy most often, but not lately"),
    ("At risk", r"[12][34]", "used to buy often, but not lately"),
    ("Hibernating", r"[12][12]", "few orders, long ago"),
)


def _score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1-5 by quintile of rank; equal values share the lowest rank (and so one score)."""
    v = pd.to_numeric(values, errors="coerce")
    rank = (v if higher_is_better else -v).rank(method="min", pct=True)
    return np.clip(np.ceil(rank * 5), 1, 5).fillna(1).astype(int)


def rfm_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Recency, frequency and monetary scores (1-5) per customer.

    Parameters
    ----------
    frame : DataFrame
        ``recency_days`` and ``n_purchases`` per customer, and ``revenue`` where the log has amounts.

    Returns
    -------
    DataFrame
        ``r``, ``f`` and (with revenue) ``m``, aligned with ``frame``.
    """
    missing = [c for c in RFM_INPUTS[:2] if c not in frame]
    if missing:
        raise InputError(f"RFM needs {' and '.join(missing)}: a transaction log, or an event log with purchases")
    out = pd.DataFrame({"r": _score(frame["recency_days"], higher_is_better=False),
                        "f": _score(frame["n_purchases"])}, index=frame.index)
    if "revenue" in frame:
        out["m"] = _score(frame["revenue"])
    return out


def rfm_groups(scores: pd.DataFrame) -> pd.Series:
    """The named group of each customer (see :data:`RFM_GROUPS`) from its recency and frequency scores."""
    key = scores["r"].astype(str) + scores["f"].astype(str)
    names = pd.Series(pd.NA, index=scores.index, dtype="object")
    for name, pattern, _ in RFM_GROUPS:
        hit = names.isna() & key.str.fullmatch(pattern)
        names[hit] = name
    unmatched = names.isna()
    if unmatched.any():  # the grid covers all 25 cells; this guards a change to it
        raise InputError(f"RFM scores {sorted(set(key[unmatched]))} fall in no group")
    return names.astype(str)

