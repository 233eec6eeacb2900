"""Bring files into the store: user tables and event logs, with PII neutralised on the way in.

The flow is: peek at the file (DuckDB reads a sample; the file is never loaded
whole into pandas), detect PII, build a :class:`~segcore.store.TablePlan` that
names every column to keep and how to transform it, and let the store copy the
file through that plan in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError
from .pii import ACTIONS, PiiFinding, detect_pii
from .sample import SAMPLE_DIR
from .store import ColumnPlan, Store, TablePlan

__all__ = ["EVENT_ROLES", "ImportReport", "detect_format", "propose_mapping", "import_file",
           "import_sample", "open_store"]

EVENT_ROLES = ("user_id", "timestamp", "event_type", "amount", "session_id", "category", "device")
REQUIRED_EVENT_ROLES = ("user_id", "timestamp")
_ROLE_TARGET = {"timestamp": "ts"}
_ROLE_NAMES = {
    "user_id": ("user_id", "userid", "user", "customer_id", "customerid", "client_id", "visitor_id", "uid", "id"),
    "timestamp": ("timestamp", "ts", "time", "event_time", "datetime", "date", "created_at", "occurred_at"),
    "event_type": ("event_type", "event", "type", "action", "event_name"),
    "amount": ("amount", "revenue", "value", "price", "total", "order_value"),
    "session_id": ("session_id", "session", "sessionid", "visit_id"),
    "category": ("category", "content_category", "product_category", "section"),
    "device": ("device", "device_type", "platform"),
}
_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class ImportReport:
    """What an import did: counts, PII actions and anything the user should know."""

    name: str
    kind: str
    n_users: int
    n_events: int | None
    pii: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"dataset {self.name!r}: {self.n_users:,} users"
               + (f" from {self.n_events:,} events" if self.n_events is not None else "")]
        for p in self.pii:
            verb = "hashed (SHA-256)" if p["action"] == "hash" else "dropped"
            out.append(f"privacy: column {p['column']!r} ({p['kind'].replace('_', ' ')}) {verb}")
        out += [f"warning: {w}" for w in self.warnings]
        return out


def detect_format(path: str | Path) -> str:
    """``csv`` or ``parquet``, from the extension or else the file's first bytes."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file {str(path)!r} does not exist")
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder, not a file")
    if path.stat().st_size == 0:
        raise InputError(f"file {path.name!r} is empty")
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt:
        return fmt
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == b"PAR1":
        return "parquet"
    raise InputError(f"cannot tell the format of {path.name!r}: name it .csv or .parquet")


def _peek(store: Store, path: Path, fmt: str, text_columns=()) -> pd.DataFrame:
    try:
        return store.peek(str(path), fmt, text_columns=text_columns)
    except InputError:
        raise
    except Exception as exc:  # DuckDB's reader errors name the line; keep the first sentence
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read {path.name!r} as {fmt.upper()}: {msg}") from exc


def propose_mapping(columns: list[str]) -> dict[str, str]:
    """Guess which column plays which event role, from column names."""
    norm = {re.sub(r"[^a-z0-9]+", "_", str(c).lower()).strip("_"): c for c in columns}
    mapping, used = {}, set()
    for role in EVENT_ROLES:
        for cand in _ROLE_NAMES[role]:
            if cand in norm and norm[cand] not in used:
                mapping[role] = norm[cand]
                used.add(norm[cand])
                break
    return mapping


def _pii_plan(findings: list[PiiFinding], overrides: dict[str, str] | None) -> dict[str, PiiFinding]:
    overrides = overrides or {}
    bad = {c: a for c, a in overrides.items() if a not in ACTIONS}
    if bad:
        raise InputError(f"PII action {next(iter(bad.values()))!r} for column {next(iter(bad))!r} "
                         f"is not one of {', '.join(ACTIONS)}")
    plan = {}
    for f in findings:
        action = overrides.get(f.column, f.action)
        plan[f.column] = PiiFinding(f.column, f.kind, f.evidence, action)
    return plan


def _hash_transform(kind: str) -> str:
    return {"email": "hash_email", "phone": "hash_phone"}.get(kind, "hash")


def _users_plan(store: Store, path: Path, fmt: str, id_column: str | None,
                pii_actions: dict[str, str] | None) -> tuple[TablePlan, list[PiiFinding]]:
    head = _peek(store, path, fmt)
    columns = [str(c) for c in head.columns]
    id_column = id_column or ("user_id" if "user_id" in columns else None)
    if id_column is None:
        raise InputError(f"{path.name!r} has no 'user_id' column: name the id column with --id "
                         f"(columns: {', '.join(columns[:12])})")
    if id_column not in columns:
        raise InputError(f"id column {id_column!r} is not in {path.name!r} (columns: {', '.join(columns[:12])})")
    sample = _peek(store, path, fmt, text_columns=(id_column,) if fmt == "csv" else ())
    if sample[id_column].isna().all():
        raise InputError(f"id column {id_column!r} in {path.name!r} has no values")
    pii = _pii_plan(detect_pii(sample, protect=(id_column,)), pii_actions)
    cols = []
    for c in columns:
        target = "user_id" if c == id_column else c
        if c != id_column and c == "user_id":
            continue  # the chosen id takes the name user_id
        if c in pii:
            if pii[c].action == "drop":
                continue
            cols.append(ColumnPlan(c, target, _hash_transform(pii[c].kind)))
        else:
            cols.append(ColumnPlan(c, target, "text" if c == id_column else "keep"))
    return TablePlan(str(path), fmt, tuple(cols), (id_column,) if fmt == "csv" else ()), list(pii.values())


def _events_plan(store: Store, path: Path, fmt: str, mapping: dict[str, str] | None,
                 pii_actions: dict[str, str] | None) -> tuple[TablePlan, list[PiiFinding], list[str]]:
    head = _peek(store, path, fmt)
    columns = [str(c) for c in head.columns]
    mapping = dict(mapping) if mapping else propose_mapping(columns)
    unknown_roles = [r for r in mapping if r not in EVENT_ROLES]
    if unknown_roles:
        raise InputError(f"unknown role {unknown_roles[0]!r}: roles are {', '.join(EVENT_ROLES)}")
    for role, col in mapping.items():
        if col not in columns:
            raise InputError(f"column {col!r} (mapped to {role}) is not in {path.name!r} "
                             f"(columns: {', '.join(columns[:12])})")
    missing = [r for r in REQUIRED_EVENT_ROLES if r not in mapping]
    if missing:
        raise InputError(f"map a column to {' and '.join(missing)} (--map {missing[0]}=COLUMN); "
                         f"columns of {path.name!r}: {', '.join(columns[:12])}")
    text_cols = tuple(mapping[r] for r in ("user_id", "session_id") if r in mapping) if fmt == "csv" else ()
    sample = _peek(store, path, fmt, text_columns=text_cols)
    kept = list(dict.fromkeys(mapping.values()))
    pii = _pii_plan(detect_pii(sample[kept], protect=(mapping["user_id"],)), pii_actions)
    warnings = []
    cols = []
    for role in EVENT_ROLES:
        target = _ROLE_TARGET.get(role, role)
        col = mapping.get(role)
        if col is None:
            cols.append(ColumnPlan(None, target, "null_double" if role == "amount" else "null_text"))
        elif col in pii and role != "timestamp":
            if pii[col].action == "drop":
                warnings.append(f"column {col!r} ({role}) holds personal data and was dropped")
                cols.append(ColumnPlan(None, target, "null_text"))
            else:
                cols.append(ColumnPlan(col, target, _hash_transform(pii[col].kind)))
        elif role == "timestamp":
            cols.append(ColumnPlan(col, target, _timestamp_transform(sample[col])))
        elif role == "amount":
            cols.append(ColumnPlan(col, target, "double"))
        else:
            cols.append(ColumnPlan(col, target, "text"))
    return TablePlan(str(path), fmt, tuple(cols), text_cols), list(pii.values()), warnings


def _timestamp_transform(values: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(values) or values.dtype == object and \
            values.dropna().map(lambda v: hasattr(v, "year")).all() and not values.dropna().empty:
        return "timestamp"
    if pd.api.types.is_numeric_dtype(values):
        med = values.dropna().abs().median() if not values.dropna().empty else 0
        return "epoch_ms" if med > 1e11 else "epoch_s"
    return "timestamp"


def import_file(store: Store, path: str | Path, name: str, *, kind: str = "users", id_column: str | None = None,
                mapping: dict[str, str] | None = None, pii_actions: dict[str, str] | None = None,
                replace: bool = False) -> ImportReport:
    """Import a CSV or Parquet file as a dataset.

    Parameters
    ----------
    store : Store
    path : str or Path
        The file to import.
    name : str
        The dataset's name.
    kind : {'users', 'events'}, default='users'
        A table with one row per user, or an event log (one row per event).
    id_column : str, optional
        Users only: the id column (default ``user_id``). Ids are kept as text,
        exactly as written.
    mapping : dict, optional
        Events only: role -> column, roles from :data:`EVENT_ROLES`;
        ``user_id`` and ``timestamp`` are required. Proposed from the column
        names when omitted.
    pii_actions : dict, optional
        Column -> ``hash`` or ``drop``, overriding the defaults for detected PII.
    replace : bool, default=False
        Replace an existing dataset of the same name.
    """
    if kind not in ("users", "events"):
        raise InputError(f"kind={kind!r} should be 'users' or 'events'")
    path = Path(path)
    fmt = detect_format(path)
    if kind == "users":
        if mapping:
            raise InputError("--map is for event logs (--kind events); a users table takes --id")
        plan, findings = _users_plan(store, path, fmt, id_column, pii_actions)
        warnings: list[str] = []
        users, events = plan, None
    else:
        plan, findings, warnings = _events_plan(store, path, fmt, mapping, pii_actions)
        users, events = None, plan
    privacy = [f.as_dict() for f in findings]
    try:
        store.import_dataset(name, users=users, events=events, kind=kind, source=path.name, privacy=privacy,
                             replace=replace)
    except InputError:
        raise
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"could not import {path.name!r}: {msg}") from exc
    info = store.dataset(name)
    n_events = None if pd.isna(info["n_events"]) else int(info["n_events"])
    if events is not None and n_events is not None and int(info["n_users"]) == 0:
        warnings.append("no event had both a user id and a readable timestamp: check the timestamp column")
    return ImportReport(name, kind, int(info["n_users"]), n_events, privacy, warnings)


def import_sample(store: Store, name: str = "sample", *, sample_dir: str | Path = SAMPLE_DIR,
                  if_missing: bool = True) -> bool:
    """Load the bundled sample (users joined to events) as one dataset; False if it was there."""
    sample_dir = Path(sample_dir)
    users_path, events_path = sample_dir / "users.parquet", sample_dir / "events.parquet"
    if not users_path.exists() or not events_path.exists():
        raise InputError(f"the bundled sample is missing from {sample_dir}: run python sample_data/generate.py")
    users_plan, findings = _users_plan(store, users_path, "parquet", "user_id", None)
    mapping = {r: r for r in EVENT_ROLES}
    events_plan, _, _ = _events_plan(store, events_path, "parquet", mapping, None)
    return store.import_dataset(name, users=users_plan, events=events_plan, kind="sample",
                                source="bundled sample", privacy=[f.as_dict() for f in findings],
                                if_missing=if_missing)


def open_store(path: str | Path | None = None, *, seed_sample: bool = True, timeout: float = 30.0) -> Store:
    """Open (or create) a store; a new store is seeded with the bundled sample as ``sample``."""
    store = Store(path, timeout=timeout)
    if seed_sample and store.list_datasets().empty:
        import_sample(store)
    return store
