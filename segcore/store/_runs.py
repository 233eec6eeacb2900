"""The runs room: runs with their assignments, personas, exportable segments and projections."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import duckdb
import pandas as pd

from ..errors import InputError, NotFoundError
from ..personas import check_personas
from ._datasets import PREVIOUS_SUFFIX, _Datasets
from ._records import RunRecord
from ._sql import one_row_per_user, quote_ident, table_name

_NO_RUN_HINT = {"cli": "`segcore runs` lists them", "app": "the sidebar lists the runs"}
RUN_LABEL_MAX = 80


class _Runs(_Datasets):
    """The store's runs room (mixed into :class:`~segcore.store.Store`)."""

    def save_run(self, run: RunRecord | dict, assignments: pd.DataFrame, personas: pd.DataFrame, *,
                 dataset_version=None) -> str:
        """Store a run with its assignments and personas, all or nothing.

        ``dataset_version``: the dataset's ``created_at`` as read before its features were; if the dataset
        has been replaced since, nothing is saved (the run belongs to data that is no longer the dataset).
        """
        rec = dataclasses.asdict(run) if isinstance(run, RunRecord) else dict(run)
        for f in RunRecord.JSON_FIELDS:
            rec[f] = json.dumps(rec.get(f), default=float)
        cols = ["run_id", "dataset", "algo", "k", "seed", *RunRecord.JSON_FIELDS, "fingerprint", "created_at"]
        assign = assignments[["user_id", "cluster"]].copy()
        # membership probability of the assigned segment, for methods that have one (mixtures, HDBSCAN)
        assign["probability"] = assignments["probability"] if "probability" in assignments else None
        assign.insert(0, "run_id", rec["run_id"])
        pers = personas[["cluster", "name", "description", "colour"]].copy()
        pers["narrative"] = personas["narrative"] if "narrative" in personas else None
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
            con.execute("INSERT INTO personas (run_id, cluster, name, description, colour, narrative) "
                        "SELECT run_id, cluster, name, description, colour, CAST(narrative AS VARCHAR) FROM _pers")
        return rec["run_id"]

    def list_runs(self, dataset: str | None = None) -> pd.DataFrame:
        """Runs, newest first, optionally of one dataset, with their names and pins."""
        where, params = ("WHERE dataset = ?", [dataset]) if dataset else \
            ("WHERE NOT ends_with(dataset, ?)", [PREVIOUS_SUFFIX])
        return self._df(f"SELECT run_id, dataset, algo, k, seed, metrics, created_at, label, "
                        f"coalesce(pinned, false) AS pinned, marked_at FROM runs {where} "
                        "ORDER BY created_at DESC, run_id", params)

    def preferred_run(self, dataset: str) -> str | None:
        """The run a new session opens: the one last named or pinned, else the newest; None without runs."""
        rows = self._df("SELECT run_id FROM runs WHERE dataset = ? "
                        "ORDER BY marked_at DESC NULLS LAST, created_at DESC, run_id LIMIT 1", [dataset])
        return None if rows.empty else str(rows["run_id"].iloc[0])

    def mark_run(self, run_id: str, *, label: str | None = None, pinned: bool | None = None) -> None:
        """Name a run (``label``; an empty one clears it) and/or pin it; either makes it the run new sessions
        open (:meth:`preferred_run`). ``None`` leaves that field as it is."""
        if label is not None:
            label = " ".join(str(label).split())
            if len(label) > RUN_LABEL_MAX:
                raise InputError(f"a run's name has at most {RUN_LABEL_MAX} characters; this one has {len(label)}")
        with self._transaction() as con:
            if not con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchall():
                raise NotFoundError(f"no run with id {run_id!r}", **_NO_RUN_HINT)
            if label is not None:
                con.execute("UPDATE runs SET label = ? WHERE run_id = ?", [label or None, run_id])
            if pinned is not None:
                con.execute("UPDATE runs SET pinned = ? WHERE run_id = ?", [bool(pinned), run_id])
            if label or pinned:
                # UTC without a zone, as runs' created_at
                con.execute("UPDATE runs SET marked_at = ? WHERE run_id = ?",
                            [datetime.now(UTC).replace(tzinfo=None), run_id])
            elif label == "" or pinned is False:
                # unnamed and unpinned: no longer a run to open first
                con.execute("UPDATE runs SET marked_at = NULL WHERE run_id = ? AND label IS NULL "
                            "AND NOT coalesce(pinned, false)", [run_id])

    def persona_colours(self, dataset: str) -> dict[str, str]:
        """Each persona name's colour in the dataset's newest run that has the name (for a new run's personas)."""
        rows = self._df("SELECT p.name, p.colour FROM personas p JOIN runs r USING (run_id) WHERE r.dataset = ? "
                        "ORDER BY r.created_at DESC, r.run_id, p.cluster", [dataset])
        return dict(reversed(list(zip(rows["name"], rows["colour"], strict=True))))

    def run(self, run_id: str) -> RunRecord:
        """One run's record."""
        df = self._df("SELECT * FROM runs WHERE run_id = ?", [run_id])
        if df.empty:
            raise NotFoundError(f"no run with id {run_id!r}", **_NO_RUN_HINT)
        return RunRecord.from_row(df.iloc[0].to_dict())

    def assignments(self, run_id: str) -> pd.DataFrame:
        """user_id, cluster (-1 = unassigned) and membership probability (where the method has one)."""
        with self._connect():
            self.run(run_id)
            return self._df("SELECT user_id, cluster, probability FROM assignments WHERE run_id = ? "
                            "ORDER BY user_id", [run_id])

    def personas(self, run_id: str) -> pd.DataFrame:
        """cluster, name, description, colour and narrative (as edited; None: the card's generated text)."""
        with self._connect():
            self.run(run_id)
            return self._df("SELECT cluster, name, description, colour, narrative FROM personas WHERE run_id = ? "
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
            cluster -> {field: value}, fields among ``name``, ``description``, ``colour`` and ``narrative``
            (a persona card's text as edited; None goes back to the generated text).
        expected : dict, optional
            cluster -> {field: value} as the caller last read them: if another writer has changed one
            since, nothing is written and the error says so (an edit is never silently lost).
        every_cluster : bool, default=False
            Require ``changes`` to name every cluster of the run.
        """
        fields = ("name", "description", "colour", "narrative")
        unknown = {f for c in changes.values() for f in c} - set(fields)
        if unknown:
            raise InputError(f"persona field {sorted(unknown)[0]!r} should be one of {', '.join(fields)}")
        try:
            with self._transaction() as con:
                current = con.execute("SELECT cluster, name, description, colour, narrative FROM personas "
                                      "WHERE run_id = ? ORDER BY cluster", [run_id]).df()
                if current.empty:  # every run is saved with its personas
                    raise NotFoundError(f"no run with id {run_id!r}", **_NO_RUN_HINT)
                clusters = current["cluster"].tolist()
                missing = sorted(set(changes) - set(clusters))
                if missing or (every_cluster and sorted(changes) != clusters):
                    raise InputError(f"run {run_id} has no cluster {missing[0]}; "
                                     f"clusters: {', '.join(map(str, clusters))}"
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
                df = check_personas(df.reset_index())
                for row in df[df["cluster"].isin(list(changes))].itertuples(index=False):
                    con.execute("UPDATE personas SET name = ?, description = ?, colour = ?, narrative = ? "
                                "WHERE run_id = ? AND cluster = ?",
                                [row.name, None if pd.isna(row.description) else row.description, row.colour,
                                 None if pd.isna(row.narrative) else row.narrative, run_id, int(row.cluster)])
        except duckdb.TransactionException as exc:
            raise InputError("another edit of these personas was saved at the same moment: nothing was "
                             "written; reload and try again") from exc

    def _segment_sources(self, name: str) -> tuple[list[str], list[str]]:
        with self._connect():
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
        with self._connect():
            return self._segments(self.run(run_id).dataset, run_id, columns)

    def activity_by_segment(self, run_id: str, grain: str) -> pd.DataFrame | None:
        """Per cluster and week or month (``grain``) of the run's users' activity: the period's first day,
        its active users and the sums of the dataset's activity table (events, sessions, converting
        sessions, purchases, revenue, value of purchases, ad impressions and clicks). None for a dataset
        imported before the activity was kept, or without a log."""
        if grain not in ("week", "month"):
            raise InputError(f"grain {grain!r} should be week or month")
        with self._connect():
            name = self.run(run_id).dataset
            if "activity" not in self.tables(name):
                return None
            return self._df(
                "SELECT s.cluster, date_trunc(?, a.day)::DATE AS period, count(DISTINCT a.user_id) AS active_users, "
                "sum(a.n_events) AS n_events, sum(a.sessions) AS sessions, "
                "sum(a.converting_sessions) AS converting_sessions, sum(a.n_purchases) AS n_purchases, "
                "sum(a.revenue) AS revenue, sum(a.order_value) AS order_value, "
                "sum(a.ad_impressions) AS ad_impressions, sum(a.ad_clicks) AS ad_clicks "
                f"FROM {table_name(name, 'activity')} a JOIN assignments s ON s.user_id = a.user_id "
                "WHERE s.run_id = ? GROUP BY ALL ORDER BY s.cluster, period", [grain, run_id])

    def _segments(self, name: str, run_id: str, columns: list[str] | None) -> pd.DataFrame:
        feats, users_only = self._segment_sources(name)
        columns = [c for c in (columns or []) if c not in ("user_id", "cluster", "persona")]
        missing = [c for c in columns if c not in feats and c not in users_only]
        if missing:
            raise NotFoundError(f"dataset {name!r} has no column(s) {', '.join(map(repr, missing))}")
        extra = "".join(f", {'f' if c in feats else 'u'}.{quote_ident(c)}" for c in columns)
        from_users = [quote_ident(c) for c in columns if c in users_only]
        join = "" if not from_users else (
            f"LEFT JOIN {one_row_per_user(table_name(name, 'users'), ', '.join(['user_id', *from_users]))} u "
            "ON u.user_id = a.user_id ")
        return self._df(
            f"SELECT a.user_id, a.cluster, p.name AS persona{extra} FROM assignments a "
            f"LEFT JOIN personas p ON p.run_id = a.run_id AND p.cluster = a.cluster "
            f"LEFT JOIN {table_name(name, 'features')} f ON f.user_id = a.user_id {join}"
            "WHERE a.run_id = ? ORDER BY a.cluster, a.user_id", [run_id])

    # -- projections -------------------------------------------------------------------------
    def save_projection(self, run_id: str, method: str, coords: pd.DataFrame, info: dict) -> None:
        """Store 2-D positions (user_id, x, y) of a run's users, replacing earlier ones."""
        df = coords[["user_id", "x", "y"]].copy()
        df.insert(0, "method", method)
        df.insert(0, "run_id", run_id)
        with self._transaction() as con:
            self.run(run_id)
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
        with self._connect():
            info = self._df("SELECT info FROM projection_info WHERE run_id = ? AND method = ?", [run_id, method])
            if info.empty:
                return None
            df = self._df("SELECT user_id, x, y FROM projections WHERE run_id = ? AND method = ? "
                          "ORDER BY user_id", [run_id, method])
        return df, json.loads(info.iloc[0, 0])
