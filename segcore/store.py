"""The DuckDB store: the only module in segcore that speaks SQL.

One file holds everything: datasets (users, their engineered features, the
counts a quality report needs from the event log, and the log itself when
asked to keep it), runs, assignments, personas and projections.

Concurrency. DuckDB lets one process hold a file read-write at a time, and a
second process cannot even open it read-only meanwhile. The dashboard and the
``segcore`` command must share the file, so every operation opens a short-lived
connection (about 20 ms) and closes it when done; a process that finds the file
locked retries with backoff until ``timeout`` and then raises
:class:`~segcore.errors.StoreBusyError`. Inside one process, DuckDB shares one
database instance between connections to the same path, so threads are safe.

Writes happen in one transaction each: a failure leaves the store as it was.
Identifiers are always quoted with :func:`quote_ident`; values are always bound.
"""

from __future__ import annotations

import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from ._mapping import EVENT_KINDS, propose_event_vocabulary
from .errors import InputError, NotFoundError, StoreBusyError
from .pii import MASK_PREFILTER, is_card_number, mask_text

__all__ = ["Store", "ColumnPlan", "TablePlan", "quote_ident", "default_store_path", "DATASET_NAME_RULE", "AGGREGATES",
           "CARRY_PREFIX", "carried_name",
           "CSV_OPTIONS", "PREVIOUS_SUFFIX"]

DATASET_NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # the whole name (fullmatch: no newline)
PERSONA_NAME_MAX, PERSONA_DESCRIPTION_MAX = 60, 300
ROLES_TABLES = ("users", "events", "features")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    name VARCHAR PRIMARY KEY, kind VARCHAR, source VARCHAR, n_users BIGINT, n_events BIGINT,
    privacy VARCHAR, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, dataset VARCHAR, algo VARCHAR, k INTEGER, seed INTEGER,
    params VARCHAR, features VARCHAR, preprocessing VARCHAR, fingerprint VARCHAR,
    metrics VARCHAR, versions VARCHAR, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS assignments (run_id VARCHAR, user_id VARCHAR, cluster INTEGER, probability DOUBLE);
CREATE TABLE IF NOT EXISTS personas (
    run_id VARCHAR, cluster INTEGER, name VARCHAR, description VARCHAR, colour VARCHAR,
    PRIMARY KEY (run_id, cluster));
CREATE TABLE IF NOT EXISTS projections (
    run_id VARCHAR, method VARCHAR, user_id VARCHAR, x FLOAT, y FLOAT);
CREATE TABLE IF NOT EXISTS projection_info (
    run_id VARCHAR, method VARCHAR, info VARCHAR, PRIMARY KEY (run_id, method));
-- columns added after 0.1.0 first shipped: stores created earlier gain them when first opened
ALTER TABLE assignments ADD COLUMN IF NOT EXISTS probability DOUBLE;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS explanation VARCHAR;
ALTER TABLE datasets ADD COLUMN IF NOT EXISTS event_facts VARCHAR;
CREATE TABLE IF NOT EXISTS persona_lab_store (key VARCHAR PRIMARY KEY, value VARCHAR);
"""

# A store says it is one in its table persona_lab_store: ('store', STORE_MARKER) and ('schema_version', ...).
# Version 1 is every store made before the marker; version 2 added the marker.
STORE_MARKER = "persona-lab"
SCHEMA_VERSION = 2
# The tables of a store made before the marker (besides its datasets' own, named ds:...).
_UNMARKED_TABLES = {"datasets", "runs", "assignments", "personas", "projections", "projection_info"}
# DuckDB never fetches an extension for us: the store needs none, and a foreign file (SQLite) made
# DuckDB try to download one. Every connection to a file in one process must share one configuration.
_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

_JSON_RUN_FIELDS = ("params", "features", "preprocessing", "metrics", "versions", "explanation")


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (a column or table name) for DuckDB."""
    return '"' + str(name).replace('"', '""') + '"'


def default_store_path() -> Path:
    """``SEGCORE_STORE`` if set, else ``./persona_lab.duckdb``."""
    return Path(os.environ.get("SEGCORE_STORE") or "persona_lab.duckdb")


def memory_limit() -> str:
    """DuckDB's memory limit for store work: ``SEGCORE_MEMORY_LIMIT`` (default 2GB)."""
    return os.environ.get("SEGCORE_MEMORY_LIMIT") or "2GB"


def _table(dataset: str, role: str) -> str:
    return quote_ident(f"ds:{dataset}:{role}")


# A replaced dataset is kept under its name plus this suffix (which no dataset name may contain).
PREVIOUS_SUFFIX = "~previous"


def _previous(name: str) -> str:
    return name + PREVIOUS_SUFFIX


def source_name(*plans: TablePlan | None) -> str:
    return " + ".join(Path(p.path).name for p in plans if p is not None)


@dataclass(frozen=True)
class ColumnPlan:
    """How one column of a file becomes one column of the store.

    ``transform`` is one of ``keep``, ``text``, ``double``, ``timestamp``,
    ``amount`` (``double`` below a trillion), ``strptime`` (``arg`` is the format, e.g. ``%d/%m/%Y %H:%M``), ``epoch_s``,
    ``epoch_ms``, ``hash_email``, ``hash_phone``, ``hash``, ``null_text`` and
    ``null_double`` (the last two need no source). Values that a parsing
    transform cannot read become NULL and are counted (see
    :meth:`Store.import_dataset`).

    Every value is checked for personal data by four more: ``mask`` (text with
    the e-mail addresses, card and phone numbers inside masked), ``number``
    (``double`` without the values that are payment card numbers), ``checked`` (the file's type,
    without card numbers) and ``id``
    (text, with ids that are e-mail addresses hashed as ``hash_email`` does).
    The values each changes are counted too.
    """

    source: str | None
    target: str
    transform: str = "keep"
    arg: str | None = None


@dataclass(frozen=True)
class TablePlan:
    """A file to read and the columns to keep from it (anything not listed is never stored)."""

    path: str
    fmt: str  # "csv" | "parquet" | "jsonl"
    columns: tuple[ColumnPlan, ...]
    text_columns: tuple[str, ...] = ()  # read as text exactly as written (ids keep leading zeros)
    csv_options: dict = field(default_factory=dict)  # keys of CSV_OPTIONS


# SQL for each column transform; {s} is the quoted source column.
_TRANSFORMS = {
    "keep": "{s}",
    "text": "CAST({s} AS VARCHAR)",
    # infinities and NaN become missing (and are counted): no chart, mean or distance survives them
    "double": "CASE WHEN isfinite(TRY_CAST({s} AS DOUBLE)) THEN TRY_CAST({s} AS DOUBLE) END",
    # an amount, quantity or price: a trillion or more is no amount (and may be a card number), at no
    # more cost than the finiteness check it replaces
    "amount": "CASE WHEN abs(TRY_CAST({s} AS DOUBLE)) < 1e12 THEN TRY_CAST({s} AS DOUBLE) END",
    "timestamp": "TRY_CAST({s} AS TIMESTAMP)",
    "strptime": "CAST(try_strptime(CAST({s} AS VARCHAR), {arg}) AS TIMESTAMP)",
    "epoch_s": "CAST(to_timestamp(TRY_CAST({s} AS DOUBLE)) AS TIMESTAMP)",
    "epoch_ms": "CAST(to_timestamp(TRY_CAST({s} AS DOUBLE) / 1000.0) AS TIMESTAMP)",
    # hashes keep a missing value missing rather than hashing ''
    "hash_email": "CASE WHEN {s} IS NULL THEN NULL ELSE sha256(lower(trim(CAST({s} AS VARCHAR)))) END",
    "hash_phone": "CASE WHEN {s} IS NULL THEN NULL ELSE sha256(regexp_replace(CAST({s} AS VARCHAR), '[^0-9+]', '', 'g')) END",
    "hash": "CASE WHEN {s} IS NULL THEN NULL ELSE sha256(CAST({s} AS VARCHAR)) END",
    "null_text": "CAST(NULL AS VARCHAR)",
    "null_double": "CAST(NULL AS DOUBLE)",
    # every value checked for personal data (the macros are defined by _personal_data_checks)
    "mask": "pl_mask(CAST({s} AS VARCHAR))",
    "number": "CASE WHEN pl_card_number({s}) THEN NULL ELSE CASE WHEN isfinite(TRY_CAST({s} AS DOUBLE)) "
              "THEN TRY_CAST({s} AS DOUBLE) END END",
    "checked": "CASE WHEN pl_card_number({s}) THEN NULL ELSE {s} END",
    "id": "pl_id(CAST({s} AS VARCHAR))",
}

# For the transforms that check every value: SQL true where a value was changed.
_CHANGED = {
    "mask": "(pl_mask(CAST({s} AS VARCHAR)) IS DISTINCT FROM CAST({s} AS VARCHAR))",
    "number": "pl_card_number({s})",
    "checked": "pl_card_number({s})",
    "id": "(pl_id(CAST({s} AS VARCHAR)) IS DISTINCT FROM CAST({s} AS VARCHAR))",
}
MASKED_PREFIX = "_masked:"


# Transforms that pseudonymise: their columns stay in the users table and are not copied into features.
_HASHING = ("hash_email", "hash_phone", "hash")

# Transforms that parse: a value present in the file that comes out NULL was unreadable.
_PARSING = ("double", "amount", "number", "timestamp", "strptime", "epoch_s", "epoch_ms")
UNREAD_PREFIX = "_unread:"

# Reader options a user may set for CSV files, and the name read_csv gives each.
CSV_OPTIONS = {"delimiter": "delim", "quote": "quote", "header": "header", "encoding": "encoding",
               "decimal": "decimal_separator"}
_READERS = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json"}


def _count(con, relation: str, where: str) -> int:
    """Rows of ``relation`` matching ``where``, asked alone: DuckDB then skips the Parquet row groups
    whose statistics rule the condition out, where a count beside other aggregates reads them all."""
    return int(con.execute(f"SELECT count(*) FROM {relation} WHERE {where}").fetchall()[0][0])


def _exists(con, relation: str, where: str) -> bool:
    """Whether any row of ``relation`` matches ``where``; DuckDB stops at the first one."""
    return bool(con.execute(f"SELECT EXISTS (SELECT 1 FROM {relation} WHERE {where})").fetchall()[0][0])


def _id_facts(con, relation: str, last) -> tuple[int, object, int]:
    """Events without a user, the last event's time among those with one (``last`` when every event
    has one), and events with a user and a time but no session id.

    Asked apart, as ``WHERE ... IS NULL``: a column whose blocks' statistics say it has no missing
    value is then not read at all, whereas a count beside other aggregates reads every id. At 20M
    events from Parquet, each check took 2-3 ms from statistics; the session check read its column
    (0.3 s) while session ids were cast to text, which hid the file's statistics.
    """
    no_user = _count(con, relation, "user_id IS NULL")
    t_ref = last if no_user == 0 else \
        con.execute(f"SELECT max(ts) FROM {relation} WHERE user_id IS NOT NULL").fetchall()[0][0]
    unsessioned = _count(con, relation, "session_id IS NULL") and \
        _count(con, relation, "session_id IS NULL AND user_id IS NOT NULL AND ts IS NOT NULL")
    return no_user, t_ref, unsessioned


def _expr(c: ColumnPlan, params: dict) -> str:
    """The SQL for one planned column; its format argument, if any, is bound into ``params``."""
    if c.transform not in _TRANSFORMS:
        raise InputError(f"unknown column transform {c.transform!r}")
    source = quote_ident(c.source) if c.source is not None else None
    arg = None
    if c.arg is not None:
        arg = f"$arg{len(params)}"
        params[arg[1:]] = c.arg
    return _TRANSFORMS[c.transform].format(s=source, arg=arg)


def _select_list(plan: TablePlan, params: dict) -> str:
    """Planned columns, plus one flag per parsed column marking values that could not be read and one
    per checked column marking values changed as personal data."""
    parts = []
    for c in plan.columns:
        expr = _expr(c, params)
        parts.append(f"{expr} AS {quote_ident(c.target)}")
        if c.source is None:
            continue
        src = quote_ident(c.source)
        if c.transform in _PARSING:
            parsed = _TRANSFORMS["double"].format(s=src) if c.transform == "number" else expr
            parts.append(f"({src} IS NOT NULL AND trim(CAST({src} AS VARCHAR)) <> '' AND ({parsed}) IS NULL) "
                         f"AS {quote_ident(UNREAD_PREFIX + c.target)}")
        if c.transform in _CHANGED:
            parts.append(f"coalesce({_CHANGED[c.transform].format(s=src)}, false) "
                         f"AS {quote_ident(MASKED_PREFIX + c.target)}")
    return ", ".join(parts)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _personal_data_checks(con) -> None:
    """Define on ``con`` the SQL that checks every value for personal data (``pl_mask``, ``pl_id``,
    ``pl_card_number``). A regular expression picks the few values worth a close look in Python."""
    from duckdb.sqltypes import BOOLEAN, VARCHAR
    con.create_function("pl_mask_text", mask_text, [VARCHAR], VARCHAR, side_effects=False)
    con.create_function("pl_is_card", is_card_number, [VARCHAR], BOOLEAN, side_effects=False)
    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO pl_mask(x) AS
            CASE WHEN regexp_matches(x, {_sql_text(MASK_PREFILTER)}) THEN pl_mask_text(x) ELSE x END;
        -- an id that is an e-mail address: hashed as it is written, so that two ids stay two ids
        CREATE OR REPLACE TEMP MACRO pl_id(x) AS
            CASE WHEN contains(x, '@') AND regexp_matches(trim(x), '^[^\\s@]+@[^\\s@]+\\.[^\\s@.]{{2,}}$')
                 THEN sha256(x) ELSE x END;
        CREATE OR REPLACE TEMP MACRO pl_card_number(x) AS
            CASE WHEN abs(TRY_CAST(x AS DOUBLE)) >= 1e12 THEN coalesce(pl_is_card(CAST(x AS VARCHAR)), false)
                 ELSE false END;
    """)


def _source(plan: TablePlan, params: dict) -> str:
    """``read_csv(...)`` (or Parquet, JSON Lines) over the plan's file, its options bound into ``params``."""
    if plan.fmt not in _READERS:
        raise InputError(f"unsupported file format {plan.fmt!r}: use CSV, Parquet or JSON Lines")
    params["src_path"] = plan.path
    args = ["$src_path"]
    if plan.fmt == "csv":
        for key, value in plan.csv_options.items():
            if key not in CSV_OPTIONS:
                raise InputError(f"unknown CSV option {key!r}: options are {', '.join(CSV_OPTIONS)}")
            if value is not None:
                args.append(f"{CSV_OPTIONS[key]} = $csv_{key}")
                params[f"csv_{key}"] = value
        args.append("skip = 0")  # DuckDB's sniffer may otherwise skip lines it finds odd
        if plan.text_columns:
            args.append("types = $csv_types")
            params["csv_types"] = {c: "VARCHAR" for c in plan.text_columns}
    elif plan.fmt == "jsonl":
        args.append("format = 'newline_delimited'")
    return f"{_READERS[plan.fmt]}({', '.join(args)})"


# Active days are counted in the per-user pass, one bit per day of the log in 64-day words, when the
# log spans fewer days than this; in a pass of their own otherwise. At 20M events each word added
# about 0.12 s to the per-user pass, and the days pass took 1.1 s: words pay up to about 8 of them.
MAX_BITMAP_DAYS = 7 * 64

# Columns of an event log that no role takes can be kept per user; in the temporary `events` relation they
# are named with this prefix, so that no file column can collide with a role's column.
CARRY_PREFIX = "carry:"
AGGREGATES = ("last", "sum", "mean")
_AGGREGATE_SQL = {"last": "arg_max({c}, ts)", "sum": "sum({c})", "mean": "avg({c})"}


def carried_name(column: str, aggregate: str) -> str:
    """The feature a column kept per user becomes: its own name for ``last``, else ``<column>_<aggregate>``."""
    return column if aggregate == "last" else f"{column}_{aggregate}"


# Roles read as per-user figures beside the feature SQL, only where a log has them:
# (role, column, aggregate over a user's events). A transaction log counts the products of its purchases.
_REACH = (("product", "n_products", "count(DISTINCT product) FILTER (event_type <> 'return')"),
          ("page", "n_pages", "count(DISTINCT page)"),
          ("channel", "channel", "pl_mask(arg_min(channel, ts))"))

# The event roles a log may leave empty, whose presence decides which features are built.
_OPTIONAL_ROLES = ("amount", "quantity", "unit_price", "device") + tuple(role for role, _, _ in _REACH)

# How many of a log's own event types (none of our kinds) become a share-of-events feature each.
MAX_TYPE_SHARES = 8


def _type_name(value: str) -> str:
    """An event type as part of a column name: letters and digits, runs of anything else as one '_'."""
    return re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_")


# How many of a log's event types an import lists in its facts.
_MAX_LISTED_TYPES = 50

# A Parquet file with fewer row groups than threads is read in row ranges of at least this many rows.
MIN_RANGE_ROWS = 122_880  # DuckDB's own row group size


def _select(con, plan: TablePlan, params: dict) -> str:
    """``SELECT`` of the plan's columns from its file, in parallel row ranges where that helps.

    DuckDB gives each thread whole row groups of a Parquet file, so a file written as one row
    group (pandas writes up to 1,048,576 rows as one) is read, transformed and written by one
    thread. Ranges of ``file_row_number`` in a ``UNION ALL`` share it out: on 2 cores, a users
    file of 1M rows in one row group, with a hashed email, was stored in 0.8 s instead of 1.5 s.
    """
    columns = _select_list(plan, params)
    source = _source(plan, params)
    if plan.fmt != "parquet":
        return f"SELECT {columns} FROM {source}"
    rows, groups = con.execute("SELECT sum(num_rows), sum(num_row_groups) FROM parquet_file_metadata($src_path)",
                               {"src_path": plan.path}).fetchall()[0]
    threads = int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    parts = min(threads, int(rows or 0) // MIN_RANGE_ROWS)
    if groups is None or groups >= threads or parts < 2:
        return f"SELECT {columns} FROM {source}"
    numbered = "read_parquet($src_path, file_row_number = true)"
    bounds = [int(rows) * i // parts for i in range(parts + 1)]
    return " UNION ALL ".join(f"SELECT {columns} FROM {numbered} WHERE file_row_number >= {lo} "
                              f"AND file_row_number < {hi}" for lo, hi in zip(bounds, bounds[1:]))


def _execute(con, sql: str, params: dict | list | None, progress, lo: float, hi: float, label: str):
    """Execute ``sql``; with ``progress``, report DuckDB's own query progress scaled into [lo, hi].

    The query runs on a worker thread and the caller's thread polls, so the callback may draw
    on the caller's UI (Streamlit elements can only be updated from the script's thread).
    """
    if progress is None:
        return con.execute(sql, params or [])
    import threading

    box: dict = {}

    def work():
        try:
            con.execute(sql, params or [])
        except BaseException as exc:  # re-raised on the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    progress(lo, label)
    while worker.is_alive():
        worker.join(0.25)
        pct = con.query_progress()
        if pct is not None and pct >= 0:
            progress(lo + (hi - lo) * min(pct, 100.0) / 100.0, label)
    if "error" in box:
        raise box["error"]
    progress(hi, label)
    return con


def _event_types(con, vocabulary: dict[str, list[str]] | None):
    """Read the event types of the temporary relation ``events`` and translate them to our kinds.

    One pass gives the distinct types (clean already, or to be trimmed and lower-cased?) and how often
    each carries an amount. The vocabulary (proposed when None) is loaded into the temporary table
    ``event_vocab`` where it differs from our names. Returns the event type's SQL for clean_events.sql,
    its join, per kind the events and those with an amount, the log's own frequent types that are none
    of our kinds (value, column name), and the facts to keep: the vocabulary and the types seen.
    """
    raw = con.execute("SELECT event_type, count(*), count(amount) FROM events "
                      "WHERE event_type IS NOT NULL GROUP BY ALL").fetchall()
    counts = pd.DataFrame(raw, columns=["raw", "events", "with_amount"])
    counts["value"] = counts["raw"].astype(str).str.strip().str.lower()
    canonical = bool((counts["raw"] == counts["value"]).all())
    counts = counts.groupby("value", as_index=False)[["events", "with_amount"]].sum()
    event_type = "event_type" if canonical else "lower(trim(event_type))"
    vocab = vocabulary if vocabulary is not None else propose_event_vocabulary(counts)
    pairs = [(str(v).strip().lower(), kind) for kind, values in vocab.items() for v in values]
    kinds = dict(pairs)
    join = ""
    translate = [(v, k) for v, k in pairs if v != k]
    if translate:
        con.execute("CREATE OR REPLACE TEMP TABLE event_vocab (raw VARCHAR, kind VARCHAR)")
        con.executemany("INSERT INTO event_vocab VALUES (?, ?)", translate)
        join = f"LEFT JOIN event_vocab v ON v.raw = {event_type}"
        event_type = f"coalesce(v.kind, {event_type})"
    # "" for a type that is no kind of ours (None would not survive the group-by below)
    counts["kind"] = [kinds.get(v, v if v in EVENT_KINDS else "") for v in counts["value"]]
    counts = counts.sort_values(["events", "value"], ascending=[False, True])
    facts = {"vocabulary": {k: sorted(mask_text(v) for v, kk in kinds.items() if kk == k)
                            for k in dict.fromkeys(kinds.values())},
             "event_types": [{"value": mask_text(v), "events": int(n), "kind": k or None} for v, n, k in
                             counts[["value", "events", "kind"]].head(_MAX_LISTED_TYPES).itertuples(index=False)],
             "event_types_total": int(len(counts))}
    other = [v for v, k in zip(counts["value"], counts["kind"]) if not k]
    names = [_type_name(mask_text(v)) for v in other]
    own = [(v, n) for i, (v, n) in enumerate(zip(other, names)) if n and n not in names[:i]][:MAX_TYPE_SHARES]
    per_kind = counts.groupby("kind")[["events", "with_amount"]].sum().to_dict("index")
    return event_type, join, per_kind, own, facts


def _ids_checked(sql: str) -> str:
    """``sql`` (per-user rows) as a subquery whose ids that are e-mail addresses are hashed (``pl_id``): the ids of
    a log that is not kept are read as written, and checked once per user rather than once per event."""
    return f"(SELECT * REPLACE (pl_id(user_id) AS user_id) FROM ({sql}))"


def _sql_resource(name: str) -> str:
    return resources.files("segcore").joinpath("sql", name).read_text(encoding="utf-8")


def _check_personas(df: pd.DataFrame) -> None:
    """Names present, different from each other and short; descriptions short; colours #RRGGBB. Two
    personas of one name would merge into one row of every KPI and export."""
    names = df["name"].map(lambda v: v.strip() if isinstance(v, str) else "")
    if (names == "").any():
        raise InputError("every segment needs a persona name")
    long = names[names.str.len() > PERSONA_NAME_MAX]
    if not long.empty:
        raise InputError(f"persona name {long.iloc[0][:20]!r}... is longer than {PERSONA_NAME_MAX} characters")
    twice = names[names.str.casefold().duplicated()]
    if not twice.empty:
        raise InputError(f"persona name {twice.iloc[0]!r} is used twice: names must differ")
    desc = df["description"].fillna("").astype(str)
    if (desc.str.len() > PERSONA_DESCRIPTION_MAX).any():
        raise InputError(f"a persona description is longer than {PERSONA_DESCRIPTION_MAX} characters")
    if not df["colour"].fillna("").astype(str).str.fullmatch(r"#[0-9A-Fa-f]{6}").all():
        raise InputError("persona colours must look like #1A2B3C")
    df["name"] = names


class Store:
    """A Persona Lab store in one DuckDB file.

    Parameters
    ----------
    path : str or Path, optional
        The DuckDB file; created when missing. Defaults to
        :func:`default_store_path`.
    timeout : float, default=30.0
        Seconds to keep retrying while another process holds the file. While another
        process is importing into it (it says so in a file beside the store, see
        :meth:`_writing`), the wait goes on for as long as that process lives.
    on_wait : callable, optional
        ``on_wait(message)``, called about once a second while waiting for another process.
    """

    def __init__(self, path: str | Path | None = None, *, timeout: float = 30.0, on_wait=None):
        self.path = Path(path) if path is not None else default_store_path()
        self.timeout = float(timeout)
        self.on_wait = on_wait
        if self.path.parent and not self.path.parent.exists():
            raise InputError(f"store folder {self.path.parent} does not exist")
        self.created = not self.path.exists()
        if self.created or self._version() < SCHEMA_VERSION:
            with self._transaction() as con:  # a new store, or one made before the marker: brought up to date
                con.execute(_SCHEMA)
                con.executemany("INSERT OR REPLACE INTO persona_lab_store VALUES (?, ?)",
                                [("store", STORE_MARKER), ("schema_version", str(SCHEMA_VERSION))])

    def _version(self) -> int:
        """The schema version of the existing file at ``path``; anything that is not a Persona Lab store is
        refused in one line, and left as it was (it is read, never written)."""
        try:
            head = b""
            if not self.path.is_dir():
                with open(self.path, "rb") as fh:
                    head = fh.read(16)
        except OSError as exc:
            raise InputError(f"cannot read store {self.path}: {exc.strerror or exc}") from exc
        if self.path.is_dir() or head[8:12] != b"DUCK":
            what = "an SQLite database" if head.startswith(b"SQLite format 3") else \
                "a folder" if self.path.is_dir() else "not a DuckDB file"
            raise InputError(f"{self.path} is not a Persona Lab store ({what}): it was left untouched")
        with self._connect(read_only=True) as con:
            tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                                "WHERE table_schema = 'main'").fetchall()}
            marker = {}
            if "persona_lab_store" in tables:
                marker = dict(con.execute("SELECT key, value FROM persona_lab_store").fetchall())
        if marker.get("store") == STORE_MARKER:
            version = int(marker.get("schema_version", "0") or 0)
            if version > SCHEMA_VERSION:
                raise InputError(f"store {self.path} was made by a newer Persona Lab (schema {version}; this one "
                                 f"reads up to {SCHEMA_VERSION}): upgrade persona-lab to open it")
            return version
        # made before the marker (its datasets and runs, and only tables of ours), or an empty DuckDB file (as a
        # store whose creation was interrupted is left)
        foreign = {t for t in tables if not t.startswith("ds:")} - _UNMARKED_TABLES
        ours = not tables or ({"datasets", "runs"} <= tables and not foreign)
        if not ours:
            shown = ", ".join(sorted(foreign or tables)[:5])
            raise InputError(f"{self.path} is not a Persona Lab store (a DuckDB file with the tables {shown}): "
                             "it was left untouched")
        return 1

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connections -------------------------------------------------------------------------
    @contextmanager
    def _connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        delay, deadline = 0.02, time.monotonic() + self.timeout
        started, next_note = time.monotonic(), 1.0
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only, config=_CONFIG)
                break
            except duckdb.ConnectionException as exc:
                if not read_only or "different configuration" not in str(exc):
                    raise InputError(f"cannot open store {self.path}: {exc}") from exc
                read_only = False  # this process has the file open already, read-write: a read needs no more
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise InputError(f"cannot open store {self.path}: {exc}") from exc
                writer = self._writer()
                if writer is not None:  # a long write by a live process: queue behind it
                    deadline = max(deadline, time.monotonic() + 1.0)
                if time.monotonic() > deadline:
                    raise StoreBusyError(
                        f"store {self.path} is locked by another process; tried for {self.timeout:.0f} s"
                    ) from exc
                if self.on_wait is not None and time.monotonic() - started >= next_note:
                    what = f"{writer['what']} (process {writer['pid']})" if writer else "another process"
                    self.on_wait(f"waiting for {what} to finish writing the store: {time.monotonic() - started:.0f} s")
                    next_note += 1.0
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise InputError(f"{self.path} is not a Persona Lab store: {exc}") from exc
        try:
            # DuckDB's own progress bar writes to stdout, which must stay clean (segcore ... --json);
            # progress is still tracked for query_progress().
            con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
            # Bounded memory: DuckDB spills to disk beyond this instead of taking 80% of RAM.
            con.execute("SET memory_limit = $m", {"m": memory_limit()})
            yield con
        except duckdb.Error as exc:
            if "no space left on device" in str(exc).lower():
                raise InputError(f"the disk holding store {self.path} (or DuckDB's temporary files) is full: "
                                 "nothing was written; free some space and try again") from exc
            raise
        finally:
            con.close()

    @property
    def _writer_file(self) -> Path:
        return self.path.with_name(self.path.name + ".persona-lab-writer")

    def _writer(self) -> dict | None:
        """What another live process said it is writing into the store (:meth:`_writing`), if anything."""
        try:
            info = json.loads(self._writer_file.read_text(encoding="utf-8"))
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if pid == os.getpid():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return {"pid": pid, "what": str(info.get("what", "a write"))}

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """Say beside the store, for the processes waiting for it, that this process is writing ``what``."""
        try:
            self._writer_file.write_text(json.dumps({"pid": os.getpid(), "what": what}), encoding="utf-8")
        except OSError:
            pass  # others then wait their usual timeout
        try:
            yield
        finally:
            self._writer_file.unlink(missing_ok=True)

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._connect() as con:
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def _df(self, sql: str, params=None) -> pd.DataFrame:
        with self._connect() as con:
            return con.execute(sql, params or []).df()

    # -- reading files -----------------------------------------------------------------------
    def peek(self, path: str, fmt: str, *, n: int = 2000, text_columns=(), csv_options=None) -> pd.DataFrame:
        """The first ``n`` rows of a file, typed as DuckDB reads them (for detection and previews)."""
        plan = TablePlan(path, fmt, (), tuple(text_columns), dict(csv_options or {}))
        params: dict = {"n": int(n)}
        sql = f"SELECT * FROM {_source(plan, params)} LIMIT $n"
        with self._connect() as con:
            return con.execute(sql, params).df()

    def value_counts(self, path: str, fmt: str, column: str, *, amount: str | None = None, csv_options=None,
                     limit: int = 200) -> pd.DataFrame:
        """A file column's values, trimmed and lower-cased as an import reads event types, with how many rows
        hold each (``events``) and, given an ``amount`` column, how many of those carry a number there
        (``with_amount``); the ``limit`` most frequent, most frequent first."""
        plan = TablePlan(path, fmt, (), (), dict(csv_options or {}))
        params: dict = {"n": int(limit)}
        source = _source(plan, params)
        col = f"lower(trim(CAST({quote_ident(column)} AS VARCHAR)))"
        # an amount present at all (a file's decimal commas are only read as numbers on import)
        with_amount = f", count(nullif(trim(CAST({quote_ident(amount)} AS VARCHAR)), ''))" if amount else ""
        sql = (f"SELECT {col} AS value, count(*) AS events{with_amount} FROM {source} "
               f"WHERE {quote_ident(column)} IS NOT NULL GROUP BY ALL ORDER BY events DESC, value LIMIT $n")
        with self._connect() as con:
            rows = con.execute(sql, params).fetchall()
        return pd.DataFrame(rows, columns=["value", "events"] + (["with_amount"] if amount else []))

    def repeated_ids(self, path: str, fmt: str, column: str, *, csv_options=None) -> int:
        """Rows of a file whose value in ``column`` repeats an earlier row's (what a users table would drop)."""
        plan = TablePlan(path, fmt, (), (column,) if fmt == "csv" else (), dict(csv_options or {}))
        params: dict = {}
        source = _source(plan, params)
        c = quote_ident(column)
        with self._connect() as con:
            return int(con.execute(f"SELECT count({c}) - count(DISTINCT {c}) FROM {source}", params).fetchall()[0][0])

    # -- datasets ----------------------------------------------------------------------------
    def list_datasets(self) -> pd.DataFrame:
        """Datasets with kind, row counts, privacy actions and creation time."""
        return self._df("SELECT name, kind, n_users, n_events, source, privacy, created_at, "
                        "EXISTS (SELECT 1 FROM datasets p WHERE p.name = d.name || ?) AS has_previous "
                        "FROM datasets d WHERE NOT ends_with(name, ?) ORDER BY created_at, name",
                        [PREVIOUS_SUFFIX, PREVIOUS_SUFFIX])

    def has_dataset(self, name: str) -> bool:
        with self._connect() as con:
            return bool(con.execute("SELECT count(*) FROM datasets WHERE name = ?", [name]).fetchall()[0][0])

    def dataset(self, name: str) -> dict:
        """One dataset's record; raises NotFoundError naming the datasets that exist."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM datasets WHERE name = ?", [name]).df()
            if rows.empty:
                names = [r[0] for r in con.execute("SELECT name FROM datasets ORDER BY name").fetchall()]
                raise NotFoundError(f"no dataset named {name!r}; the store has: {', '.join(names) or 'none'}")
        rec = rows.iloc[0].to_dict()
        rec["privacy"] = json.loads(rec["privacy"] or "[]")
        rec["event_facts"] = json.loads(rec.get("event_facts") or "null")
        return rec

    def import_dataset(self, name: str, *, users: TablePlan | None = None, events: TablePlan | None = None,
                       kind: str, source: str, privacy: list[dict] | None = None,
                       replace: bool = False, if_missing: bool = False, top_categories: int = 8,
                       keep_events: bool = False, shape: str = "events",
                       vocabulary: dict[str, list[str]] | None = None, carry: dict[str, str] | None = None,
                       progress=None) -> dict | None:
        """Create a dataset from files in one transaction, and engineer its features.

        Files are streamed by DuckDB straight into the store's tables; only the
        planned columns are written, transformed on the way (PII hashed).

        Parameters
        ----------
        replace : bool, default=False
            Replace a dataset of the same name. The replaced version is kept,
            with its runs, until :meth:`discard_previous` (or restored by
            :meth:`restore_previous`); a later replace discards it.
        if_missing : bool, default=False
            Do nothing (and return None) when the dataset exists.
        keep_events : bool, default=False
            Also store the event log (planned columns only, PII hashed), to browse it
            later. By default only what is derived from it is stored: the per-user
            features and the facts a quality report needs. Features are read from a
            Parquet log where it lies; a CSV or JSON log is parsed once into a
            temporary table. Keeping 20 million events costs about 5 s more and
            makes the store several times larger.
        shape : {'events', 'transactions'}, default='events'
            What a row of the event log is: an event of some type, or an order (line) of a
            transaction log, where every row is a purchase and a negative amount or quantity a return.
        vocabulary : dict, optional
            Events only: kind (``purchase``, ``add_to_cart``, ...) -> the log's event types that
            mean it. Proposed from the log's types and amounts when omitted.
        carry : dict, optional
            Events only: file column -> ``last``, ``sum`` or ``mean``, for columns the plan
            carries as ``carry:<column>``: each becomes a per-user column (:func:`carried_name`).
        progress : callable, optional
            ``progress(fraction, message)``, called from this thread while DuckDB works.

        Returns
        -------
        dict or None
            ``unread``: per table, target column -> how many values present in
            the file could not be read (kept as missing); ``rows``: rows read
            per table; ``skipped_ids``: users rows dropped for having no id;
            ``duplicate_ids``: users rows that repeat an id (one row per id is used).
        """
        if not isinstance(name, str) or not DATASET_NAME_RULE.fullmatch(name):
            raise InputError(f"dataset name {name!r} is not allowed: use 1-64 letters, digits, '_', '.' "
                             "or '-', starting with a letter or digit")
        if users is None and events is None:
            raise InputError("nothing to import: give a users file, an events file or both")
        if shape not in ("events", "transactions"):
            raise InputError(f"shape={shape!r} should be 'events' or 'transactions'")
        counts: dict = {"unread": {}, "masked": {}, "rows": {}, "skipped_ids": 0, "duplicate_ids": 0}
        weights = {"users": 0.25 if events is not None else 0.9, "events": 0.55}
        with self._transaction() as con, self._writing(f"the import of {name!r}"):
            _personal_data_checks(con)
            exists = con.execute("SELECT count(*) FROM datasets WHERE name = ?", [name]).fetchall()[0][0]
            if exists and if_missing:
                return None
            if exists and not replace:
                raise InputError(f"dataset {name!r} already exists: choose another name or replace it",
                                 cli="--replace", app="tick Replace the existing dataset")
            if exists:
                # keep the replaced version until the user confirms: drop an older backup, rename this one
                if con.execute("SELECT count(*) FROM datasets WHERE name = ?", [_previous(name)]).fetchall()[0][0]:
                    self._drop_dataset(con, _previous(name))
                self._rename_dataset(con, name, _previous(name))
            # Order matters less than memory for a big file; features are sorted explicitly.
            con.execute("SET preserve_insertion_order = false")
            done = 0.0
            facts = None
            for role, plan in (("users", users), ("events", events)):
                if plan is None:
                    continue
                params: dict = {}
                select = _select(con, plan, params)
                kept = role == "users" or keep_events
                # An event log that is not kept is the temporary relation `events`: a view over a Parquet
                # file (read where it lies, as often as the features need: cheaper than a copy), or a
                # temporary table for text (parsed once).
                in_place = not kept and plan.fmt == "parquet"
                relation = _table(name, role) if kept else "events"
                if in_place:
                    con.sql(select, params=params).create_view(relation, replace=True)
                else:
                    create = "CREATE TABLE" if kept else "CREATE OR REPLACE TEMP TABLE"
                    _execute(con, f"{create} {relation} AS {select}", params, progress,
                             done, done + weights[role], f"reading the {role} file")
                    done += weights[role]
                flags = [r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()
                         if r[0].startswith((UNREAD_PREFIX, MASKED_PREFIX))]
                # The rows, the time range and each unread tally are asked apart (as are the id checks
                # below): asked alone, a Parquet file answers them from its statistics where they
                # suffice. At 20M events the rows and times took 2 ms, against 0.1 s more when they
                # shared one scan with the tallies; the tallies took 2-9 ms each, against 0.1 s together.
                extra = ", count(ts), min(ts), max(ts)" if role == "events" else ""
                row = con.execute(f"SELECT count(*){extra} FROM {relation}").fetchall()[0]
                tallies = [_count(con, relation, quote_ident(f)) for f in flags]
                counts["rows"][role] = int(row[0])
                for key, prefix in (("unread", UNREAD_PREFIX), ("masked", MASKED_PREFIX)):
                    counts[key][role] = {f[len(prefix):]: int(n) for f, n in zip(flags, tallies) if f.startswith(prefix)}
                if kept:
                    for f in flags:
                        con.execute(f"ALTER TABLE {relation} DROP COLUMN {quote_ident(f)}")
                if role == "events":
                    readable, first, last = row[1:]
                    no_time = row[0] - readable
                    no_user, t_ref, unsessioned = _id_facts(con, relation, last)
                    facts = {"events": int(row[0]), "events_without_user": int(no_user),
                             "events_without_time": int(no_time),
                             "first_event": None if first is None else first.isoformat(),
                             "last_event": None if last is None else last.isoformat()}
                    if row[0] and readable == 0:
                        ts_source = next((c.source for c in plan.columns if c.target == "ts"), "?")
                        raise InputError(f"no value in timestamp column {ts_source!r} of "
                                         f"{Path(plan.path).name!r} reads as a date or time: map another "
                                         "column to timestamp or give its date format")
                    if t_ref is None:  # no event has both a user and a time: there is nothing to measure from
                        raise InputError(f"no row of {source_name(plan)!r} has a user id and a readable "
                                         "timestamp: nothing to segment")
                    if kept:  # the feature SQL reads `events`
                        con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM {relation}")
            if users is not None:
                r = con.execute(f"SELECT count(*) FILTER (WHERE user_id IS NULL), "
                                f"count(user_id) - count(DISTINCT user_id) FROM {_table(name, 'users')}").fetchall()[0]
                counts["skipped_ids"], counts["duplicate_ids"] = int(r[0]), int(r[1])
            # Hashed identifiers (an email's SHA-256, the key ad platforms match on) are kept once, in the
            # users table: segments() fetches them from there for an export. Copying them into the features
            # as well took 0.4 s of a 1M-user import, for columns that are never clustered or profiled.
            pseudonyms = [c.target for c in users.columns if c.transform in _HASHING] if users is not None else []
            n_events = None
            if events is not None:
                n_events = counts["rows"]["events"]
                facts |= self._build_features(con, name, shape=shape, vocabulary=vocabulary, carry=carry or {},
                                              t_ref=t_ref, first=first, unsessioned=unsessioned,
                                              with_users=users is not None, pseudonyms=pseudonyms,
                                              top=top_categories, unique_users=counts["duplicate_ids"] == 0,
                                              progress=progress, span=(done, 0.97))
                con.execute(f"DROP {'VIEW' if keep_events or events.fmt == 'parquet' else 'TABLE'} events")
            else:
                exclude = f" EXCLUDE ({', '.join(map(quote_ident, pseudonyms))})" if pseudonyms else ""
                con.execute(f"CREATE TABLE {_table(name, 'features')} AS SELECT DISTINCT ON (user_id) *{exclude} "
                            f"FROM {_table(name, 'users')} WHERE user_id IS NOT NULL ORDER BY user_id")
            n_users = con.execute(f"SELECT count(*) FROM {_table(name, 'features')}").fetchall()[0][0]
            if n_users == 0:
                what = "user id" if events is None else "user id and a readable timestamp"
                raise InputError(f"no row of {source_name(users, events)!r} has a {what}: nothing to segment")
            con.execute("INSERT INTO datasets (name, kind, source, n_users, n_events, privacy, created_at, "
                        "event_facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [name, kind, source, n_users, n_events, json.dumps(privacy or []),
                         datetime.now(timezone.utc).replace(tzinfo=None), None if facts is None else json.dumps(facts)])
        if progress:
            progress(1.0, "done")
        counts["facts"] = facts
        return counts

    def _build_features(self, con, name: str, *, shape: str, vocabulary: dict[str, list[str]] | None,
                        carry: dict[str, str], t_ref, first,
                        unsessioned: int, with_users: bool, pseudonyms: list[str], top: int,
                        unique_users: bool = False, progress=None, span: tuple[float, float] = (0.0, 1.0)) -> dict:
        """Engineer the per-user features of the log in the temporary relation ``events``.

        Returns what the import learnt about the log: its shape, whether its times carry a time of
        day, its event types with the kind each was read as, and the features left out with why.
        """
        # The SQL files read a relation called `events`: the caller points it at this dataset's events,
        # and knows from its scan of them the last event's time and how many events lack a session.
        facts: dict = {"shape": shape}
        clean = _sql_resource("clean_events.sql")
        device_canonical = con.execute("SELECT coalesce(bool_and(v = lower(trim(v))), true) "
                                       "FROM (SELECT DISTINCT device AS v FROM events)").fetchall()[0][0]
        clean = clean.replace("/*device*/", "device" if device_canonical else "lower(trim(device))")
        # which optional roles the log fills at all, asked once (each answered at the first row that has one)
        has = {role: _exists(con, "events", f"{role} IS NOT NULL") for role in _OPTIONAL_ROLES}
        amount = "amount"
        if has["unit_price"]:
            amount = "coalesce(amount, quantity * unit_price)"  # an order line's value where it has no amount
        if shape == "transactions":
            event_type = f"CASE WHEN {amount} < 0 OR quantity < 0 THEN 'return' ELSE 'purchase' END"
            amount = f"CASE WHEN quantity < 0 THEN -abs({amount}) ELSE {amount} END"
            vocab_join, kinds, own_types = "", {}, []
        else:
            event_type, vocab_join, kinds, own_types, found = _event_types(con, vocabulary)
            facts |= found
        for marker, text in (("event_type", event_type), ("amount", amount), ("vocab_join", vocab_join)):
            clean = clean.replace(f"/*{marker}*/", text)
        con.execute(f"CREATE OR REPLACE TEMP VIEW clean_events AS {clean}")
        # A log whose every time is midnight holds dates only: nothing can be said about time of day or
        # session length, and sessions are not cut from it.
        timed = _exists(con, "events", "ts IS NOT NULL AND ts <> date_trunc('day', ts)")
        facts["time_resolution"] = "time" if timed else "date"
        lo, hi = span
        if shape == "events" and unsessioned and timed:
            _execute(con, f"CREATE OR REPLACE TEMP TABLE ev AS {_sql_resource('sessionise.sql')}", None,
                     progress, lo, lo + (hi - lo) * 0.4, "cutting sessions at 30 minutes of inactivity")
            lo += (hi - lo) * 0.4
            ev_kind = "TABLE"
        elif shape == "events" and unsessioned:
            # dates only: a user's day stands in for the missing sessions, whose features are left out below
            con.execute("CREATE OR REPLACE TEMP VIEW ev AS SELECT * EXCLUDE (session_id), "
                        "coalesce(CAST(session_id AS VARCHAR), user_id || '#' || CAST(ts::DATE AS VARCHAR)) "
                        "AS session_id FROM clean_events")
            ev_kind = "VIEW"
        else:
            con.execute("CREATE OR REPLACE TEMP VIEW ev AS SELECT * FROM clean_events")
            ev_kind = "VIEW"
        _execute(con, f"CREATE OR REPLACE TEMP TABLE cat_map AS {_sql_resource('category_map.sql')}",
                 {"top": int(top)}, progress, lo, lo + (hi - lo) * 0.15, "counting categories")
        names = dict(con.execute("SELECT DISTINCT idx, name FROM cat_map WHERE idx < ?", [int(top)]).fetchall())
        if con.execute("SELECT count(*) FROM cat_map WHERE idx = ?", [int(top)]).fetchall()[0][0]:
            names[int(top)] = "other"
        sql = _sql_resource("transaction_features.sql" if shape == "transactions" else "user_features.sql")
        counts_sql = "".join(f", count(*) FILTER (idx = {i}) AS cat_{i}" for i in names)
        # A user with categorised events but none in category c has share 0, not missing.
        shares = "".join(f", CASE WHEN u.categorised > 0 THEN u.cat_{i} / u.categorised END "
                         f"AS {quote_ident('share_' + names[i])}" for i in sorted(names, key=names.get))
        diversity = " + ".join([f"(u.cat_{i} > 0)::BIGINT" for i in names if i < top] or ["0::BIGINT"])
        tail = ""
        if top in names:
            diversity += " + coalesce(t.n_tail, 0)"
            tail = ("LEFT JOIN (SELECT user_id, count(DISTINCT name) AS n_tail FROM ev JOIN cat_map "
                    f"USING (category) WHERE idx = {int(top)} GROUP BY user_id) t USING (user_id)")
        params = {"t_ref": t_ref}
        if t_ref is not None and first is not None and (t_ref.date() - first.date()).days < MAX_BITMAP_DAYS:
            words = range((t_ref.date() - first.date()).days // 64 + 1)
            bits = "".join(f", bit_or(1::UBIGINT << ((ts::DATE - $first_day) % 64)) "
                           f"FILTER ((ts::DATE - $first_day) // 64 = {w}) AS day_word_{w}" for w in words)
            active = " + ".join(f"coalesce(bit_count(u.day_word_{w}), 0)::BIGINT" for w in words)
            days_join = ""
            if shape == "events":
                params["first_day"] = first.date()
        else:
            bits, active, days_join = "", "d.active_days", "JOIN days d USING (user_id)"
        params.update({f"type_{j}": v for j, (v, _) in enumerate(own_types)})
        type_counts = "".join(f", count(*) FILTER (event_type = $type_{j}) AS type_{j}" for j in range(len(own_types)))
        type_columns = "".join(f", u.type_{j} / u.n_events AS {quote_ident('type_share_' + n)}"
                               for j, (_, n) in enumerate(own_types))
        for marker, text in (("type_counts", type_counts), ("type_columns", type_columns),
                             ("category_counts", counts_sql), ("category_columns", shares),
                             ("category_diversity", diversity), ("tail_join", tail), ("day_bits", bits),
                             ("active_days", active), ("days_join", days_join)):
            sql = sql.replace(f"/*{marker}*/", text)
        left_out = self._unsupported(con, shape=shape, kinds=kinds, has=has, timed=timed,
                                     sessions_given=not unsessioned, categories=bool(names))
        feat_cols = {r[0] for r in con.execute(f"DESCRIBE {sql}", params).fetchall()}
        left_out = {f: why for f, why in left_out.items() if f in feat_cols}
        facts["left_out"] = left_out
        attrs = join = ""
        taken = set(feat_cols) - set(left_out)
        # products and pages: how many distinct ones a user bought or saw; a channel: the one they came by first
        reach = {out: expr for role, out, expr in _REACH if has[role] and out not in taken}
        if reach:
            attrs += "".join(f", r.{quote_ident(o)}" for o in reach)
            per_user = ", ".join(f"{e} AS {quote_ident(o)}" for o, e in reach.items())
            join += f"LEFT JOIN {_ids_checked(f'SELECT user_id, {per_user} FROM ev GROUP BY user_id')} r USING (user_id) "
            taken |= set(reach)
        if carry:
            # per user: the latest value of an attribute, or the sum or mean of a number, over every event
            outs = {c: carried_name(c, a) for c, a in carry.items() if carried_name(c, a) not in taken}
            aggs = ", ".join(_AGGREGATE_SQL[carry[c]].format(c=quote_ident(CARRY_PREFIX + c)) + f" AS {quote_ident(o)}"
                             for c, o in outs.items())
            if outs:
                attrs += "".join(f", c.{quote_ident(o)}" for o in outs.values())
                per_user = (f"SELECT user_id, {aggs} FROM events WHERE user_id IS NOT NULL AND ts IS NOT NULL "
                            "GROUP BY user_id")
                join += f"LEFT JOIN {_ids_checked(per_user)} c USING (user_id) "
                taken |= set(outs.values())
            facts["carried"] = outs
        if with_users:
            user_cols = [r[0] for r in con.execute(f"DESCRIBE {_table(name, 'users')}").fetchall()]
            attrs += "".join(f", u.{quote_ident(c)}" for c in user_cols
                             if c != "user_id" and c not in taken and c not in pseudonyms)
            # one users row per id, so a repeated id cannot duplicate a user's features
            users_rel = (_table(name, "users") if unique_users else
                         f"(SELECT DISTINCT ON (user_id) * FROM {_table(name, 'users')} WHERE user_id IS NOT NULL)")
            join += f"LEFT JOIN {users_rel} u USING (user_id)"
        exclude = f" EXCLUDE ({', '.join(map(quote_ident, left_out))})" if left_out else ""
        _execute(con, f"CREATE TABLE {_table(name, 'features')} AS SELECT f.*{exclude}{attrs} FROM {_ids_checked(sql)} f {join} "
                 "ORDER BY f.user_id", params, progress, lo + (hi - lo) * 0.15, hi, "engineering per-user features")
        con.execute("DROP TABLE cat_map")
        con.execute(f"DROP {ev_kind} ev")
        con.execute("DROP VIEW clean_events")
        con.execute("DROP TABLE IF EXISTS event_vocab")
        return facts

    @staticmethod
    def _unsupported(con, *, shape: str, kinds: dict, has: dict[str, bool], timed: bool, sessions_given: bool,
                     categories: bool) -> dict[str, str]:
        """Features the log cannot support, each with what it would need (these are not built). ``has``:
        whether the log fills each of ``_OPTIONAL_ROLES``."""
        out: dict[str, str] = {}

        def leave(features, why):
            for f in features:
                out.setdefault(f, why)

        money = has["amount"] or (has["quantity"] and has["unit_price"])
        if not categories:
            leave(["category_diversity"], "needs a category column")
        if shape == "transactions":
            if not money:
                leave(["revenue", "avg_order_value", "returned_value"], "needs an amount (or quantity and unit price)")
            if not has["quantity"]:
                leave(["items", "items_per_order"], "needs a quantity column")
            if not _exists(con, "clean_events", "event_type = 'return'"):
                leave(["n_returns", "returned_value"], "the log has no returns: no row with a negative amount or quantity")
            return out
        if not timed:
            leave(["night_share", "avg_session_minutes"], "needs times of day (the log has dates only)")
            if not sessions_given:
                leave(["n_sessions", "events_per_session", "cart_rate", "conversion_rate"],
                      "needs session ids or times of day (the log has dates only)")
        purchases = kinds.get("purchase", {})
        if not purchases.get("events"):
            leave(["n_purchases", "revenue", "avg_order_value", "conversion_rate"],
                  "needs purchase events: say which event type is a purchase")
        elif not purchases.get("with_amount"):
            leave(["revenue", "avg_order_value"], "needs amounts on purchase events")
        if not kinds.get("add_to_cart", {}).get("events"):
            leave(["add_to_cart", "cart_rate"], "needs add-to-cart events: say which event type adds to cart")
        if not kinds.get("product_view", {}).get("events"):
            leave(["product_views"], "needs product-view events: say which event type is a product view")
        if not kinds.get("ad_impression", {}).get("events"):
            leave(["ad_impressions", "ctr"], "needs ad impression events")
        if not kinds.get("ad_click", {}).get("events"):
            leave(["ad_clicks", "ctr"], "needs ad click events")
        if not has["device"]:
            leave(["mobile_share"], "needs a device column")
        return out

    def _drop_dataset(self, con, name: str) -> None:
        for role in ROLES_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {_table(name, role)}")
        run_ids = "(SELECT run_id FROM runs WHERE dataset = ?)"
        for table in ("assignments", "personas", "projections", "projection_info"):
            con.execute(f"DELETE FROM {table} WHERE run_id IN {run_ids}", [name])
        con.execute("DELETE FROM runs WHERE dataset = ?", [name])
        con.execute("DELETE FROM datasets WHERE name = ?", [name])

    def _rename_dataset(self, con, old: str, new: str) -> None:
        for role in ROLES_TABLES:
            con.execute(f"ALTER TABLE IF EXISTS {_table(old, role)} RENAME TO {quote_ident(f'ds:{new}:{role}')}")
        con.execute("UPDATE datasets SET name = ? WHERE name = ?", [new, old])
        con.execute("UPDATE runs SET dataset = ? WHERE dataset = ?", [new, old])

    def previous_version(self, name: str) -> dict | None:
        """The version of ``name`` that the last replace set aside, with its run count, or None."""
        with self._connect() as con:
            rows = con.execute("SELECT d.*, (SELECT count(*) FROM runs r WHERE r.dataset = d.name) AS n_runs "
                               "FROM datasets d WHERE name = ?", [_previous(name)]).df()
        return None if rows.empty else rows.iloc[0].to_dict()

    def restore_previous(self, name: str) -> None:
        """Undo the last replace of ``name``: the replaced version and its runs come back."""
        if self.previous_version(name) is None:
            raise NotFoundError(f"dataset {name!r} has no replaced version to restore")
        with self._transaction() as con:
            self._drop_dataset(con, name)
            self._rename_dataset(con, _previous(name), name)

    def discard_previous(self, name: str) -> None:
        """Confirm the last replace of ``name``: the replaced version and its runs are deleted."""
        if self.previous_version(name) is None:
            raise NotFoundError(f"dataset {name!r} has no replaced version to discard")
        with self._transaction() as con:
            self._drop_dataset(con, _previous(name))

    def tables(self, name: str) -> list[str]:
        """Which of users / events / features the dataset has."""
        with self._connect() as con:
            present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return [role for role in ROLES_TABLES if f"ds:{name}:{role}" in present]

    def columns(self, name: str, role: str = "features") -> pd.DataFrame:
        """Column names and DuckDB types of a dataset's table."""
        self._check_role(name, role)
        return self._df(f"SELECT column_name, column_type FROM (DESCRIBE {_table(name, role)})")

    def _check_role(self, name: str, role: str) -> None:
        self.dataset(name)
        if role not in self.tables(name):
            raise NotFoundError(f"dataset {name!r} has no {role} table")

    def read_table(self, name: str, role: str = "features", columns: list[str] | None = None,
                   limit: int | None = None, sample: int | None = None) -> pd.DataFrame:
        """A dataset's table (or some columns of it), ordered by user id.

        ``sample``: at most this many users, the same ones every time (those whose ids hash lowest),
        spread over the whole table rather than its first ids."""
        self._check_role(name, role)
        available = set(self.columns(name, role)["column_name"])
        if columns is not None:
            missing = [c for c in columns if c not in available]
            if missing:
                raise NotFoundError(f"dataset {name!r} has no column(s) {', '.join(map(repr, missing))}")
            select = ", ".join(quote_ident(c) for c in columns)
        else:
            select = "*"
        order = " ORDER BY user_id" if "user_id" in available and role != "events" else ""
        source = _table(name, role)
        if sample is not None and "user_id" in available:
            source = f"(SELECT * FROM {source} ORDER BY hash(user_id), user_id LIMIT {int(sample)})"
        sql = f"SELECT {select} FROM {source}{order}"
        if limit is not None:
            return self._df(sql + " LIMIT ?", [int(limit)])
        return self._df(sql)

    def column_stats(self, name: str, role: str = "features") -> pd.DataFrame:
        """Per column: approximate distinct count and missing percentage, in one light scan
        (SUMMARIZE also computes quantiles, which costs seconds at a million users)."""
        cols = self.columns(name, role)["column_name"].tolist()
        exprs = ", ".join(f"approx_count_distinct({quote_ident(c)}), count({quote_ident(c)})" for c in cols)
        with self._connect() as con:
            row = con.execute(f"SELECT count(*), {exprs} FROM {_table(name, role)}").fetchall()[0]
        n = max(int(row[0]), 1)
        return pd.DataFrame({"column_name": cols, "approx_unique": [int(v) for v in row[1::2]],
                             "null_percentage": [100.0 * (1 - int(v) / n) if row[0] else 100.0 for v in row[2::2]]})

    def summarize(self, name: str, role: str = "features") -> pd.DataFrame:
        """Per column: type, min, max, distinct (approximate), missing share (DuckDB's SUMMARIZE)."""
        self._check_role(name, role)
        df = self._df(f"SUMMARIZE {_table(name, role)}")
        df["null_percentage"] = pd.to_numeric(df["null_percentage"].astype(str).str.rstrip("%"), errors="coerce")
        return df[["column_name", "column_type", "min", "max", "approx_unique", "null_percentage", "count",
                   "q25", "q75"]]

    def join_counts(self, name: str) -> dict:
        """For a dataset built from users and events: users without events, and event users without a row."""
        u, f = _table(name, "users"), _table(name, "features")
        with self._connect() as con:
            r = con.execute(f"SELECT (SELECT count(DISTINCT user_id) FROM {u}), "
                            f"(SELECT count(DISTINCT user_id) FROM {u} WHERE user_id NOT IN (SELECT user_id FROM {f})), "
                            f"(SELECT count(*) FROM {f} WHERE user_id NOT IN "
                            f"(SELECT user_id FROM {u} WHERE user_id IS NOT NULL))").fetchall()[0]
        return {"users": int(r[0]), "users_without_events": int(r[1]), "event_users_without_row": int(r[2])}

    def quality_counts(self, name: str, fences: dict[str, tuple[float, float]], *,
                       min_events: int = 3) -> dict:
        """Counts a quality report needs, computed in SQL: values outside each column's fences,
        duplicate user ids, event rows without a user or a readable time, the event date range, and
        users with fewer than ``min_events`` events."""
        stored = self.dataset(name)["event_facts"]  # counted while importing: the log may not be kept
        tables = self.tables(name)
        out: dict = {"outside_fences": {}}
        with self._connect() as con:
            if fences:
                cols = list(fences)
                exprs = ", ".join(f"count(*) FILTER (WHERE {quote_ident(c)} < ? OR {quote_ident(c)} > ?)" for c in cols)
                params = [v for c in cols for v in fences[c]]
                row = con.execute(f"SELECT {exprs} FROM {_table(name, 'features')}", params).fetchall()[0]
                out["outside_fences"] = dict(zip(cols, map(int, row)))
            if "users" in tables:
                out["duplicate_ids"] = int(con.execute(
                    f"SELECT count(*) - count(DISTINCT user_id) FROM {_table(name, 'users')}").fetchall()[0][0])
            if stored is not None:
                out.update(stored)
                for key in ("first_event", "last_event"):
                    out[key] = None if stored[key] is None else datetime.fromisoformat(stored[key])
            elif "events" in tables:  # a store written before the facts were kept
                r = con.execute(f"SELECT count(*), count(*) FILTER (WHERE user_id IS NULL), "
                                f"count(*) FILTER (WHERE ts IS NULL), min(ts), max(ts) "
                                f"FROM {_table(name, 'events')}").fetchall()[0]
                out.update(events=int(r[0]), events_without_user=int(r[1]), events_without_time=int(r[2]),
                           first_event=r[3], last_event=r[4])
            has_counts = con.execute("SELECT count(*) FROM (DESCRIBE " + _table(name, "features") + ") "
                                     "WHERE column_name = 'n_events'").fetchall()[0][0]
            if "events" in out and has_counts:  # a transaction log has orders, not events: one order is normal
                out["low_activity_users"] = int(con.execute(
                    f"SELECT count(*) FROM {_table(name, 'features')} WHERE n_events < ?", [int(min_events)]
                ).fetchall()[0][0])
        return out

    # -- runs ----------------------------------------------------------------------------------
    def save_run(self, run: dict, assignments: pd.DataFrame, personas: pd.DataFrame, *,
                 dataset_version=None) -> str:
        """Store a run with its assignments and personas, all or nothing.

        ``dataset_version``: the dataset's ``created_at`` as read before its features were; if the dataset
        has been replaced since, nothing is saved (the run belongs to data that is no longer the dataset).
        """
        rec = dict(run)
        for f in _JSON_RUN_FIELDS:
            rec[f] = json.dumps(rec.get(f), default=float)
        cols = ["run_id", "dataset", "algo", "k", "seed", *_JSON_RUN_FIELDS, "fingerprint", "created_at"]
        assign = assignments[["user_id", "cluster"]].copy()
        # membership probability of the assigned segment, for methods that have one (mixtures, HDBSCAN)
        assign["probability"] = assignments["probability"] if "probability" in assignments else None
        assign.insert(0, "run_id", rec["run_id"])
        pers = personas[["cluster", "name", "description", "colour"]].copy()
        pers.insert(0, "run_id", rec["run_id"])
        with self._transaction() as con:
            now = con.execute("SELECT created_at FROM datasets WHERE name = ?", [rec["dataset"]]).fetchall()
            if dataset_version is not None and (not now or pd.Timestamp(now[0][0]) != pd.Timestamp(dataset_version)):
                raise InputError(f"dataset {rec['dataset']!r} was replaced or deleted while this run was being "
                                 "fitted: nothing was saved; fit it again on the dataset as it is now")
            con.execute(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        [rec.get(c) for c in cols])
            con.register("_assign", assign)
            con.execute("INSERT INTO assignments SELECT run_id, CAST(user_id AS VARCHAR), cluster, "
                        "CAST(probability AS DOUBLE) FROM _assign")
            con.register("_pers", pers)
            con.execute("INSERT INTO personas SELECT * FROM _pers")
        return rec["run_id"]

    def list_runs(self, dataset: str | None = None) -> pd.DataFrame:
        """Runs, newest first, optionally of one dataset."""
        where, params = ("WHERE dataset = ?", [dataset]) if dataset else \
            ("WHERE NOT ends_with(dataset, ?)", [PREVIOUS_SUFFIX])
        return self._df(f"SELECT run_id, dataset, algo, k, seed, metrics, created_at FROM runs {where} "
                        "ORDER BY created_at DESC, run_id", params)

    def run(self, run_id: str) -> dict:
        """One run's record, JSON fields decoded."""
        df = self._df("SELECT * FROM runs WHERE run_id = ?", [run_id])
        if df.empty:
            raise NotFoundError(f"no run with id {run_id!r}", cli="`segcore runs` lists them",
                                app="the sidebar lists the runs")
        rec = df.iloc[0].to_dict()
        for f in _JSON_RUN_FIELDS:
            rec[f] = json.loads(rec[f]) if rec[f] else None
        return rec

    def assignments(self, run_id: str) -> pd.DataFrame:
        """user_id, cluster (-1 = unassigned) and membership probability (where the method has one)."""
        self.run(run_id)
        return self._df("SELECT user_id, cluster, probability FROM assignments WHERE run_id = ? ORDER BY user_id",
                        [run_id])

    def personas(self, run_id: str) -> pd.DataFrame:
        self.run(run_id)
        return self._df("SELECT cluster, name, description, colour FROM personas WHERE run_id = ? "
                        "ORDER BY cluster", [run_id])

    def save_personas(self, run_id: str, personas: pd.DataFrame) -> None:
        """Set a run's persona names, descriptions and colours (one row per cluster, every cluster)."""
        df = personas[["cluster", "name", "description", "colour"]]
        if df["cluster"].duplicated().any():
            raise InputError("personas must name each cluster of the run exactly once")
        self.update_personas(run_id, {int(r.cluster): {"name": r.name, "description": r.description,
                                                         "colour": r.colour} for r in df.itertuples(index=False)},
                             every_cluster=True)

    def update_personas(self, run_id: str, changes: dict[int, dict[str, str]], *,
                        expected: dict[int, dict[str, str]] | None = None, every_cluster: bool = False) -> None:
        """Change some fields of some personas of a run, reading and writing in one transaction.

        Parameters
        ----------
        changes : dict
            cluster -> {field: value}, fields among ``name``, ``description`` and ``colour``.
        expected : dict, optional
            cluster -> {field: value} as the caller last read them: if another writer has changed one
            since, nothing is written and the error says so (an edit is never silently lost).
        every_cluster : bool, default=False
            Require ``changes`` to name every cluster of the run.
        """
        fields = ("name", "description", "colour")
        unknown = {f for c in changes.values() for f in c} - set(fields)
        if unknown:
            raise InputError(f"persona field {sorted(unknown)[0]!r} should be one of {', '.join(fields)}")
        try:
            with self._transaction() as con:
                current = con.execute("SELECT cluster, name, description, colour FROM personas WHERE run_id = ? "
                                      "ORDER BY cluster", [run_id]).df()
                if current.empty:  # every run is saved with its personas
                    raise NotFoundError(f"no run with id {run_id!r}", cli="`segcore runs` lists them",
                                app="the sidebar lists the runs")
                clusters = current["cluster"].tolist()
                missing = sorted(set(changes) - set(clusters))
                if missing or (every_cluster and sorted(changes) != clusters):
                    raise InputError(f"run {run_id} has no cluster {missing[0]}; clusters: {', '.join(map(str, clusters))}"
                                     if missing else "personas must name each cluster of the run exactly once: "
                                     f"clusters {clusters}")
                df = current.set_index("cluster")
                for cluster, was in (expected or {}).items():
                    for column, value in was.items():
                        now = df.at[cluster, column] if cluster in df.index else None
                        if not (now == value or (pd.isna(now) and pd.isna(value))):
                            raise InputError(f"the persona of segment {cluster} was changed by someone else since "
                                             "you opened it: reload to see their change, then edit again")
                for cluster, values in changes.items():
                    for column, value in values.items():
                        df.at[cluster, column] = value
                df = df.reset_index()
                _check_personas(df)
                for row in df[df["cluster"].isin(list(changes))].itertuples(index=False):
                    con.execute("UPDATE personas SET name = ?, description = ?, colour = ? "
                                "WHERE run_id = ? AND cluster = ?",
                                [row.name, None if pd.isna(row.description) else row.description, row.colour,
                                 run_id, int(row.cluster)])
        except duckdb.TransactionException as exc:
            raise InputError("another edit of these personas was saved at the same moment: nothing was "
                             "written; reload and try again") from exc

    def _segment_sources(self, name: str) -> tuple[list[str], list[str]]:
        feats = self.columns(name)["column_name"].tolist()
        users = self.columns(name, "users")["column_name"].tolist() if "users" in self.tables(name) else []
        return feats, [c for c in users if c not in feats]

    def segment_columns(self, name: str) -> list[str]:
        """Columns a segment export can carry: the features table's, then the users table's others
        (hashed identifiers such as an email's SHA-256 are kept there only)."""
        feats, users_only = self._segment_sources(name)
        return feats + users_only

    def segments(self, run_id: str, columns: list[str] | None = None) -> pd.DataFrame:
        """user_id, cluster, persona and the requested columns of a run's users (see :meth:`segment_columns`)."""
        rec = self.run(run_id)
        name = rec["dataset"]
        feats, users_only = self._segment_sources(name)
        columns = [c for c in (columns or []) if c not in ("user_id", "cluster", "persona")]
        missing = [c for c in columns if c not in feats and c not in users_only]
        if missing:
            raise NotFoundError(f"dataset {name!r} has no column(s) {', '.join(map(repr, missing))}")
        extra = "".join(f", {'f' if c in feats else 'u'}.{quote_ident(c)}" for c in columns)
        from_users = [quote_ident(c) for c in columns if c in users_only]
        join = "" if not from_users else (
            f"LEFT JOIN (SELECT DISTINCT ON (user_id) user_id, {', '.join(from_users)} FROM {_table(name, 'users')} "
            "WHERE user_id IS NOT NULL) u ON u.user_id = a.user_id ")
        return self._df(
            f"SELECT a.user_id, a.cluster, p.name AS persona{extra} FROM assignments a "
            f"LEFT JOIN personas p ON p.run_id = a.run_id AND p.cluster = a.cluster "
            f"LEFT JOIN {_table(name, 'features')} f ON f.user_id = a.user_id {join}"
            "WHERE a.run_id = ? ORDER BY a.cluster, a.user_id", [run_id])

    # -- projections -------------------------------------------------------------------------
    def save_projection(self, run_id: str, method: str, coords: pd.DataFrame, info: dict) -> None:
        """Store 2-D positions (user_id, x, y) of a run's users, replacing earlier ones."""
        self.run(run_id)
        df = coords[["user_id", "x", "y"]].copy()
        df.insert(0, "method", method)
        df.insert(0, "run_id", run_id)
        with self._transaction() as con:
            con.execute("DELETE FROM projections WHERE run_id = ? AND method = ?", [run_id, method])
            con.execute("DELETE FROM projection_info WHERE run_id = ? AND method = ?", [run_id, method])
            con.register("_proj", df)
            con.execute("INSERT INTO projections SELECT run_id, method, user_id, x, y FROM _proj")
            con.execute("INSERT INTO projection_info VALUES (?, ?, ?)", [run_id, method, json.dumps(info)])

    def projection_info(self, run_id: str, method: str) -> dict | None:
        """The stored projection's description (without the positions), or None when not computed yet."""
        info = self._df("SELECT info FROM projection_info WHERE run_id = ? AND method = ?", [run_id, method])
        return None if info.empty else json.loads(info.iloc[0, 0])

    def projection(self, run_id: str, method: str) -> tuple[pd.DataFrame, dict] | None:
        """Stored positions and info, or None when not computed yet."""
        info = self._df("SELECT info FROM projection_info WHERE run_id = ? AND method = ?", [run_id, method])
        if info.empty:
            return None
        df = self._df("SELECT user_id, x, y FROM projections WHERE run_id = ? AND method = ? ORDER BY user_id",
                      [run_id, method])
        return df, json.loads(info.iloc[0, 0])
