"""The datasets room: listing, reading and replacing the datasets of a store."""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

from ..errors import NotFoundError
from ._connection import _Connections
from ._records import DatasetRecord
from ._sql import ROLES_TABLES, quote_ident, table_name

DATASET_NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # the whole name (fullmatch: no newline)

# A replaced dataset is kept under its name plus this suffix (which no dataset name may contain).
PREVIOUS_SUFFIX = "~previous"


def previous_name(name: str) -> str:
    """The name a replaced version of dataset ``name`` is kept under."""
    return name + PREVIOUS_SUFFIX


class _Datasets(_Connections):
    """The store's datasets room (mixed into :class:`~segcore.store.Store`)."""

    def list_datasets(self) -> pd.DataFrame:
        """Datasets with kind, row counts, privacy actions and creation time."""
        return self._df("SELECT name, kind, n_users, n_events, source, privacy, created_at, "
                        "EXISTS (SELECT 1 FROM datasets p WHERE p.name = d.name || ?) AS has_previous "
                        "FROM datasets d WHERE NOT ends_with(name, ?) ORDER BY created_at, name",
                        [PREVIOUS_SUFFIX, PREVIOUS_SUFFIX])

    def has_dataset(self, name: str) -> bool:
        with self._connect() as con:
            return bool(con.execute("SELECT count(*) FROM datasets WHERE name = ?", [name]).fetchall()[0][0])

    def dataset(self, name: str) -> DatasetRecord:
        """One dataset's record; raises NotFoundError naming the datasets that exist."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM datasets WHERE name = ?", [name]).df()
            if rows.empty:
                names = [r[0] for r in con.execute("SELECT name FROM datasets ORDER BY name").fetchall()]
                raise NotFoundError(f"no dataset named {name!r}; the store has: {', '.join(names) or 'none'}")
        return DatasetRecord.from_row(rows.iloc[0].to_dict())

    def _drop_dataset(self, con, name: str) -> None:
        for role in ROLES_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table_name(name, role)}")
        run_ids = "(SELECT run_id FROM runs WHERE dataset = ?)"
        for table in ("assignments", "personas", "projections", "projection_info"):
            con.execute(f"DELETE FROM {table} WHERE run_id IN {run_ids}", [name])
        con.execute("DELETE FROM runs WHERE dataset = ?", [name])
        con.execute("DELETE FROM datasets WHERE name = ?", [name])

    def _rename_dataset(self, con, old: str, new: str) -> None:
        for role in ROLES_TABLES:
            con.execute(f"ALTER TABLE IF EXISTS {table_name(old, role)} RENAME TO {quote_ident(f'ds:{new}:{role}')}")
        con.execute("UPDATE datasets SET name = ? WHERE name = ?", [new, old])
        con.execute("UPDATE runs SET dataset = ? WHERE dataset = ?", [new, old])

    def previous_version(self, name: str) -> DatasetRecord | None:
        """The version of ``name`` that the last replace set aside, with its run count, or None."""
        with self._connect() as con:
            rows = con.execute("SELECT d.*, (SELECT count(*) FROM runs r WHERE r.dataset = d.name) AS n_runs "
                               "FROM datasets d WHERE name = ?", [previous_name(name)]).df()
        return None if rows.empty else DatasetRecord.from_row(rows.iloc[0].to_dict())
    def restore_previous(self, name: str) -> None:
        """Undo the last replace of ``name``: the replaced version and its runs come back."""
        with self._transaction() as con:
            if self.previous_version(name) is None:
                raise NotFoundError(f"dataset {name!r} has no replaced version to restore")
            self._drop_dataset(con, name)
            self._rename_dataset(con, previous_name(name), name)

    def discard_previous(self, name: str) -> None:
        """Confirm the last replace of ``name``: the replaced version and its runs are deleted."""
        with self._transaction() as con:
            if self.previous_version(name) is None:
                raise NotFoundError(f"dataset {name!r} has no replaced version to discard")
            self._drop_dataset(con, previous_name(name))

    def tables(self, name: str) -> list[str]:
        """Which of users / events / features the dataset has."""
        with self._connect() as con:
            present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return [role for role in ROLES_TABLES if f"ds:{name}:{role}" in present]

    def columns(self, name: str, role: str = "features") -> pd.DataFrame:
        """Column names and DuckDB types of a dataset's table."""
        with self._connect():
            self._check_role(name, role)
            return self._df(f"SELECT column_name, column_type FROM (DESCRIBE {table_name(name, role)})")

    def _check_role(self, name: str, role: str) -> None:
        """Raise NotFoundError unless the dataset exists and has a ``role`` table."""
        with self._connect():
            self.dataset(name)
            if role not in self.tables(name):
                raise NotFoundError(f"dataset {name!r} has no {role} table")

    def read_table(self, name: str, role: str = "features", columns: list[str] | None = None,
                   limit: int | None = None, sample: int | None = None) -> pd.DataFrame:
        """A dataset's table (or some columns of it), ordered by user id.

        ``sample``: at most this many users, the same ones every time (those whose ids hash lowest),
        spread over the whole table rather than its first ids."""
        with self._connect():
            return self._read_table(name, role, columns, limit, sample)

    def _read_table(self, name, role, columns, limit, sample) -> pd.DataFrame:
        available = set(self.columns(name, role)["column_name"])
        if columns is not None:
            missing = [c for c in columns if c not in available]
            if missing:
                raise NotFoundError(f"dataset {name!r} has no column(s) {', '.join(map(repr, missing))}")
            select = ", ".join(quote_ident(c) for c in columns)
        else:
            select = "*"
        order = " ORDER BY user_id" if "user_id" in available and role != "events" else ""
        source = table_name(name, role)
        if sample is not None and "user_id" in available:
            source = f"(SELECT * FROM {source} ORDER BY hash(user_id), user_id LIMIT {int(sample)})"
        sql = f"SELECT {select} FROM {source}{order}"
        if limit is not None:
            return self._df(sql + " LIMIT ?", [int(limit)])
        return self._df(sql)

    def column_stats(self, name: str, role: str = "features") -> pd.DataFrame:
        """Per column: approximate distinct count and missing percentage, in one light scan
        (SUMMARIZE also computes quantiles, which costs seconds at a million users)."""
        with self._connect() as con:
            cols = self.columns(name, role)["column_name"].tolist()
            exprs = ", ".join(f"approx_count_distinct({quote_ident(c)}), count({quote_ident(c)})" for c in cols)
            row = con.execute(f"SELECT count(*), {exprs} FROM {table_name(name, role)}").fetchall()[0]
        n = max(int(row[0]), 1)
        return pd.DataFrame({"column_name": cols, "approx_unique": [int(v) for v in row[1::2]],
                             "null_percentage": [100.0 * (1 - int(v) / n) if row[0] else 100.0 for v in row[2::2]]})

    def summarize(self, name: str, role: str = "features") -> pd.DataFrame:
        """Per column: type, min, max, distinct (approximate), missing share (DuckDB's SUMMARIZE)."""
        with self._connect():
            self._check_role(name, role)
            df = self._df(f"SUMMARIZE {table_name(name, role)}")
        df["null_percentage"] = pd.to_numeric(df["null_percentage"].astype(str).str.rstrip("%"), errors="coerce")
        return df[["column_name", "column_type", "min", "max", "approx_unique", "null_percentage", "count",
                   "q25", "q75"]]

    def join_counts(self, name: str) -> dict:
        """For a dataset built from users and events: users without events, and event users without a row."""
        u, f = table_name(name, "users"), table_name(name, "features")
        with self._connect() as con:
            r = con.execute(f"SELECT (SELECT count(DISTINCT user_id) FROM {u}), "
                            f"(SELECT count(DISTINCT user_id) FROM {u} "
                            f"WHERE user_id NOT IN (SELECT user_id FROM {f})), "
                            f"(SELECT count(*) FROM {f} WHERE user_id NOT IN "
                            f"(SELECT user_id FROM {u} WHERE user_id IS NOT NULL))").fetchall()[0]
        return {"users": int(r[0]), "users_without_events": int(r[1]), "event_users_without_row": int(r[2])}

    def quality_counts(self, name: str, fences: dict[str, tuple[float, float]], *,
                       min_events: int = 3) -> dict:
        """Counts a quality report needs, computed in SQL: values outside each column's fences,
        duplicate user ids, event rows without a user or a readable time, the event date range, and
        users with fewer than ``min_events`` events."""
        out: dict = {"outside_fences": {}}
        with self._connect() as con:
            stored = self.dataset(name).event_facts  # counted while importing: the log may not be kept
            tables = self.tables(name)
            if fences:
                cols = list(fences)
                exprs = ", ".join(f"count(*) FILTER (WHERE {quote_ident(c)} < ? OR {quote_ident(c)} > ?)" for c in cols)
                params = [v for c in cols for v in fences[c]]
                row = con.execute(f"SELECT {exprs} FROM {table_name(name, 'features')}", params).fetchall()[0]
                out["outside_fences"] = dict(zip(cols, map(int, row)))
            if "users" in tables:
                out["duplicate_ids"] = int(con.execute(
                    f"SELECT count(*) - count(DISTINCT user_id) FROM {table_name(name, 'users')}").fetchall()[0][0])
            if stored is not None:
                out.update(stored)
                for key in ("first_event", "last_event"):
                    out[key] = None if stored[key] is None else datetime.fromisoformat(stored[key])
            elif "events" in tables:  # a store written before the facts were kept
                r = con.execute(f"SELECT count(*), count(*) FILTER (WHERE user_id IS NULL), "
                                f"count(*) FILTER (WHERE ts IS NULL), min(ts), max(ts) "
                                f"FROM {table_name(name, 'events')}").fetchall()[0]
                out.update(events=int(r[0]), events_without_user=int(r[1]), events_without_time=int(r[2]),
                           first_event=r[3], last_event=r[4])
            has_counts = con.execute("SELECT count(*) FROM (DESCRIBE " + table_name(name, "features") + ") "
                                     "WHERE column_name = 'n_events'").fetchall()[0][0]
            if "events" in out and has_counts:  # a transaction log has orders, not events: one order is normal
                out["low_activity_users"] = int(con.execute(
                    f"SELECT count(*) FROM {table_name(name, 'features')} WHERE n_events < ?", [int(min_events)]
                ).fetchall()[0][0])
        return out

