"""Looking into a file before importing it: its first rows, a column's values, repeated ids.

DuckDB reads the file where it lies, on a connection of its own in memory: a look at a file
never opens (or waits for) a store, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd

from ._connection import CONFIG, memory_limit
from ._plans import TablePlan, reader
from ._sql import quote_ident

__all__ = ["peek", "value_counts", "repeated_ids", "READ_ERRORS"]

# How reading a file can fail (DuckDB's readers, the file system, a file's text); anything else is a bug.
READ_ERRORS = (duckdb.Error, OSError, UnicodeError)


@contextmanager
def _memory() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(":memory:", config=CONFIG)
    try:
        con.execute("SET enable_progress_bar = false; SET memory_limit = $m", {"m": memory_limit()})
        yield con
    finally:
        con.close()


def peek(path: str, fmt: str, *, n: int = 2000, text_columns=(), csv_options=None) -> pd.DataFrame:
    """The first ``n`` rows of a file, typed as DuckDB reads them (for detection and previews)."""
    plan = TablePlan(path, fmt, (), tuple(text_columns), dict(csv_options or {}))
    params: dict = {"n": int(n)}
    sql = f"SELECT * FROM {reader(plan, params)} LIMIT $n"
    with _memory() as con:
        return con.execute(sql, params).df()


def value_counts(path: str, fmt: str, column: str, *, amount: str | None = None, csv_options=None,
                 limit: int = 200) -> pd.DataFrame:
    """A file column's values, trimmed and lower-cased as an import reads event types, with how many rows
    hold each (``events``) and, given an ``amount`` column, how many of those carry a number there
    (``with_amount``); the ``limit`` most frequent, most frequent first."""
    plan = TablePlan(path, fmt, (), (), dict(csv_options or {}))
    params: dict = {"n": int(limit)}
    source = reader(plan, params)
    col = f"lower(trim(CAST({quote_ident(column)} AS VARCHAR)))"
    # an amount present at all (a file's decimal commas are only read as numbers on import)
    with_amount = f", count(nullif(trim(CAST({quote_ident(amount)} AS VARCHAR)), ''))" if amount else ""
    sql = (f"SELECT {col} AS value, count(*) AS events{with_amount} FROM {source} "
           f"WHERE {quote_ident(column)} IS NOT NULL GROUP BY ALL ORDER BY events DESC, value LIMIT $n")
    with _memory() as con:
        rows = con.execute(sql, params).fetchall()
    return pd.DataFrame(rows, columns=["value", "events"] + (["with_amount"] if amount else []))


def repeated_ids(path: str, fmt: str, column: str, *, csv_options=None) -> int:
    """Rows of a file whose value in ``column`` repeats an earlier row's (what a users table would drop)."""
    plan = TablePlan(path, fmt, (), (column,) if fmt == "csv" else (), dict(csv_options or {}))
    params: dict = {}
    source = reader(plan, params)
    c = quote_ident(column)
    with _memory() as con:
        return int(con.execute(f"SELECT count({c}) - count(DISTINCT {c}) FROM {source}", params).fetchall()[0][0])
