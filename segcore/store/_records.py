"""Typed records of what the store holds: a dataset and a run, decoded once where they are read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

__all__ = ["DatasetRecord", "RunRecord"]


def _json(text, empty=None):
    return json.loads(text) if isinstance(text, str) and text else empty


def _int_or_none(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


@dataclass(frozen=True)
class DatasetRecord:
    """One dataset: what it was imported from and what the import learnt.

    ``privacy``: one ``{"column", "kind", "action"}`` per column treated as personal data.
    ``event_facts``: for a dataset with an event log, what its import counted and found (its shape,
    time range, event types, the features left out and why); None for a users table alone.
    ``n_runs``: for a replaced version only (:meth:`Store.previous_version`), how many runs it carries.
    """

    name: str
    kind: str
    source: str
    n_users: int
    n_events: int | None
    privacy: list[dict] = field(default_factory=list)
    created_at: datetime | None = None
    event_facts: dict | None = None
    n_runs: int | None = None

    @classmethod
    def from_row(cls, row: dict) -> DatasetRecord:
        return cls(name=row["name"], kind=row["kind"], source=row["source"], n_users=int(row["n_users"]),
                   n_events=_int_or_none(row["n_events"]), privacy=_json(row["privacy"], []),
                   created_at=row["created_at"], event_facts=_json(row.get("event_facts")),
                   n_runs=_int_or_none(row.get("n_runs")))

    @property
    def shape(self) -> str | None:
        """``events`` or ``transactions`` for a dataset with a log; None for a users table alone."""
        return (self.event_facts or {}).get("shape")

    @property
    def left_out(self) -> dict[str, str]:
        """Features the log could not support, each with what it would need."""
        return (self.event_facts or {}).get("left_out", {})

    @property
    def hashed_columns(self) -> set[str]:
        """Columns kept only as hashes (pseudonyms such as an e-mail's SHA-256)."""
        return {p["column"] for p in self.privacy if p["action"] == "hash"}


@dataclass(frozen=True)
class RunRecord:
    """One run: everything needed to rebuild its matrix, and what the fit measured."""

    run_id: str
    dataset: str
    algo: str
    k: int
    seed: int
    params: dict | None = None
    features: list[str] = field(default_factory=list)
    preprocessing: dict = field(default_factory=dict)
    fingerprint: str | None = None
    metrics: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    explanation: dict | None = None
    created_at: datetime | None = None
    label: str | None = None  # the name people gave the run
    pinned: bool = False

    JSON_FIELDS = ("params", "features", "preprocessing", "metrics", "versions", "explanation")

    @classmethod
    def from_row(cls, row: dict) -> RunRecord:
        decoded = {f: _json(row.get(f)) for f in cls.JSON_FIELDS}
        label = row.get("label")
        return cls(run_id=row["run_id"], dataset=row["dataset"], algo=row["algo"], k=int(row["k"]),
                   seed=int(row["seed"]), fingerprint=row.get("fingerprint"), created_at=row.get("created_at"),
                   label=None if label is None or pd.isna(label) else str(label),
                   pinned=bool(row.get("pinned")) if not pd.isna(row.get("pinned")) else False,
                   **{**decoded, "features": decoded["features"] or [], "preprocessing": decoded["preprocessing"] or {},
                      "metrics": decoded["metrics"] or {}, "versions": decoded["versions"] or {}})

    @property
    def segment_stability(self) -> dict[int, float]:
        """Per segment, its mean Jaccard similarity over resampled refits (empty where not measured)."""
        return {int(c): v for c, v in (self.metrics.get("segment_stability") or {}).items()}
