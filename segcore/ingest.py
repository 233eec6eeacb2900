"""Bring files into the store: user tables and event logs, with PII neutralised on the way in.

The flow is: peek at the file (DuckDB reads a sample; the file is never loaded
whole into pandas), detect PII, build a :class:`~segcore.store.TablePlan` that
names every column to keep and how to transform it, and let the store copy the
file through that plan in one transaction.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._mapping import (EVENT_KIND_LABELS, EVENT_KINDS, EVENT_ROLES, REQUIRED_EVENT_ROLES, SHAPES,
                       _per_user_constants, propose_mapping, propose_shape, timestamp_format)
from ._sniff import FileInfo, detect_format, inspect_file, reader_error
from .errors import InputError
from .pii import ACTIONS, PiiFinding, detect_pii
from .sample import SAMPLE_DIR
from .store import AGGREGATES, CARRY_PREFIX, ColumnPlan, Store, TablePlan, carried_name

__all__ = ["EVENT_ROLES", "ImportReport", "detect_format", "event_values", "inspect_file", "propose_mapping",
           "import_file", "import_sample", "open_store", "peek_file", "propose_aggregates", "repeated_ids"]

_ROLE_TARGET = {"timestamp": "ts"}
_NUMERIC_ROLES = ("amount", "quantity", "unit_price")
_SAMPLE_ROWS = 2000
# The kind of a column the user named as personal data, which the detector had not found.
NAMED = "named"


@dataclass
class ImportReport:
    """What an import did: counts, how the file was read, PII actions and anything the user should know."""

    name: str
    kind: str
    n_users: int
    n_events: int | None
    pii: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    read_as: list[str] = field(default_factory=list)
    replaced: bool = False
    shape: str | None = None  # events only: 'events' or 'transactions'
    facts: dict = field(default_factory=dict)  # events only: what the store learnt (see Store.import_dataset)
    columns: list[tuple[str, str]] = field(default_factory=list)  # every column of the file, and what became of it
    masked: list[str] = field(default_factory=list)  # values changed as personal data found in every value

    def lines(self, surface: str = "cli") -> list[str]:
        """The summary, a line each; ``surface`` (``cli`` or ``app``) picks how to say what to do next."""
        rows = "transactions" if self.shape == "transactions" else "events"
        who = "customers" if self.shape == "transactions" else "users"
        out = [f"dataset {self.name!r}: {self.n_users:,} {who}"
               + (f" from {self.n_events:,} {rows}" if self.n_events is not None else "")]
        out += [f"read: {r}" for r in self.read_as]
        out += [f"shape: {line}" for line in self.shape_lines()]
        out += [f"column {c!r}: {what}" for c, what in self.columns]
        for p in self.pii:
            verb = {"hash": "hashed (SHA-256)", "drop": "dropped", "mask": "masked value by value",
                    "keep": "kept as it is, as you asked"}[p["action"]]
            kind = "named by you" if p["kind"] == NAMED else p["kind"].replace("_", " ")
            out.append(f"privacy: column {p['column']!r} ({kind}) {verb}")
        out += [f"privacy: {line}" for line in self.masked]
        out += [f"warning: {w}" for w in self.warnings]
        for feature, why in self.facts.get("left_out", {}).items():
            out.append(f"not built: {feature} ({why})")
        if self.replaced and surface == "app":
            out.append("the replaced version is kept until you confirm: keep the new version or restore the "
                       "replaced one on the Data page")
        elif self.replaced:
            out.append(f"the replaced version is kept until you confirm: `segcore discard-previous {self.name}` "
                       f"deletes it, `segcore restore {self.name}` brings it back")
        return out


    def shape_lines(self) -> list[str]:
        """What a row of the log was read as, its time resolution and its event vocabulary."""
        if self.shape is None:
            return []
        out = []
        if self.shape == "transactions":
            out.append("a transaction log: every row is a purchase (an order or order line); a row with a "
                       "negative amount or quantity is a return")
        else:
            out.append("an event log: each row is an event of some type")
        if self.facts.get("time_resolution") == "date":
            out.append("times are dates only: no time-of-day or session-length features, and no sessions "
                       "are cut from it")
        vocab = self.facts.get("vocabulary")
        if vocab is not None:
            for kind in EVENT_KINDS:
                if vocab.get(kind):
                    out.append(f"{EVENT_KIND_LABELS[kind]} = {', '.join(map(repr, vocab[kind]))}")
            missing = [EVENT_KIND_LABELS[k] for k in EVENT_KINDS if not vocab.get(k)]
            if missing:
                out.append(f"no event type was read as {', '.join(missing)}")
            other = [t["value"] for t in self.facts.get("event_types", []) if t.get("kind") is None]
            if other:
                out.append(f"other event types count as activity: {', '.join(map(repr, other[:12]))}"
                           + (" ..." if len(other) > 12 else ""))
        return out


def peek_file(store: Store, info: FileInfo, *, n: int = _SAMPLE_ROWS, text_columns=()) -> pd.DataFrame:
    """The first ``n`` rows of an inspected file, as the import will read them."""
    with _reading(info):
        df = store.peek(str(info.path), info.fmt, n=n, text_columns=text_columns if info.fmt == "csv" else (),
                        csv_options=info.csv_options)
    df.columns = [str(c) for c in df.columns]
    if df.empty:
        raise InputError(f"{info.path.name!r} has no rows")
    if df.shape[1] == 0:
        raise InputError(f"{info.path.name!r} has no columns")
    return df


@contextmanager
def _reading(info: FileInfo):
    """DuckDB's failures to read a file as one line naming the file (our own messages pass as they are)."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:
        raise reader_error(exc, info.path, info.fmt) from exc


def event_values(store: Store, info: FileInfo, column: str, amount: str | None = None) -> pd.DataFrame:
    """The event types of an inspected log with their counts (``value``, ``events``, ``with_amount``), as
    :func:`segcore._mapping.propose_event_vocabulary` takes them."""
    with _reading(info):
        return store.value_counts(str(info.path), info.fmt, column, amount=amount, csv_options=info.csv_options)


def repeated_ids(store: Store, info: FileInfo, column: str) -> int:
    """Rows of an inspected file that repeat an id of ``column``: what importing it as a users table drops."""
    with _reading(info):
        return store.repeated_ids(str(info.path), info.fmt, column, csv_options=info.csv_options)


def _pii_plan(findings: list[PiiFinding], overrides: dict[str, str] | None, columns: list[str]) -> dict[str, PiiFinding]:
    """The detected columns with their actions, overridden by the user's choices for any column of the
    file, detected or not (a column no file has is refused by :func:`_check_named`)."""
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


def _check_named(overrides: dict[str, str] | None, columns: list[str], names: str) -> None:
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
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        return "mask"
    return "keep"  # dates and times


def _users_plan(store: Store, info: FileInfo, id_column: str | None, pii_actions: dict[str, str] | None
                ) -> tuple[TablePlan, list[PiiFinding], list[str], list[str]]:
    """The plan of a users table, its privacy findings, its columns and those holding nested data."""
    # a CSV is read again below with its id column as text; Parquet and JSON declare their types
    head = peek_file(store, info, n=50 if info.fmt == "csv" else _SAMPLE_ROWS)
    name = info.path.name
    columns = list(head.columns)
    id_column = id_column or ("user_id" if "user_id" in columns else None)
    if id_column is None:
        raise InputError(f"{name!r} has no 'user_id' column: name the id column "
                         f"(columns: {', '.join(columns[:12])})", cli="--id COLUMN", app="User id column")
    if id_column not in columns:
        raise InputError(f"id column {id_column!r} is not in {name!r} (columns: {', '.join(columns[:12])})")
    sample = peek_file(store, info, text_columns=(id_column,)) if info.fmt == "csv" else head
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
    return _plan(info, cols, (id_column,)), list(pii.values()), columns, nested


def _numeric_column(values: pd.Series, fmt: str) -> bool:
    """Floats, or in a CSV text that is mostly numbers ('n/a', 'inf' and typos aside): read as finite
    numbers. Parquet and JSON declare their types: text there stays text (codes like '0042')."""
    if pd.api.types.is_float_dtype(values):
        return True
    if fmt != "csv" or not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
        return False
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    if len(present) == 0:
        return False
    return pd.to_numeric(present, errors="coerce").notna().mean() >= 0.8


def _plan(info: FileInfo, cols, text_columns) -> TablePlan:
    return TablePlan(str(info.path), info.fmt, tuple(cols), tuple(text_columns) if info.fmt == "csv" else (),
                     dict(info.csv_options))


def _events_plan(store: Store, info: FileInfo, mapping: dict[str, str] | None, pii_actions: dict[str, str] | None,
                 date_format: str | None = None, aggregates: dict[str, str] | None = None, keep_events: bool = False
                 ) -> tuple[TablePlan, list[PiiFinding], list[str], str, dict, list, dict]:
    """The plan of an event log, its privacy findings, warnings, how its times read, its mapping, its columns
    and the columns kept per user.

    Text kept in the store is checked value by value: the log's own columns when it is kept whole, and
    the columns kept per user. A log that is not kept is read into features, which the store checks.
    """
    name = info.path.name
    head = peek_file(store, info)
    columns = list(head.columns)
    mapping = dict(mapping) if mapping else propose_mapping(columns, head)
    unknown_roles = [r for r in mapping if r not in EVENT_ROLES]
    if unknown_roles:
        raise InputError(f"unknown role {unknown_roles[0]!r}: roles are {', '.join(EVENT_ROLES)}")
    for role, col in mapping.items():
        if col not in columns:
            raise InputError(f"column {col!r} (mapped to {role}) is not in {name!r} "
                             f"(columns: {', '.join(columns[:12])})")
    missing = [r for r in REQUIRED_EVENT_ROLES if r not in mapping]
    if missing:
        raise InputError(f"map a column to {' and '.join(missing)}; columns of {name!r}: {', '.join(columns[:12])}",
                         cli=f"--map {missing[0]}=COLUMN", app="Column roles")
    text_cols = tuple(mapping[r] for r in ("user_id", "session_id") if r in mapping)
    sample = peek_file(store, info, text_columns=text_cols) if info.fmt == "csv" else head  # as for users
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
        warnings.append(f"timestamps in {ts_col!r} read as day/month ({ts.arg}); month/day reads them too: "
                        f"give the date format '{ts.arg.replace('%d', '%_').replace('%m', '%d').replace('%_', '%m')}' "
                        "if months come first")
    cols = []
    for role in EVENT_ROLES:
        target = _ROLE_TARGET.get(role, role)
        col = mapping.get(role)
        if col is None:
            cols.append(ColumnPlan(None, target, "null_double" if role in _NUMERIC_ROLES else "null_text"))
        elif col in pii and role != "timestamp" and pii[col].action != "keep":
            plan = _pii_column(col, target, pii[col])
            if plan is None:
                warnings.append(f"column {col!r} ({role}) holds personal data and was dropped")
                plan = ColumnPlan(None, target, "null_double" if role in _NUMERIC_ROLES else "null_text")
            cols.append(plan)
        elif role == "timestamp":
            cols.append(ColumnPlan(col, target, ts.transform, ts.arg))
        elif role in _NUMERIC_ROLES:
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
    return _plan(info, cols, text_cols), list(pii.values()), warnings, read, mapping, columns, carry, nested


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


def import_file(store: Store, path: str | Path, name: str, *, kind: str = "users", id_column: str | None = None,
                mapping: dict[str, str] | None = None, pii_actions: dict[str, str] | None = None,
                replace: bool = False, users_path: str | Path | None = None, read_options: dict | None = None,
                users_read_options: dict | None = None, date_format: str | None = None, max_bytes: int | None = None,
                keep_events: bool = False, shape: str | None = None,
                vocabulary: dict[str, list[str]] | None = None, aggregates: dict[str, str] | None = None,
                source: str | None = None, allow_repeated_ids: bool = True, progress=None) -> ImportReport:
    """Import a CSV, Parquet or JSON Lines file as a dataset.

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
        The users table's id column (default ``user_id``). Ids are kept as
        text, exactly as written.
    mapping : dict, optional
        Events only: role -> column, roles from :data:`EVENT_ROLES`;
        ``user_id`` and ``timestamp`` are required. Proposed from the column
        names and contents when omitted.
    pii_actions : dict, optional
        Column -> ``hash`` or ``drop``, overriding the defaults for detected PII.
    replace : bool, default=False
        Replace an existing dataset of the same name; the replaced version is
        kept until :meth:`Store.discard_previous`.
    users_path : str or Path, optional
        Events only: a users table joined to the features derived from the
        events on the user id (its id column is ``id_column``).
    read_options : dict, optional
        CSV options to use instead of detecting them: ``delimiter``, ``quote``,
        ``header`` (bool), ``encoding`` (utf-8, utf-16, latin-1), ``decimal``.
    users_read_options : dict, optional
        The same for ``users_path`` (default: detected).
    date_format : str, optional
        Events only: the strptime format of the timestamps, e.g. ``%m/%d/%Y %H:%M``.
    max_bytes : int, optional
        Refuse larger files (default ``SEGCORE_MAX_IMPORT_MB``, 5 GB).
    keep_events : bool, default=False
        Events only: also keep the event log in the store, to browse it. By
        default the store keeps what is derived from it (per-user features and
        the counts a quality report needs), not the events themselves.
    shape : {'events', 'transactions'}, optional
        Events only: what a row is. A transaction log (every row an order or
        order line; negative amounts or quantities are returns) is proposed
        when no event type is mapped but an amount, quantity or order id is.
    vocabulary : dict, optional
        Events only: kind -> the log's event types that mean it, for the kinds
        ``purchase``, ``add_to_cart``, ``product_view``, ``ad_impression``,
        ``ad_click`` and ``sign_up`` (e.g. ``{"purchase": ["order_completed"]}``).
        Proposed from the log's event types when omitted. Given, it is taken as it
        is: no other value is proposed, though a value spelt as a kind
        (``purchase``) still counts as that kind.
    aggregates : dict, optional
        Events only: column -> ``last``, ``sum``, ``mean`` or ``none``, for columns no role
        takes: each is kept per user (``last``: the user's latest value, an attribute;
        ``sum``/``mean`` as ``<column>_sum``/``<column>_mean``). Proposed when omitted:
        text columns with few values and numbers with one value per user keep their
        last value, other numeric columns their mean.
    allow_repeated_ids : bool, default=True
        Users only: with False, a file whose ids repeat is refused, saying how many rows one row
        per id would discard (such a file is usually an event or transaction log).
    source : str, optional
        What the dataset's source is called (default: the files' names), e.g. the
        name of an uploaded file rather than its temporary copy's.
    progress : callable, optional
        ``progress(fraction, message)`` while DuckDB reads the file.
    """
    if kind not in ("users", "events"):
        raise InputError(f"kind={kind!r} should be 'users' or 'events'")
    if kind == "users" and (mapping or users_path or date_format or shape or vocabulary or aggregates):
        raise InputError("a column mapping, a users table to join, a date format, a shape, an event "
                         "vocabulary and columns kept per user are for event logs; a users table takes its id "
                         "column only", cli="--kind events")
    if shape is not None and shape not in SHAPES:
        raise InputError(f"shape {shape!r} should be one of {', '.join(SHAPES)}")
    vocabulary = _check_vocabulary(vocabulary)
    info = inspect_file(path, read_options, max_bytes=max_bytes)
    warnings: list[str] = []
    read_as = [f"{info.path.name}: {info.describe()}"]
    users = events = None
    findings: list[PiiFinding] = []
    columns: list[tuple[str, str]] = []
    carry: dict[str, str] = {}
    if kind == "users":
        users, findings, file_columns, nested = _users_plan(store, info, id_column, pii_actions)
        _check_named(pii_actions, file_columns, repr(info.path.name))
        columns = _user_column_fates(file_columns, users, findings, nested)
        if not allow_repeated_ids:
            ids = next(c.source for c in users.columns if c.target == "user_id")
            repeated = repeated_ids(store, info, ids)
            if repeated:
                raise InputError(f"{repeated:,} rows of {info.path.name!r} repeat a user id and would be discarded "
                                 "as a users table (one row per id is kept): it looks like an event or transaction "
                                 "log (kind events); to import it as users anyway, allow repeated ids")
    else:
        events, findings, warnings, ts_read, mapping, file_columns, carry, nested = _events_plan(
            store, info, mapping, pii_actions, date_format, aggregates, keep_events)
        read_as.append(ts_read)
        shape = shape or propose_shape(mapping)
        if shape == "transactions" and vocabulary:
            raise InputError("an event vocabulary is for event logs: in a transaction log every row is a purchase")
        columns = _column_fates(file_columns, mapping, findings, shape, carry, nested)
        named_in = list(file_columns)
        if users_path is not None:
            uinfo = inspect_file(users_path, users_read_options, max_bytes=max_bytes)
            read_as.append(f"{uinfo.path.name}: {uinfo.describe()}")
            users, user_findings, user_columns, user_nested = _users_plan(store, uinfo, id_column, pii_actions)
            findings = findings + user_findings
            named_in += user_columns
            columns += [(f"{uinfo.path.name}: {c}", what)
                        for c, what in _user_column_fates(user_columns, users, user_findings, user_nested)]
        _check_named(pii_actions, named_in, repr(info.path.name) + (" or the users table" if users_path else ""))
    privacy = [f.as_dict() for f in findings]
    replaced = replace and store.has_dataset(name)
    try:
        counts = store.import_dataset(name, users=users, events=events, kind=kind,
                                      source=source or " + ".join(Path(p.path).name for p in (events, users) if p),
                                      privacy=privacy, replace=replace, keep_events=keep_events,
                                      shape=shape or "events", vocabulary=vocabulary, carry=carry,
                                      progress=progress)
    except InputError:
        raise
    except Exception as exc:
        raise reader_error(exc, (events or users).path, (events or users).fmt) from exc
    warnings += _count_warnings(counts, users, events)
    masked = _masked_lines(counts, users, events)
    info_rec = store.dataset(name)
    n_events = None if pd.isna(info_rec["n_events"]) else int(info_rec["n_events"])
    if users is not None and events is not None:
        warnings += _join_warnings(store, name)
    return ImportReport(name, kind, int(info_rec["n_users"]), n_events, privacy, warnings, read_as, replaced,
                        shape=shape if events is not None else None, facts=counts.get("facts") or {},
                        columns=columns, masked=masked)


def _check_vocabulary(vocabulary: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
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


def _privacy_fate(f: PiiFinding) -> str:
    """What happens to a column with a privacy action, in words."""
    if f.kind == NAMED or f.action == "keep":
        return {"hash": "SHA-256 hashed, as you asked", "drop": "not stored, as you asked",
                "mask": "stored with the personal data inside each value masked, as you asked",
                "keep": "kept as it is, as you asked: its values are not checked for personal data"}[f.action]
    what = f.kind.replace("_", " ")
    return {"hash": f"SHA-256 hashed ({what})", "drop": f"not stored: it holds personal data ({what})",
            "mask": f"stored with the personal data inside each value masked ({what})"}[f.action]


_NESTED_FATE = "not stored: it holds nested data (structs or lists), whose fields cannot be checked for personal data"


def _column_fates(columns: list[str], mapping: dict[str, str], findings: list[PiiFinding],
                  shape: str, carry: dict[str, str], nested: list[str]) -> list[tuple[str, str]]:
    """Every column of an event log with what the import does with it."""
    roles: dict[str, list[str]] = {}
    for role, col in mapping.items():
        roles.setdefault(col, []).append(role)
    pii = {f.column: f for f in findings}
    out = []
    for c in columns:
        if c in roles:
            what = " and ".join(r.replace("_", " ") for r in roles[c])
            if c in pii and "timestamp" not in roles[c]:
                what += ", " + _privacy_fate(pii[c])
            if shape == "transactions" and roles[c] == ["event_type"]:
                what += " (not used: in a transaction log every row is a purchase)"
            out.append((c, f"used as {what}"))
        elif c in pii and pii[c].action != "keep":
            out.append((c, _privacy_fate(pii[c])))
        elif c in carry:
            feature = carried_name(c, carry[c])
            out.append((c, "kept per user as its last value (an attribute)" if carry[c] == "last" else
                        f"kept per user as its {carry[c]}, {feature!r}"))
        elif c in nested:
            out.append((c, _NESTED_FATE))
        else:
            out.append((c, "not used: no role is mapped to it, and it is not kept per user"))
    return out


def _user_column_fates(columns: list[str], plan: TablePlan, findings: list[PiiFinding],
                       nested: list[str]) -> list[tuple[str, str]]:
    """Every column of a users table with what the import does with it."""
    pii = {f.column: f for f in findings}
    stored = {c.source: c for c in plan.columns}
    out = []
    for c in columns:
        target = stored.get(c)
        if target is not None and target.target == "user_id":
            out.append((c, "the user id" + (", " + _privacy_fate(pii[c]) if c in pii else "")))
        elif c in pii:
            out.append((c, _privacy_fate(pii[c])))
        elif c in nested:
            out.append((c, _NESTED_FATE))
        elif target is None:
            out.append((c, "not stored: the chosen id column takes the name user_id"))
        else:
            out.append((c, "kept"))
    return out


def _masked_lines(counts: dict, users: TablePlan | None, events: TablePlan | None) -> list[str]:
    """What checking every value for personal data changed, per column."""
    out = []
    for role, plan in (("events", events), ("users", users)):
        if plan is None:
            continue
        columns = {c.target: c for c in plan.columns}
        for target, n in counts.get("masked", {}).get(role, {}).items():
            if not n:
                continue
            c = columns[target]
            where = f"column {c.source!r} of {Path(plan.path).name!r}"
            one = n == 1
            values = "1 value" if one else f"{n:,} values"
            out.append({"mask": f"{values} of {where} held e-mail addresses, card or phone numbers: masked",
                        "id": ("1 id" if one else f"{n:,} ids") + f" in {where} "
                              + ("is an e-mail address" if one else "are e-mail addresses") + ": SHA-256 hashed",
                        }.get(c.transform, f"{values} of {where} " + ("is a payment card number" if one else
                                                                      "are payment card numbers") + ": removed"))
    return out


def _count_warnings(counts: dict, users: TablePlan | None, events: TablePlan | None) -> list[str]:
    out = []
    for role, plan in (("events", events), ("users", users)):
        if plan is None:
            continue
        rows = counts["rows"].get(role, 0)
        sources = {c.target: c.source for c in plan.columns}
        for target, n in counts["unread"].get(role, {}).items():
            if n:
                what = "a date or time" if target == "ts" else \
                    "a finite number (text, infinity or NaN)" if target not in _NUMERIC_ROLES else \
                    "an amount (text, infinity, NaN, or a trillion or more, which may be a card number)"
                out.append(f"{n:,} of {rows:,} values in column {sources.get(target, target)!r} of "
                           f"{Path(plan.path).name!r} do not read as {what}: they are kept as missing")
    if counts.get("skipped_ids"):
        out.append(f"{counts['skipped_ids']:,} rows of {Path(users.path).name!r} have no user id and are left out")
    if counts.get("duplicate_ids"):
        out.append(f"{counts['duplicate_ids']:,} rows of {Path(users.path).name!r} repeat a user id: one row "
                   "per id is used")
    return out


def _join_warnings(store: Store, name: str) -> list[str]:
    j = store.join_counts(name)
    out = []
    if j["users_without_events"]:
        out.append(f"{j['users_without_events']:,} of {j['users']:,} users in the users table have no events and "
                   "are not segmented")
    if j["event_users_without_row"]:
        out.append(f"{j['event_users_without_row']:,} users with events have no row in the users table: "
                   "their attributes are missing")
    return out


def import_sample(store: Store, name: str = "sample", *, sample_dir: str | Path = SAMPLE_DIR,
                  if_missing: bool = True, keep_events: bool = False) -> bool:
    """Load the bundled sample (users joined to events) as one dataset; False if it was there."""
    sample_dir = Path(sample_dir)
    users_path, events_path = sample_dir / "users.parquet", sample_dir / "events.parquet"
    if not users_path.exists() or not events_path.exists():
        raise InputError(f"the bundled sample is missing from {sample_dir}: run python sample_data/generate.py")
    users_plan, findings, _, _ = _users_plan(store, inspect_file(users_path), "user_id", None)
    events_info = inspect_file(events_path)
    present = set(peek_file(store, events_info, n=1).columns)
    mapping = {r: r for r in EVENT_ROLES if r in present}
    events_plan = _events_plan(store, events_info, mapping, None, aggregates={})[0]
    counts = store.import_dataset(name, users=users_plan, events=events_plan, kind="sample",
                                  source="bundled sample", privacy=[f.as_dict() for f in findings],
                                  if_missing=if_missing, keep_events=keep_events)
    return counts is not None


def open_store(path: str | Path | None = None, *, seed_sample: bool = True, timeout: float | None = None,
               on_wait=None) -> Store:
    """Open (or create) a store; a new store is seeded with the bundled sample as ``sample``.

    ``timeout``: seconds to wait for a store another process holds (default ``SEGCORE_LOCK_TIMEOUT``, else
    30); ``on_wait``: see :class:`Store`."""
    if timeout is None:
        try:
            timeout = float(os.environ.get("SEGCORE_LOCK_TIMEOUT", "30"))
        except ValueError:
            raise InputError("SEGCORE_LOCK_TIMEOUT should be a number of seconds") from None
    store = Store(path, timeout=timeout, on_wait=on_wait)
    if seed_sample and store.list_datasets().empty and store.previous_version("sample") is None:
        import_sample(store)
    return store
