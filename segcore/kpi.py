"""KPIs per segment against the overall baseline, for stakeholders.

- CTR: ad clicks / ad impressions (pooled over the segment's users)
- conversion rate: sessions with a purchase / sessions
- revenue per user
- churn rate: the dataset's ``churned`` flag when it has one, else no activity
  in the last ``churn_days`` days of the log

Each KPI also comes as a lift: the segment's value divided by the baseline's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["KPI_INPUTS", "KPI_LABELS", "segment_kpis"]

KPI_INPUTS = ("ad_impressions", "ad_clicks", "n_sessions", "conversion_rate", "revenue", "recency_days", "churned")
KPI_LABELS = {"ctr": "CTR", "conversion_rate": "Conversion rate", "revenue_per_user": "Revenue per user",
              "churn_rate": "Churn rate"}


def _kpis(g: pd.DataFrame, churn_days: float) -> dict:
    out = {"users": len(g)}
    if {"ad_impressions", "ad_clicks"} <= set(g):
        imp = g["ad_impressions"].sum()
        out["ctr"] = g["ad_clicks"].sum() / imp if imp > 0 else np.nan
    if {"n_sessions", "conversion_rate"} <= set(g):
        sessions = g["n_sessions"].sum()
        out["conversion_rate"] = (g["conversion_rate"].fillna(0) * g["n_sessions"]).sum() / sessions \
            if sessions > 0 else np.nan
    if "revenue" in g:
        out["revenue_per_user"] = g["revenue"].fillna(0).sum() / len(g)
    if "churned" in g:
        out["churn_rate"] = g["churned"].astype(float).mean()
    elif "recency_days" in g:
        out["churn_rate"] = (g["recency_days"] > churn_days).mean()
    return out


def segment_kpis(frame: pd.DataFrame, *, by: str = "persona", churn_days: float = 60.0,
                 min_segment_size: int = 1) -> pd.DataFrame:
    """KPIs per segment and for all users.

    Parameters
    ----------
    frame : DataFrame
        One row per user with a ``by`` column and any of :data:`KPI_INPUTS`.
    by : str, default='persona'
        The segment column.
    churn_days : float, default=60
        Inactivity that counts as churn when the data has no ``churned`` flag.
    min_segment_size : int, default=1
        Segments with fewer users keep their size but have every KPI withheld
        (NaN, ``withheld`` True): figures about a handful of people single them out.
        They still count in the all-users baseline.

    Returns
    -------
    DataFrame
        One row per segment then ``All users``: users, share, each KPI the
        data allows and its ``<kpi>_lift`` against all users.
    """
    if by not in frame:
        raise InputError(f"no segment column {by!r}")
    if frame.empty:
        raise InputError("no users to compute KPIs for")
    rows = [{"segment": seg, **_kpis(g, churn_days)} for seg, g in frame.groupby(by, sort=True, observed=True)]
    base = {"segment": "All users", **_kpis(frame, churn_days)}
    df = pd.DataFrame(rows + [base])
    df["share"] = df["users"] / len(frame)
    for k in KPI_LABELS:
        if k in df:
            df[f"{k}_lift"] = df[k] / base[k] if base.get(k) else np.nan
    df["withheld"] = (df["users"] < int(min_segment_size)) & (df["segment"] != "All users")
    kpi_cols = [c for c in df.columns if c.split("_lift")[0] in KPI_LABELS]
    df.loc[df["withheld"], kpi_cols] = np.nan
    return df
