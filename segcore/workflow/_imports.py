"""Bringing files into a store: plans from :mod:`segcore.ingest`, run by the store, summed up in a report."""

from __future__ import annotations

import os
from pathlib import Path

from .._bundled import SAMPLE_DIR
from .._mapping import EVENT_ROLES, SHAPES, propose_shape
from ..errors import InputError
from ..ingest import (
    ImportReport,
    check_named,
    check_vocabulary,
    column_fates,
    count_warnings,
    events_plan,
    inspect_file,
    join_warnings,
    masked_lines,
    peek_file,
    reader_error,
    repeated_ids,
    user_column_fates,
    users_plan,
)
from ..pii import PiiFinding
from ..store import READ_ERRORS, Store

__all__ = ["import_file", "import_sample", "open_store"]


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
    vocabulary = check_vocabulary(vocabulary)
    info = inspect_file(path, read_options, max_bytes=max_bytes)
    warnings: list[str] = []
    read_as = [f"{info.path.name}: {info.describe()}"]
    users = events = None
    findings: list[PiiFinding] = []
    columns: list[tuple[str, str]] = []
    carry: dict[str, str] = {}
    if kind == "users":
        planned = users_plan(info, id_column, pii_actions)
        users, findings = planned.table, planned.findings
        check_named(pii_actions, planned.columns, repr(info.path.name))
        columns = user_column_fates(planned.columns, users, findings, planned.nested)
        if not allow_repeated_ids:
            repeated = repeated_ids(info, id_column or "user_id")  # the id column users_plan found
            if repeated:
                raise InputError(f"{repeated:,} rows of {info.path.name!r} repeat a user id and would be discarded "
                                 "as a users table (one row per id is kept): it looks like an event or transaction "
                                 "log (kind events); to import it as users anyway, allow repeated ids")
    else:
        planned = events_plan(info, mapping, pii_actions, date_format, aggregates, keep_events)
        events, findings, warnings, carry = planned.table, planned.findings, planned.warnings, planned.carry
        read_as.append(planned.read_as)
        shape = shape or propose_shape(planned.mapping)
        if shape == "transactions" and vocabulary:
            raise InputError("an event vocabulary is for event logs: in a transaction log every row is a purchase")
        columns = column_fates(planned.columns, planned.mapping, findings, shape, carry, planned.nested)
        named_in = list(planned.columns)
        if users_path is not None:
            uinfo = inspect_file(users_path, users_read_options, max_bytes=max_bytes)
            read_as.append(f"{uinfo.path.name}: {uinfo.describe()}")
            joined = users_plan(uinfo, id_column, pii_actions)
            users = joined.table
            findings = findings + joined.findings
            named_in += joined.columns
            columns += [(f"{uinfo.path.name}: {c}", what)
                        for c, what in user_column_fates(joined.columns, users, joined.findings, joined.nested)]
        check_named(pii_actions, named_in, repr(info.path.name) + (" or the users table" if users_path else ""))
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
    except READ_ERRORS as exc:  # a file that failed while the store read it in full (a bad row far down)
        failed = events if events is not None else users
        raise reader_error(exc, failed.path if failed else "?", failed.fmt if failed else "csv") from exc
    assert counts is not None  # if_missing is off: an import stores or raises
    warnings += count_warnings(counts, users, events)
    masked = masked_lines(counts, users, events)
    with store.session():
        record = store.dataset(name)
        if users is not None and events is not None:
            warnings += join_warnings(store.join_counts(name))
    return ImportReport(name, kind, record.n_users, record.n_events, privacy, warnings, read_as, replaced,
                        shape=shape if events is not None else None, facts=counts.get("facts") or {},
                        columns=columns, masked=masked)


def import_sample(store: Store, name: str = "sample", *, sample_dir: str | Path = SAMPLE_DIR,
                  if_missing: bool = True, keep_events: bool = False) -> bool:
    """Load the bundled sample (users joined to events) as one dataset; False if it was there."""
    sample_dir = Path(sample_dir)
    users_path, events_path = sample_dir / "users.parquet", sample_dir / "events.parquet"
    if not users_path.exists() or not events_path.exists():
        raise InputError(f"the bundled sample is missing from {sample_dir}: run python sample_data/generate.py")
    users = users_plan(inspect_file(users_path), "user_id", None)
    events_info = inspect_file(events_path)
    present = set(peek_file(events_info, n=1).columns)
    events = events_plan(events_info, {r: r for r in EVENT_ROLES if r in present}, None, aggregates={})
    counts = store.import_dataset(name, users=users.table, events=events.table, kind="sample",
                                  source="bundled sample", privacy=[f.as_dict() for f in users.findings],
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
