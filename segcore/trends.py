"""KPIs over time: each persona's KPIs per week or month of activity, where the log has time.

A period's KPIs are over the users active in it (an event, or an order, that week or month): CTR is
the period's ad clicks over its impressions, conversion its sessions with a purchase over its
sessions, revenue and orders per active user, and the average order value the value of its orders
over their number. Summed over every period, the counts equal the per-user features the KPIs of the
whole log are computed from. Repeat purchase and churn describe a customer over the whole log, not a
period, so they are not given per period.

A period the log covers only in part (the first and last, usually) is marked ``partial``: a drop in
it may only be the days it lacks. A cell with fewer active users than
:data:`segcore.significance.MIN_UNITS` gets no figure ("not enough data"); segments below the minimum
segment size are left out, and their users count in no baseline either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError
from .significance import MIN_UNITS

__all__ = ["GRAINS", "TREND_KPIS", "KpiTrends", "kpi_trends"]

GRAINS = ("week", "month")

# KPI -> (label over a period, numerator column, denominator column); the columns are the activity sums
TREND_KPIS = {
    "ctr": ("CTR", "ad_clicks", "ad_impressions"),
    "conversion_rate": ("Conversion rate", "converting_sessions", "sessions"),
    "revenue_per_user": ("Revenue per active user", "revenue", "active_users"),
    "orders_per_user": ("Orders per active user", "n_purchases", "active_users"),
    "avg_order_value": ("Average order value", "order_value", "n_purchases"),
}
NOT_OVER_TIME = {
    "repeat_rate": "the repeat-purchase rate describes a customer's whole history, not a period",
    "churn_rate": "churn is measured at the end of the log, not per period",
}
_SUMS = ("active_users", "n_events", "sessions", "converting_sessions", "n_purchases", "revenue", "order_value",
         "ad_impressions", "ad_clicks")


@dataclass
class KpiTrends:
    """Per persona (then ``All users``) and period: the active users and each KPI (see the module)."""

    table: pd.DataFrame  # segment, period, partial, active_users, enough, one column per KPI
    grain: str
    kpis: dict[str, str]  # name -> label, the KPIs given per period
    units: dict[str, str]  # name -> "rate", "money" or "count"
    span: tuple[pd.Timestamp, pd.Timestamp]  # the log's first and last day
    withheld: list[str] = field(default_factory=list)
    not_over_time: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain data for JSON: per segment and period its figures (null where there are none)."""
        rows = []
        for r in self.table.to_dict("records"):
            row = {"segment": r["segment"], "period": str(pd.Timestamp(r["period"]).date()),
                   "partial": bool(r["partial"]), "active_users": int(r["active_users"])}
            for k in self.kpis:
                v = r[k]
                row[k] = None if pd.isna(v) else float(v)
            if not r["enough"]:
                row["reason"] = f"not enough data: {int(r['active_users'])} active users (fewer than {MIN_UNITS})"
            rows.append(row)
        return {"grain": self.grain, "first_day": str(self.span[0].date()), "last_day": str(self.span[1].date()),
                "kpis": [{"name": k, "label": v, "unit": self.units[k]} for k, v in self.kpis.items()],
                "withheld": self.withheld, "not_over_time": self.not_over_time, "periods": rows}


def _partial(periods: pd.Series, grain: str, first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    """Whether the log covers each period only in part."""
    starts = pd.to_datetime(periods)
    ends = starts + (pd.Timedelta(days=7) if grain == "week" else pd.offsets.MonthBegin(1)) - pd.Timedelta(days=1)
    return ((starts < first.normalize()) | (ends > last.normalize())).to_numpy()


def kpi_trends(activity: pd.DataFrame, names: dict, sizes: dict, *, grain: str, kpis, units: dict[str, str],
               span: tuple, min_segment_size: int = 1) -> KpiTrends:
    """KPIs per persona and period from the activity sums per cluster and period.

    Parameters
    ----------
    activity : DataFrame
        cluster, period and the sums of :meth:`segcore.store.Store.activity_by_segment`.
    names : dict
        cluster -> persona name.
    sizes : dict
        cluster -> users in the run (for the minimum segment size).
    grain : {'week', 'month'}
    kpis : iterable of str
        The KPIs the data supports (:func:`segcore.kpi.kpi_availability`); those of :data:`TREND_KPIS` are given.
    units : dict
        KPI -> unit ("rate", "money" or "count").
    span : (first, last)
        The log's first and last event.
    min_segment_size : int, default=1
    """
    if grain not in GRAINS:
        raise InputError(f"grain {grain!r} should be one of {', '.join(GRAINS)}")
    first, last = (pd.Timestamp(t) for t in span)
    wanted = [k for k in kpis if k in TREND_KPIS]
    withheld = sorted((c for c, n in sizes.items() if n < int(min_segment_size)), key=str)
    shown = activity[~activity["cluster"].isin(withheld)].copy()
    if shown.empty:
        raise InputError(f"every segment has fewer than {int(min_segment_size)} users, or no activity with a time")
    shown["segment"] = shown["cluster"].map(lambda c: str(names.get(c, c)))
    everyone = shown.groupby("period", as_index=False)[list(_SUMS)].sum().assign(segment="All users")
    table = pd.concat([shown.drop(columns="cluster"), everyone], ignore_index=True)
    table["enough"] = table["active_users"] >= MIN_UNITS
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in wanted:
            _, num, den = TREND_KPIS[k]
            den_values = table[den].astype(float)
            table[k] = np.where(table["enough"] & (den_values > 0), table[num].astype(float) / den_values, np.nan)
    table["partial"] = _partial(table["period"], grain, first, last)
    table["later"] = table["segment"] != "All users"  # all users first, then the personas by name
    table = table.sort_values(["later", "segment", "period"], kind="stable").reset_index(drop=True)
    return KpiTrends(table[["segment", "period", "partial", "active_users", "enough", *wanted]], grain,
                     {k: TREND_KPIS[k][0] for k in wanted}, {k: units.get(k, "rate") for k in wanted}, (first, last),
                     [str(names.get(c, c)) for c in withheld],
                     {k: why for k, why in NOT_OVER_TIME.items() if k in set(kpis)})
