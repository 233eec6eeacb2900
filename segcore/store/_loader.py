"""The import: files copied through their plans into a dataset's tables, and its features built, in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ..errors import InputError
from ._datasets import DATASET_NAME_RULE, _Datasets, previous_name
from ._features import build_features
from ._plans import _HASHING, MASKED_PREFIX, UNREAD_PREFIX, TablePlan, personal_data_checks, select, source_name
from ._sql import count, execute, one_row_per_user, quote_ident, table_name


def _id_facts(con, relation: str, last) -> tuple[int, object, int]:
    """Events without a user, the last event's time among those with one (``last`` when every event
    has one), and events with a user and a time but no session id.

    Asked apart, as ``WHERE ... IS NULL``: a column whose blocks' statistics say it has no missing
    value is then not read at all, whereas a count beside other aggregates reads every id. At 20M
    events from Parquet, each check took 2-3 ms from statistics; the session check read its column
    (0.3 s) while session ids were cast to text, which hid the file's statistics.
    """
    no_user = count(con, relation, "user_id IS NULL")
    t_ref = last if no_user == 0 else \
        con.execute(f"SELECT max(ts) FROM {relation} WHERE user_id IS NOT NULL").fetchall()[0][0]
    unsessioned = count(con, relation, "session_id IS NULL") and \
        count(con, relation, "session_id IS NULL AND user_id IS NOT NULL AND ts IS NOT NULL")
    return no_user, t_ref, unsessioned



class _Loader(_Datasets):
    """The store's import room (mixed into :class:`~segcore.store.Store`)."""

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
            personal_data_checks(con)
            exists = con.execute("SELECT count(*) FROM datasets WHERE name = ?", [name]).fetchall()[0][0]
            if exists and if_missing:
                return None
            if exists and not replace:
                raise InputError(f"dataset {name!r} already exists: choose another name or replace it",
                                 cli="--replace", app="tick Replace the existing dataset")
            if exists:
                # keep the replaced version until the user confirms: drop an older backup, rename this one
                if con.execute("SELECT count(*) FROM datasets WHERE name = ?", [previous_name(name)]).fetchall()[0][0]:
                    self._drop_dataset(con, previous_name(name))
                self._rename_dataset(con, name, previous_name(name))
            # Order matters less than memory for a big file; features are sorted explicitly.
            con.execute("SET preserve_insertion_order = false")
            done = 0.0
            facts = None
            for role, plan in (("users", users), ("events", events)):
                if plan is None:
                    continue
                params: dict = {}
                query = select(con, plan, params)
                kept = role == "users" or keep_events
                # An event log that is not kept is the temporary relation `events`: a view over a Parquet
                # file (read where it lies, as often as the features need: cheaper than a copy), or a
                # temporary table for text (parsed once).
                in_place = not kept and plan.fmt == "parquet"
                relation = table_name(name, role) if kept else "events"
                if in_place:
                    con.sql(query, params=params).create_view(relation, replace=True)
                else:
                    create = "CREATE TABLE" if kept else "CREATE OR REPLACE TEMP TABLE"
                    execute(con, f"{create} {relation} AS {query}", params, progress,
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
                tallies = [count(con, relation, quote_ident(f)) for f in flags]
                counts["rows"][role] = int(row[0])
                for key, prefix in (("unread", UNREAD_PREFIX), ("masked", MASKED_PREFIX)):
                    counts[key][role] = {f[len(prefix):]: int(n) for f, n in zip(flags, tallies)
                                         if f.startswith(prefix)}
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
                r = con.execute(f"SELECT count(*) FILTER (WHERE user_id IS NULL), count(user_id) - "
                                f"count(DISTINCT user_id) FROM {table_name(name, 'users')}").fetchall()[0]
                counts["skipped_ids"], counts["duplicate_ids"] = int(r[0]), int(r[1])
            # Hashed identifiers (an email's SHA-256, the key ad platforms match on) are kept once, in the
            # users table: segments() fetches them from there for an export. Copying them into the features
            # as well took 0.4 s of a 1M-user import, for columns that are never clustered or profiled.
            pseudonyms = [c.target for c in users.columns if c.transform in _HASHING] if users is not None else []
            n_events = None
            if events is not None:
                n_events = counts["rows"]["events"]
                facts = (facts or {}) | build_features(con, name, shape=shape, vocabulary=vocabulary, carry=carry or {},
                                              t_ref=t_ref, first=first, unsessioned=unsessioned,
                                              with_users=users is not None, pseudonyms=pseudonyms,
                                              top=top_categories, unique_users=counts["duplicate_ids"] == 0,
                                              progress=progress, span=(done, 0.97))
                con.execute(f"DROP {'VIEW' if keep_events or events.fmt == 'parquet' else 'TABLE'} events")
            else:
                exclude = f" EXCLUDE ({', '.join(map(quote_ident, pseudonyms))})" if pseudonyms else ""
                con.execute(f"CREATE TABLE {table_name(name, 'features')} AS SELECT *{exclude} "
                            f"FROM {one_row_per_user(table_name(name, 'users'))} ORDER BY user_id")
            n_users = con.execute(f"SELECT count(*) FROM {table_name(name, 'features')}").fetchall()[0][0]
            if n_users == 0:
                what = "user id" if events is None else "user id and a readable timestamp"
                raise InputError(f"no row of {source_name(users, events)!r} has a {what}: nothing to segment")
            con.execute("INSERT INTO datasets (name, kind, source, n_users, n_events, privacy, created_at, "
                        "event_facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [name, kind, source, n_users, n_events, json.dumps(privacy or []),
                         datetime.now(UTC).replace(tzinfo=None), None if facts is None else json.dumps(facts)])
        if progress:
            progress(1.0, "done")
        counts["facts"] = facts
        return counts

