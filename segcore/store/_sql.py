"""Small pieces of SQL writing shared by the store's rooms: quoting, counting, progress, the SQL files."""

from __future__ import annotations

import re
import threading
from importlib import resources

__all__ = ["quote_ident", "table_name", "one_row_per_user", "sql_text", "count", "exists", "execute", "sql_resource",
           "fill"]

# A dataset's tables are named ds:<dataset>:<role>.
ROLES_TABLES = ("users", "events", "features", "activity")


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (a column or table name) for DuckDB."""
    return '"' + str(name).replace('"', '""') + '"'


def table_name(dataset: str, role: str) -> str:
    """The quoted name of a dataset's table (``role`` one of :data:`ROLES_TABLES`)."""
    return quote_ident(f"ds:{dataset}:{role}")


def one_row_per_user(table: str, columns: str = "*") -> str:
    """A users table as a subquery with one row per user id (one of a repeated id's rows; none without an id):
    a repeated id must not duplicate a user's features, exports or KPIs."""
    return f"(SELECT DISTINCT ON (user_id) {columns} FROM {table} WHERE user_id IS NOT NULL)"


def sql_text(value: str) -> str:
    """A constant as an SQL string literal (for DDL, where values cannot be bound)."""
    return "'" + value.replace("'", "''") + "'"


def count(con, relation: str, where: str) -> int:
    """Rows of ``relation`` matching ``where``, asked alone: DuckDB then skips the Parquet row groups
    whose statistics rule the condition out, where a count beside other aggregates reads them all."""
    return int(con.execute(f"SELECT count(*) FROM {relation} WHERE {where}").fetchall()[0][0])


def exists(con, relation: str, where: str) -> bool:
    """Whether any row of ``relation`` matches ``where``; DuckDB stops at the first one."""
    return bool(con.execute(f"SELECT EXISTS (SELECT 1 FROM {relation} WHERE {where})").fetchall()[0][0])


def execute(con, sql: str, params: dict | list | None, progress, lo: float, hi: float, label: str):
    """Execute ``sql``; with ``progress``, report DuckDB's own query progress scaled into [lo, hi].

    The query runs on a worker thread and the caller's thread polls, so the callback may draw
    on the caller's UI (Streamlit elements can only be updated from the script's thread).
    """
    if progress is None:
        return con.execute(sql, params or [])

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


def sql_resource(name: str) -> str:
    """One of the SQL files shipped in ``segcore/store/sql``."""
    return resources.files("segcore.store").joinpath("sql", name).read_text(encoding="utf-8")


_MARKER = re.compile(r"/\*([a-z_]+)\*/")


def fill(sql: str, **parts: str) -> str:
    """``sql`` with each marker comment ``/*name*/`` replaced by ``parts[name]``.

    Every marker of the SQL must be given a part and every part must fill exactly one marker: a
    misspelt or forgotten marker would otherwise leave a feature silently unbuilt.
    """
    found = _MARKER.findall(sql)
    twice = sorted({m for m in found if found.count(m) > 1})
    unfilled = sorted(set(found) - set(parts))
    unknown = sorted(set(parts) - set(found))
    if twice or unfilled or unknown:
        raise ValueError(f"SQL markers do not match: repeated {twice}, not filled {unfilled}, absent {unknown}")
    return _MARKER.sub(lambda m: parts[m.group(1)], sql)
