"""Plans from files: what to read from a users table or an event log, and how, before anything is stored.

A file is looked at where it lies (a sample of rows read by DuckDB, never the whole file in pandas);
its columns are given roles, checked for personal data and turned into a
:class:`~segcore.store.TablePlan` that names every column to keep and its transform. Nothing here
opens a store: the store runs the plans (:meth:`~segcore.store.Store.import_dataset`).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

from .. import store as _files
from .._common import is_text
from .._mapping import (
    EVENT_KINDS,
    EVENT_ROLES,
    REQUIRED_EVENT_ROLES,
    _per_user_constants,
    propose_mapping,
    timestamp_format,
)
from ..errors import InputError
from ..pii import ACTIONS, PiiFinding, detect_pii
from ..store import AGGREGATES, CARRY_PREFIX, READ_ERRORS, ColumnPlan, TablePlan
from ._report import NAMED, NUMERIC_ROLES
from ._sniff import FileInfo, reader_error

__all__ = ["FilePlan", "peek_file", "event_values", "repeated_ids", "propose_aggregates", "users_plan", "events_plan",
           "check_named", "check_vocabulary"]

_ROLE_TARGET = {"timestamp": "ts"}


@dataclass
class FilePlan:
    """What to read from one file: its :class:`TablePlan` and what planning it found.

    ``columns``: every column of the file; ``nested``: those holding nested data (never stored);
    for an event log, ``warnings``, ``read_as`` (how its times read), ``mapping`` (role -> column) and
    ``carry`` (column -> aggregate, for columns kept per user).
    """

    table: TablePlan
    findings: list[PiiFinding]
    columns: list[str]
    nested: list[str]
    warnings: list[str] = field(default_factory=list)
    read_as: str = ""
    mapping: dict[str, str] = field(default_factory=dict)
    carry: dict[str, str] = field(default_factory=dict)


SAMPLE_ROWS = 2000


def peek_file(info: FileInfo, *, n: int = SAMPLE_ROWS, text_columns=()) -> pd.DataFrame:
    """The first ``n`` rows of an inspected file, as the import will read them."""
    with _reading(info):
        df = _files.peek(str(info.path), info.fmt, n=n, text_columns=text_columns if info.fmt == "csv" else (),
                         csv_options=info.csv_options)
    df.columns = [str(c) for c in df.columns]
    if df.empty:
        raise InputError(f"{info.path.name!r} has no rows")
    if df.shape[1] == 0:
        raise InputError(f"{info.path.name!r} has no columns")
    return df


@contextmanager
def _reading(info: FileInfo):
    """DuckDB's failures to read a file as one line naming the file. Only a reader's failures: our own
    messages pass as they are, and a bug stays a bug rather than "cannot read the file"."""
    try:
        yield
    except READ_ERRORS as exc:
        raise reader_error(exc, info.path, info.fmt) from exc


def event_values(info: FileInfo, column: str, amount: str | None = None) -> pd.DataFrame:
    """The event types of an inspected log with their counts (``value``, ``events``, ``with_amount``), as
    :func:`segcore._mapping.propose_event_vocabulary` takes them."""
    with _reading(info):
        return _files.value_counts(str(info.path), info.fmt, column, amount=amount, csv_options=info.csv_options)


def repeated_ids(info: FileInfo, column: str) -> int:
    """Rows of an inspected file that repeat an id of ``column``: what importing it as a users table drops."""
    with _reading(info):
        return _files.repeated_ids(str(info.path), info.fmt, column, csv_options=info.csv_options)


def _pii_plan(findings: list[PiiFinding], overrides: dict[str, str] | None,
              columns: list[str]) -> dict[str, PiiFinding]:
    """The detected columns with their actions, overridden by the user's choices for any column of the
    file, detected or not (a column no file has is refused by :func:`check_named`)."""
    overrides = overrides or {}
    bad = {c: a for c, a in overrides.items() if a not in ACTIONS}
    if bad:
        raise InputError(f"PII action {next(iter(bad.values()))!r} for column {next(iter(bad))!r} "
                         f"is not one of {', '.join(ACTIONS)}")
    plan = {f.column: PiiFinding(f.column, f.kind, f.evidence, overrides.get(f.column, f.action)) for f in findings}
    for column, action in overrides.items():
        if column in columns and column not in plan:
            plan[column] = PiiFinding(column, NAMED, "named by you", action)
    return plan


def check_named(overrides: dict[str, str] | None, columns: list[str], names: str) -> None:
    unknown = [c for c in (overrides or {}) if c not in columns]
    if unknown:
        raise InputError(f"column {unknown[0]!r}, given a privacy action, is not in {names} "
                         f"(columns: {', '.join(columns[:12])})")


def _pii_column(c: str, target: str, finding: PiiFinding) -> ColumnPlan | None:
    """How a column with a privacy action is stored: None when it is dropped."""
    if finding.action == "drop":
        return None
    if finding.action == "keep":
        return ColumnPlan(c, target, "keep")
    if finding.action == "mask":
        return ColumnPlan(c, target, "mask")
    return ColumnPlan(c, target, {"email": "hash_email", "phone": "hash_phone"}.get(finding.kind, "hash"))


def _nested(values: pd.Series) -> bool:
    """Whether a column holds nested data (structs, lists, maps): never stored, as its fields cannot be checked
    for personal data one by one."""
    return values.dtype == object and values.dropna().head(50).map(
        lambda x: isinstance(x, (dict, list, tuple)) or hasattr(x, "__array__")).any()


def _checked(values: pd.Series, fmt: str) -> str:
    """The transform of a column no role takes and no privacy action names: every value checked."""
    if _numeric_column(values, fmt):
        return "number"
    if pd.api.types.is_bool_dtype(values.dtype):
        return "keep"
    if pd.api.types.is_numeric_dtype(values.dtype):
        return "checked"  # integers: their type kept, card numbers removed
    if is_text(values):
        return "mask"
    return "keep"  # dates and times


def users_plan(info: FileInfo, id_column: str | None, pii_actions: dict[str, str] | None) -> FilePlan:
    """The plan of a users table."""
    # a CSV is read again below with its id column as text; Parquet and JSON declare their types
    head = peek_file(info, n=50 if info.fmt == "csv" else SAMPLE_ROWS)
    name = info.path.name
    columns = list(head.columns)
    id_column = id_column or ("user_id" if "user_id" in columns else None)
    if id_column is None:
        raise InputError(f"{name!r} has no 'user_id' column: name the id column "
                         f"(columns: {', '.join(columns[:12])})", cli="--id COLUMN", app="User id column")
    if id_column not in columns:
        raise InputError(f"id column {id_column!r} is not in {name!r} (columns: {', '.join(columns[:12])})")
    sample = peek_file(info, text_columns=(id_column,)) if info.fmt == "csv" else head
    if sample[id_column].isna().all():
        raise InputError(f"id column {id_column!r} in {name!r} has no values: fill in the ids or pick "
                         "another column", cli="--id COLUMN", app="User id column")
    nested = [c for c in columns if c != id_column and _nested(sample[c])]
    pii = _pii_plan(detect_pii(sample.drop(columns=nested), protect=(id_column,)), pii_actions, columns)
    cols = []
    for c in columns:
        target = "user_id" if c == id_column else c
        if (c != id_column and c == "user_id") or (c in nested and c not in pii):
            continue  # the chosen id takes the name user_id; nested data is not stored
        if c in pii:
            if c == id_column and pii[c].action in ("drop", "mask"):
                raise InputError(f"the id column {c!r} can be hashed or kept as it is, not "
                                 f"{'dropped' if pii[c].action == 'drop' else 'masked'}: users are told apart by it")
            plan = _pii_column(c, target, pii[c])
            if c in nested and plan is not None and plan.transform != "keep":
                raise InputError(f"column {c!r} holds nested data: it can be dropped or kept, not "
                                 f"{pii[c].action}ed")
            if plan is not None:
                cols.append(ColumnPlan(c, target, "text") if c == id_column and plan.transform == "keep" else plan)
        elif c == id_column:
            cols.append(ColumnPlan(c, target, "id"))
        else:
            cols.append(ColumnPlan(c, target, _checked(sample[c], info.fmt)))
    return FilePlan(_plan(info, cols, (id_column,)), list(pii.values()), columns, nested)


def _numeric_column(values: pd.Series, fmt: str) -> bool:
    """Floats, or in a CSV text that is mostly numbers ('n/a', 'inf' and typos aside): read as finite
    numbers. Parquet and JSON declare their types: text there stays text (codes like '0042')."""
    if pd.api.types.is_float_dtype(values):
        return True
    if fmt != "csv" or not is_text(values):
        return False
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    if len(present) == 0:
        return False
    return pd.to_numeric(present, errors="coerce").notna().mean() >= 0.8


def _plan(info: FileInfo, cols, text_columns) -> TablePlan:
    return TablePlan(str(info.path), info.fmt, tuple(cols), tuple(text_columns) if info.fmt == "csv" else (),
                     dict(info.csv_options))


def events_plan(info: FileInfo, mapping: dict[str, str] | None, pii_actions: dict[str, str] | None,
                date_format: str | None = None, aggregates: dict[str, str] | None = None,
                keep_events: bool = False) -> FilePlan:
    """The plan of an event log, with its warnings, how its times read, its mapping and the columns kept per user.

    Text kept in the store is checked value by value: the log's own columns when it is kept whole, and
    the columns kept per user. A log that is not kept is read into features, which the store checks.
    """
    name = info.path.name
    head = peek_file(info)
    columns = list(head.columns)
    mapping = dict(mapping) if mapping else propose_mapping(columns, head)
    unknown_roles = [r for r in mapping if r not in EVENT_ROLES]
    if unknown_roles:
        raise InputError(f"unknown role {unknown_roles[0]!r}: roles are {', '.join(EVENT_ROLES)}")
    for role, named in mapping.items():
        if named not in columns:
            raise InputError(f"column {named!r} (mapped to {role}) is not in {name!r} "
                             f"(columns: {', '.join(columns[:12])})")
    missing = [r for r in REQUIRED_EVENT_ROLES if r not in mapping]
    if missing:
        raise InputError(f"map a column to {' and '.join(missing)}; columns of {name!r}: {', '.join(columns[:12])}",
                         cli=f"--map {missing[0]}=COLUMN", app="Column roles")
    text_cols = tuple(mapping[r] for r in ("user_id", "session_id") if r in mapping)
    sample = peek_file(info, text_columns=text_cols) if info.fmt == "csv" else head  # as for users
    kept = list(dict.fromkeys(mapping.values()))
    unmapped = [c for c in columns if c not in kept]
    nested = [c for c in unmapped if _nested(sample[c])]
    pii = _pii_plan(detect_pii(sample[kept + [c for c in unmapped if c not in nested]],
                               protect=(mapping["user_id"],)), pii_actions, columns)
    if pii.get(mapping["user_id"]) and pii[mapping["user_id"]].action in ("drop", "mask"):
        raise InputError(f"the user id column {mapping['user_id']!r} can be hashed or kept as it is, not "
                         f"{'dropped' if pii[mapping['user_id']].action == 'drop' else 'masked'}: users are told "
                         "apart by it")
    held = {c for c, f in pii.items() if f.action != "keep"} | set(nested)
    carry = _carried(sample, mapping, held, aggregates, name)
    warnings = []
    ts_col = mapping["timestamp"]
    ts = timestamp_format(sample[ts_col], date_format)
    if ts.share == 0:
        shown = ", ".join(repr(v) for v in ts.unread[:3])
        raise InputError(f"timestamp column {ts_col!r} of {name!r} has no value that reads as a date or time "
                         f"({shown}): map another column to timestamp or give its format, '%d/%m/%Y %H:%M' for "
                         "example", cli="--map timestamp=COLUMN or --date-format FORMAT",
                         app="Column roles, or Timestamp format")
    if ts.ambiguous:
        swapped = (ts.arg or "").replace("%d", "%_").replace("%m", "%d").replace("%_", "%m")
        warnings.append(f"timestamps in {ts_col!r} read as day/month ({ts.arg}); month/day reads them too: "
                        f"give the date format '{swapped}' "
                        "if months come first")
    cols = []
    for role in EVENT_ROLES:
        target = _ROLE_TARGET.get(role, role)
        col = mapping.get(role)
        if col is None:
            cols.append(ColumnPlan(None, target, "null_double" if role in NUMERIC_ROLES else "null_text"))
        elif col in pii and role != "timestamp" and pii[col].action != "keep":
            plan = _pii_column(col, target, pii[col])
            if plan is None:
                warnings.append(f"column {col!r} ({role}) holds personal data and was dropped")
                plan = ColumnPlan(None, target, "null_double" if role in NUMERIC_ROLES else "null_text")
            cols.append(plan)
        elif role == "timestamp":
            cols.append(ColumnPlan(col, target, ts.transform, ts.arg))
        elif role in NUMERIC_ROLES:
            # a card number given as an amount would reach the store as a revenue: amounts stop below a trillion
            cols.append(ColumnPlan(col, target, "amount"))
        elif role == "session_id":
            # Kept in the file's type: a session id is only compared with the log's other session ids.
            # At 20M events, casting integer ids to text cost 0.35 s in the session pass, and the cast
            # hid the column's statistics from the missing-id check (0.3 s more).
            cols.append(ColumnPlan(col, target, "keep"))
        elif role in ("user_id", "order_id"):
            cols.append(ColumnPlan(col, target, "id" if keep_events and col not in pii else "text"))
        else:
            cols.append(ColumnPlan(col, target, "mask" if keep_events and col not in pii else "text"))
    for c, agg in carry.items():
        numeric = agg in ("sum", "mean") or _numeric_column(sample[c], info.fmt)
        checked = "number" if numeric else "mask"
        cols.append(ColumnPlan(c, CARRY_PREFIX + c, ("double" if numeric else "text") if c in pii else checked))
    read = f"timestamps in {ts_col!r} as {ts.description}"
    return FilePlan(_plan(info, cols, text_cols), list(pii.values()), columns, nested, warnings, read, mapping, carry)


def _carried(sample: pd.DataFrame, mapping: dict[str, str], pii: set[str], aggregates: dict[str, str] | None,
             name: str) -> dict[str, str]:
    """Columns of an event log no role takes, kept per user: column -> ``last``, ``sum`` or ``mean``.

    Given ``aggregates`` (``none`` leaves a column out) they are checked; otherwise proposed from the
    sample (:func:`propose_aggregates`).
    """
    if aggregates is not None:
        unknown = [c for c in aggregates if c not in sample.columns]
        if unknown:
            raise InputError(f"column {unknown[0]!r} is not in {name!r} (columns: {', '.join(sample.columns[:12])})")
        bad = {c: a for c, a in aggregates.items() if a not in AGGREGATES + ("none",)}
        if bad:
            c, a = next(iter(bad.items()))
            raise InputError(f"{a!r} for column {c!r} should be one of {', '.join(AGGREGATES)} or none")
        free = _free_columns(sample, mapping, pii)
        taken = [c for c, a in aggregates.items() if c not in free and a != "none"]
        if taken:
            raise InputError(f"column {taken[0]!r} already has a role or holds personal data: it cannot also be "
                             "kept per user")
        return {c: a for c, a in aggregates.items() if a != "none"}
    return propose_aggregates(sample, mapping, pii)


def _free_columns(sample: pd.DataFrame, mapping: dict[str, str], pii: set[str]) -> list[str]:
    """Columns that no role takes and that hold no personal data."""
    return [c for c in sample.columns if c not in mapping.values() and c not in pii]


def propose_aggregates(sample: pd.DataFrame, mapping: dict[str, str], pii: set[str] | None = None) -> dict[str, str]:
    """Of the columns no role takes and that hold no personal data (``pii``; detected in ``sample`` when
    None), those worth keeping per user: column -> ``last`` for a number with one value per user and for
    text with at most 30 distinct values (a channel, a lifecycle stage: the user's latest), ``mean`` for
    any other numeric column.

    A value shared by few users is never kept as an attribute: a column with more distinct values than
    half the sample's users (a name, an address, a card number, an id) would single people out.
    """
    user_col = mapping.get("user_id")
    if pii is None:
        pii = {f.column for f in detect_pii(sample, protect=(user_col,) if user_col else ())}
    unmapped = _free_columns(sample, mapping, pii)
    constant = _per_user_constants(sample, user_col, unmapped)
    users = sample[user_col].nunique() if user_col in sample else len(sample)
    out = {}
    for c in unmapped:
        numeric = pd.api.types.is_numeric_dtype(sample[c]) and not pd.api.types.is_bool_dtype(sample[c])
        distinct = sample[c].nunique()
        shared = 0 < distinct <= users / 2
        if shared and (numeric and c in constant or not numeric and distinct <= 30):
            out[c] = "last"
        elif numeric and c not in constant and sample[c].notna().any():
            out[c] = "mean"
    return out


def check_vocabulary(vocabulary: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
    """Kinds known, each value given once (an event type means one thing)."""
    if vocabulary is None:
        return None
    seen: dict[str, str] = {}
    out = {}
    for kind, values in vocabulary.items():
        if kind not in EVENT_KINDS:
            raise InputError(f"unknown event kind {kind!r}: kinds are {', '.join(EVENT_KINDS)}")
        values = [str(v).strip().lower() for v in ([values] if isinstance(values, str) else values)]
        values = [v for v in dict.fromkeys(values) if v]
        for v in values:
            if v in seen and seen[v] != kind:
                raise InputError(f"event type {v!r} is given as both {seen[v]} and {kind}: it can mean one")
            seen[v] = kind
        out[kind] = values
    return out
