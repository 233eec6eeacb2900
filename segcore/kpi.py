"""KPIs per segment against the overall baseline, for stakeholders.

Only the KPIs a dataset's features support are computed; each of the others is
named with what the data would need (:func:`kpi_availability`). Rates are pooled
over a segment's users (its clicks over its impressions), not averaged per user.

- CTR: ad clicks / ad impressions
- conversion rate: sessions with a purchase / sessions
- revenue per user, orders per user, average order value (order value / orders)
- repeat-purchase rate: buyers with two or more orders / buyers
- churn rate: the dataset's ``churned`` flag when it has one; in a transaction log,
  a customer is churned when their time since the last order is more than twice
  their own average gap between orders (one-time buyers: more than twice the
  median gap of repeat customers); otherwise no activity in the last
  ``churn_days`` days of the log

Each KPI also comes as a lift: the segment's value divided by the baseline's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._common import json_value
from .disclosure import shown_users
from .errors import InputError

__all__ = ["CHURN_DAYS", "KPIS", "KPI_INPUTS", "KPI_LABELS", "KpiReport", "KpiSpec", "churn_definition",
           "kpi_availability",
           "kpi_report", "segment_kpis"]


@dataclass(frozen=True)
class KpiSpec:
    """One KPI: its name, label, unit (``rate``, ``money`` or ``count``), the feature columns it is
    computed from, what it means, and what a dataset without them would need."""

    name: str
    label: str
    unit: str
    needs: tuple[str, ...]
    definition: str
    missing: str


KPIS = (
    KpiSpec("ctr", "CTR", "rate", ("ad_impressions", "ad_clicks"), "ad clicks / ad impressions",
            "CTR needs ad impression and ad click events: say which event types they are on the Data page "
            "(event vocabulary)"),
    KpiSpec("conversion_rate", "Conversion rate", "rate", ("n_sessions", "conversion_rate"),
            "sessions with a purchase / sessions",
            "conversion rate needs purchase events in sessions (session ids or times of day): say which event "
            "type is a purchase on the Data page"),
    KpiSpec("revenue_per_user", "Revenue per user", "money", ("revenue",),
            "the segment's revenue (returns subtracted) / its users",
            "revenue per user needs amounts: map an amount column (or quantity and unit price) on the Data page"),
    KpiSpec("orders_per_user", "Orders per user", "count", ("n_purchases",), "orders / users",
            "orders per user needs purchases: a transaction log, or an event type read as purchase"),
    KpiSpec("avg_order_value", "Average order value", "money", ("avg_order_value", "n_purchases"),
            "value of the segment's orders / its orders",
            "average order value needs purchases with amounts"),
    KpiSpec("repeat_rate", "Repeat-purchase rate", "rate", ("n_purchases",),
            "buyers with two or more orders / buyers",
            "repeat-purchase rate needs purchases: a transaction log, or an event type read as purchase"),
    KpiSpec("churn_rate", "Churn rate", "rate", ("recency_days",), "see churn_definition",
            "churn rate needs each user's time since their last activity"),
)
KPI_LABELS = {k.name: k.label for k in KPIS}
KPI_INPUTS = tuple(dict.fromkeys(c for k in KPIS for c in k.needs)) + ("purchase_interval_days", "churned")
_RHYTHM = 2.0  # a customer is churned after twice their usual gap between orders
CHURN_DAYS = 60.0  # inactivity that counts as churn where the data has neither a churn flag nor purchase rhythms


# What a transaction log, which records purchases only, lacks for the KPIs of a clickstream.
_NOT_IN_TRANSACTIONS = {
    "ctr": "CTR needs ad impressions and clicks: a transaction log records purchases only",
    "conversion_rate": "conversion rate needs visits that did not end in a purchase: a transaction log records "
                       "purchases only (import the clickstream as an event log for it)",
}


def kpi_availability(columns, shape: str | None = None) -> tuple[list[KpiSpec], dict[str, str]]:
    """The KPIs a feature table supports, and for each other one what the data would need
    (``shape``: the log's, ``events`` or ``transactions``, for a message that fits it)."""
    have = set(columns)
    ok = [k for k in KPIS if set(k.needs) <= have]
    why = {k.name: k.missing for k in KPIS if k not in ok}
    if shape == "transactions":
        why |= {k: v for k, v in _NOT_IN_TRANSACTIONS.items() if k in why}
    return ok, why


def _churn_rule(frame: pd.DataFrame, churn_days: float) -> tuple[str, float | None]:
    """Which churn definition applies to ``frame`` (flag, rhythm or window) and, for rhythm, the window
    that applies to one-time buyers."""
    if "churned" in frame:
        return "flag", None
    if "purchase_interval_days" in frame:
        gaps = pd.to_numeric(frame["purchase_interval_days"], errors="coerce").dropna()
        gaps = gaps[gaps > 0]
        if len(gaps):
            return "rhythm", _RHYTHM * float(gaps.median())
    return "window", float(churn_days)


def churn_definition(frame: pd.DataFrame, churn_days: float = CHURN_DAYS) -> str:
    """The churn definition :func:`segment_kpis` uses on ``frame``, in words."""
    rule, window = _churn_rule(frame, churn_days)
    if rule == "flag":
        return "the dataset's churned flag"
    if rule == "rhythm":
        return (f"no order for more than twice the customer's own average gap between orders; for one-time "
                f"buyers, no order in the last {window:.0f} days (twice the median gap of repeat customers), "
                "counted back from the last transaction in the log")
    return f"no activity in the last {window:.0f} days of the log"


def _churned(g: pd.DataFrame, rule: str, window: float | None) -> pd.Series:
    if rule == "flag":
        return g["churned"].astype(float)
    recency = pd.to_numeric(g["recency_days"], errors="coerce")
    if rule == "rhythm":
        gap = pd.to_numeric(g["purchase_interval_days"], errors="coerce")
        limit = (_RHYTHM * gap).where(gap > 0, window)
        return (recency > limit).astype(float)
    return (recency > window).astype(float)


def _kpis(g: pd.DataFrame, specs: list[KpiSpec], rule: str, window: float | None) -> dict:
    out: dict[str, float] = {"users": len(g)}
    names = {k.name for k in specs}

    def ratio(num, den):
        return num / den if den > 0 else np.nan

    if "ctr" in names:
        out["ctr"] = ratio(g["ad_clicks"].sum(), g["ad_impressions"].sum())
    if "conversion_rate" in names:
        out["conversion_rate"] = ratio((g["conversion_rate"].fillna(0) * g["n_sessions"]).sum(), g["n_sessions"].sum())
    if "revenue_per_user" in names:
        out["revenue_per_user"] = g["revenue"].fillna(0).sum() / len(g)
    # every KPI of orders needs n_purchases (see kpi_availability): zeros stand in where none is asked for
    orders = g["n_purchases"].fillna(0) if "n_purchases" in g else pd.Series(0.0, index=g.index)
    if "orders_per_user" in names:
        out["orders_per_user"] = orders.sum() / len(g)
    if "avg_order_value" in names:
        out["avg_order_value"] = ratio((g["avg_order_value"].fillna(0) * orders).sum(), orders.sum())
    if "repeat_rate" in names:
        out["repeat_rate"] = ratio((orders >= 2).sum(), (orders >= 1).sum())
    if "churn_rate" in names:
        out["churn_rate"] = float(_churned(g, rule, window).mean())
    return out


def segment_kpis(frame: pd.DataFrame, *, by: str = "persona", churn_days: float = CHURN_DAYS,
                 min_segment_size: int = 1) -> pd.DataFrame:
    """KPIs per segment and for all users.

    Parameters
    ----------
    frame : DataFrame
        One row per user with a ``by`` column and any of :data:`KPI_INPUTS`.
    by : str, default='persona'
        The segment column.
    churn_days : float, default=60
        Inactivity that counts as churn when the data has neither a ``churned`` flag nor
        purchase rhythms (see :func:`churn_definition`).
    min_segment_size : int, default=1
        Segments with fewer users keep their size but have every KPI withheld
        (NaN, ``withheld`` True): figures about a handful of people single them out.
        Their users count nowhere else either: the all-users baseline is over the users of
        the segments shown, or it would give them away by subtraction.

    Returns
    -------
    DataFrame
        One row per segment then ``All users``: users, share, each KPI the
        data supports (:func:`kpi_availability`) and its ``<kpi>_lift`` against all users.
        A KPI whose denominator is empty in a segment (no impressions, no buyers) is NaN there.
    """
    if by not in frame:
        raise InputError(f"no segment column {by!r}")
    if frame.empty:
        raise InputError("no users to compute KPIs for")
    specs, _ = kpi_availability(frame.columns)
    rule, window = _churn_rule(frame, churn_days)
    rows = [{"segment": seg, **_kpis(g, specs, rule, window)}
            for seg, g in frame.groupby(by, sort=True, observed=True)]
    shown = frame[shown_users(frame[by], min_segment_size)]
    if shown.empty:
        raise InputError(f"every segment has fewer than {int(min_segment_size)} users: no KPI can be shown")
    base = {"segment": "All users", **_kpis(shown, specs, rule, window)}
    df = pd.DataFrame(rows + [base])
    df["share"] = df["users"] / len(frame)
    for k in specs:
        df[f"{k.name}_lift"] = df[k.name] / base[k.name] if base.get(k.name) else np.nan
    df["withheld"] = (df["users"] < int(min_segment_size)) & (df["segment"] != "All users")
    kpi_cols = [c for c in df.columns if c.split("_lift")[0] in KPI_LABELS]
    df.loc[df["withheld"], kpi_cols] = np.nan
    return df


@dataclass
class KpiReport:
    """KPIs per segment (:func:`segment_kpis`), the KPIs shown with their definitions, the KPIs the
    data does not support with what each would need, and the evidence behind each figure
    (:func:`segcore.significance.kpi_evidence`: intervals, differences from the rest, corrected tests)."""

    table: pd.DataFrame
    shown: list[KpiSpec]
    definitions: dict[str, str]
    unavailable: dict[str, str]
    evidence: pd.DataFrame | None = None
    correction: str = "bh"

    def lines(self) -> list[str]:
        out = [f"{KPI_LABELS[k]}: {v}" for k, v in self.definitions.items()]
        return out + [f"not available: {why}" for why in self.unavailable.values()]

    def to_dict(self) -> dict:
        """Plain data for JSON: per segment its users, share, withheld flag and each KPI (null where
        there is no value), and under ``evidence`` each KPI's ``value``, ``ci_low``, ``ci_high``,
        ``diff_vs_rest``, ``p``, corrected ``q`` and ``significant``, or null figures with a ``reason``;
        with the definitions, the correction and what is unavailable."""
        evidence: dict = {}
        if self.evidence is not None:
            for r in self.evidence.to_dict("records"):
                evidence.setdefault(r["segment"], {})[r["kpi"]] = {
                    f: json_value(r[f]) for f in ("value", "ci_low", "ci_high", "rest", "diff_vs_rest", "diff_low",
                                             "diff_high", "p", "q", "significant", "method", "reason")}
        rows = []
        for r in self.table.to_dict("records"):
            row = {"segment": r["segment"], "users": int(r["users"]), "share": float(r["share"]),
                   "withheld": bool(r["withheld"])}
            for k in self.shown:
                for col in (k.name, f"{k.name}_lift"):
                    v = r.get(col)
                    row[col] = None if v is None or pd.isna(v) else float(v)
            if not row["withheld"] and r["segment"] in evidence:
                row["evidence"] = evidence[r["segment"]]
            rows.append(row)
        return {"kpis": [{"name": k.name, "label": k.label, "unit": k.unit, "definition": self.definitions[k.name]}
                         for k in self.shown],
                "correction": {"bh": "Benjamini-Hochberg", "holm": "Holm"}[self.correction],
                "segments": rows, "not_available": [{"name": n, "why": w} for n, w in self.unavailable.items()]}


def kpi_report(frame: pd.DataFrame, *, by: str = "persona", churn_days: float = CHURN_DAYS,
               min_segment_size: int = 1, shape: str | None = None) -> KpiReport:
    """:func:`segment_kpis` with the definitions of the KPIs shown and what the others would need
    (``shape``: see :func:`kpi_availability`); :func:`segcore.significance.kpi_report_with_evidence` adds the
    evidence behind every figure."""
    table = segment_kpis(frame, by=by, churn_days=churn_days, min_segment_size=min_segment_size)
    shown, unavailable = kpi_availability(frame.columns, shape)
    definitions = {k.name: churn_definition(frame, churn_days) if k.name == "churn_rate" else k.definition
                   for k in shown}
    return KpiReport(table, shown, definitions, unavailable)
