"""Data quality report: what is wrong with a dataset before anyone clusters it, and what to do.

Per column of the feature table: type, missing share, distinct values, range and the share of
extreme outliers (beyond 3 interquartile ranges from the quartiles). Per dataset: duplicate user
ids, the date range of events, events without a user or a readable time, and users with too little
activity to segment. Each problem becomes a finding with a suggested fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ._common import is_numeric_type

__all__ = ["Finding", "QualityReport", "outlier_fences", "assess"]

MISSING_WARN = 0.2
OUTLIER_WARN = 0.05  # behavioural data is heavy-tailed: only flag columns where extremes are common
LOW_ACTIVITY_EVENTS = 3


@dataclass(frozen=True)
class Finding:
    level: str  # "warning" or "info"
    column: str | None
    message: str
    fix: str

    def line(self) -> str:
        where = f"column {self.column!r}: " if self.column else ""
        return f"{self.level}: {where}{self.message}" + (f" ({self.fix})" if self.fix else "")


@dataclass
class QualityReport:
    columns: pd.DataFrame  # column, type, missing_share, distinct, min, max, outlier_share
    findings: list[Finding] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]


def outlier_fences(summ: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Per numeric column of a summary (:meth:`Store.summarize`): the values beyond which a value is an extreme
    outlier, 3 interquartile ranges from the quartiles."""
    numeric = summ["column_type"].map(is_numeric_type).astype(bool)
    fences = {}
    for r in summ[numeric].itertuples():
        q1, q3 = pd.to_numeric(r.q25, errors="coerce"), pd.to_numeric(r.q75, errors="coerce")
        if pd.notna(q1) and pd.notna(q3) and q3 > q1:
            fences[r.column_name] = (float(q1 - 3 * (q3 - q1)), float(q3 + 3 * (q3 - q1)))
    return fences


def assess(summ: pd.DataFrame, facts: dict) -> QualityReport:
    """The findings on a dataset from its feature table's summary and the counts taken with
    :func:`outlier_fences` (:meth:`Store.quality_counts`)."""
    n = int(summ["count"].iloc[0]) if len(summ) else 0
    cols = pd.DataFrame({
        "column": summ["column_name"], "type": summ["column_type"],
        "missing_share": summ["null_percentage"] / 100, "distinct": summ["approx_unique"],
        "min": summ["min"], "max": summ["max"],
        "outlier_share": [facts["outside_fences"].get(c, 0) / n if n else 0.0 for c in summ["column_name"]],
    })
    findings: list[Finding] = []
    for r in cols.itertuples():
        if r.column == "user_id":
            continue
        if r.missing_share >= 1:
            findings.append(Finding("warning", r.column, "has no values", "it is left out of the features"))
            continue
        if r.distinct <= 1:
            findings.append(Finding("warning", r.column, "has a single value for every user",
                                    "deselect it: it cannot tell segments apart"))
        if r.missing_share >= MISSING_WARN:
            findings.append(Finding("warning", r.column, f"is {r.missing_share:.0%} missing",
                                    "missing values are imputed (Features page); deselect it if the gaps mean "
                                    "something else"))
    spiky = cols[(cols["outlier_share"] >= OUTLIER_WARN) & (cols["column"] != "user_id")]
    if not spiky.empty:
        listed = ", ".join(f"{c} ({v:.0%})" for c, v in zip(spiky["column"], spiky["outlier_share"]))
        findings.append(Finding("warning", None, f"extreme outliers (beyond 3 IQR) are common in {listed}",
                                "keep outlier capping on and skewed counts logged (Features page)"))
    if facts.get("duplicate_ids"):
        findings.append(Finding("warning", "user_id", f"{facts['duplicate_ids']:,} user ids appear more than once",
                                "de-duplicate the users file, or pick a column that identifies users uniquely"))
    if facts.get("events_without_time"):
        findings.append(Finding("warning", "timestamp", f"{facts['events_without_time']:,} of {facts['events']:,} "
                                "events have no readable time and were left out of the features",
                                "check the timestamp column's format"))
    if facts.get("events_without_user"):
        findings.append(Finding("warning", "user_id", f"{facts['events_without_user']:,} events have no user id "
                                "and were left out", "check the column mapped to user_id"))
    if facts.get("low_activity_users"):
        share = facts["low_activity_users"] / n if n else 0
        level = "warning" if share >= 0.1 else "info"
        findings.append(Finding(level, None, f"{facts['low_activity_users']:,} users ({share:.0%}) have fewer than "
                                f"{LOW_ACTIVITY_EVENTS} events: too little activity to segment reliably",
                                "consider leaving them out, or treat their segment with care"))
    if facts.get("first_event") is not None:
        findings.append(Finding("info", None, f"events from {facts['first_event']:%Y-%m-%d} to "
                                f"{facts['last_event']:%Y-%m-%d}", ""))
    return QualityReport(cols, findings, facts)
