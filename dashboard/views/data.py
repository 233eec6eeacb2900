"""Data: the datasets in the store, a preview, column types and missing values, and upload."""

import json
import re
from pathlib import Path

import streamlit as st

import segcore
from dashboard import actions, components, data, housekeeping, keys, state, uploads
from segcore.errors import SegcoreError
from segcore.ingest import (
    EVENT_KIND_LABELS,
    EVENT_KINDS,
    SHAPES,
    propose_event_vocabulary,
    propose_shape,
    timestamp_format,
)
from segcore.store import AGGREGATES

st.title("Data")
st.caption("What is in the store, what each column looks like, and how to bring your own file.")
last_import = st.session_state.pop(keys.LAST_IMPORT, None)
if last_import:
    st.success(f"Dataset “{components.md(last_import['name'])}” is imported and selected in the sidebar.")
    with st.expander("What the import did", expanded=True):
        for line in last_import["lines"]:
            st.text(line)

# what was done to a column with personal data, as the datasets table and its caption say it
_DONE = {"hash": "hashed", "drop": "dropped", "mask": "masked", "keep": "kept as it is (as asked)"}
datasets = data.datasets()
if not datasets.empty:
    shown = datasets.assign(privacy=datasets["privacy"].map(lambda p: ", ".join(
        f"{d['column']} {_DONE[d['action']]}" for d in json.loads(p or "[]"))
        or "none found"))
    st.dataframe(shown, hide_index=True, column_config={
        "name": "Dataset", "kind": "Kind", "n_users": st.column_config.NumberColumn("Users", format="localized"),
        "n_events": st.column_config.NumberColumn("Events", format="localized"), "source": "Source",
        "privacy": "Personal data",
        "created_at": st.column_config.DatetimeColumn("Imported", format="D MMM YYYY, HH:mm"),
        "has_previous": st.column_config.CheckboxColumn("Replaced version kept")})

ds = state.dataset()
previous = data.previous_version(ds) if ds and datasets.set_index("name")["has_previous"].get(ds) else None
if previous:
    st.info(f"“{components.md(ds)}” was replaced. The replaced version "
            f"(imported {previous.created_at:%d %b %H:%M}, "
            f"{previous.n_users:,} users, {previous.n_runs} run(s)) is kept until you confirm.")
    b1, b2, _ = st.columns([1, 1, 3])
    if b1.button("Keep the new version", key="discard_prev"):
        actions.discard_previous(ds)
        st.rerun()
    if b2.button("Restore the replaced version", key="restore_prev"):
        actions.restore_previous(ds)
        st.rerun()
if ds:
    tables = data.tables(ds)
    st.subheader(f"Dataset “{components.md(ds)}”")
    role = st.radio("Table", tables, horizontal=True, index=tables.index("features") if "features" in tables else 0,
                    format_func={"features": "Per-user features", "users": "Users", "events": "Events",
                                 "activity": "Activity per user and day"}.get)
    if "events" not in tables and datasets.set_index("name")["n_events"].notna().get(ds, False):
        st.caption("The event log itself is not kept: its per-user features and the counts of the quality "
                   "report are. To browse the events, import the log again with “Keep the event log”.")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Preview** (first 200 rows)")
        st.dataframe(data.table(ds, role, limit=200), hide_index=True, height=360)
    with right:
        st.markdown("**Columns**")
        summ = data.summary(ds, role)
        st.dataframe(summ, hide_index=True, height=360, column_config={
            "column_name": "Column", "column_type": "Type", "min": "Min", "max": "Max",
            "approx_unique": st.column_config.NumberColumn("Distinct (approx.)", format="localized"),
            "null_percentage": st.column_config.ProgressColumn("Missing", format="%.1f%%", min_value=0, max_value=100),
            "count": st.column_config.NumberColumn("Rows", format="localized"),
            "q25": "Lower quartile", "q75": "Upper quartile"})
    report = data.quality(ds)
    with st.expander(f"Data quality: {len(report.warnings)} warning(s)", expanded=bool(report.warnings)):
        for f in report.findings:
            (st.warning if f.level == "warning" else st.caption)(
                (f"**{components.md(f.column)}**: " if f.column else "") + components.md(f.message)
                + (f". *{components.md(f.fix)}*" if f.fix else ""))
        if not report.findings:
            st.caption("No problems found.")
    privacy = data.dataset_record(ds).privacy
    if privacy:
        st.caption("Personal data found or named on import, and what was done with it: " + "; ".join(
            f"**{components.md(p['column'])}** ({p['kind'].replace('_', ' ')}: {components.md(p['evidence'])}) "
            f"{_DONE[p['action']]}" for p in privacy))

st.divider()
st.subheader("Import a file")
st.caption("CSV, Parquet or JSON Lines. A users table has one row per user; an event log one row per event, "
           "from which per-user features are engineered, optionally joined to a users table. Before anything is "
           "stored, columns of e-mails and phone numbers are hashed, other personal data is dropped, and e-mail "
           "addresses, card and phone numbers inside any other value are masked. The uploaded file is deleted "
           "once it is imported.")
_TYPES = ["csv", "tsv", "txt", "parquet", "jsonl", "ndjson", "json"]
_PII_ACTIONS = list(segcore.pii.ACTIONS)
_PII_WORDS = {"hash": "hash (SHA-256)", "drop": "drop the column", "mask": "mask what is inside each value",
              "keep": "keep as it is"}
_PII_HELP = ("hash: SHA-256 of the normalised value (joins still work); drop: the column is not stored at all; "
             "mask: e-mail addresses, card and phone numbers inside each value are replaced; keep: stored as it "
             "is, unchecked")


housekeeping.sweep_uploads()
_folder = st.session_state.get(keys.UPLOAD_FOLDER)
if _folder is None or not _folder.path.exists():  # new, or swept while the session was away
    _folder = st.session_state[keys.UPLOAD_FOLDER] = uploads.UploadFolder(session=housekeeping.session_id())
# a new key empties the uploaders after an import, so the imported file is not saved again
_generation = st.session_state.setdefault(keys.UPLOAD_GENERATION, 0)
_WIDGETS = {"upload": f"upload_{_generation}", "users": f"upload_users_{_generation}"}


def _saved(upload, slot: str) -> str:
    """The upload saved to this session's folder once: DuckDB streams from a file, pandas never parses it whole."""
    cache_key = (upload.name, upload.size, upload.file_id)
    saved = st.session_state.get(keys.upload_path(slot))
    if st.session_state.get(keys.upload_key(slot)) != cache_key or not (saved and Path(saved).exists()):
        path = _folder.save(slot, upload.getbuffer(), upload.name)
        st.session_state[keys.upload_key(slot)], st.session_state[keys.upload_path(slot)] = cache_key, str(path)
    return st.session_state[keys.upload_path(slot)]


def _forget(slot: str) -> None:
    """Delete the saved copy of an upload that is gone (cleared, or imported)."""
    _folder.discard(slot)
    st.session_state.pop(keys.upload_key(slot), None)
    st.session_state.pop(keys.upload_path(slot), None)


def _read_options(slot: str, info) -> dict:
    """Widgets to override what was detected about a CSV file (shown only for CSV)."""
    if info.fmt != "csv":
        return {}
    o = info.csv_options
    delims = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    if o["delimiter"] not in delims:
        delims[o["delimiter"]] = repr(o["delimiter"])
    with st.expander(f"How the file is read: {components.md(info.describe())}"):
        c = st.columns(4)
        d = c[0].selectbox("Delimiter", list(delims), format_func=delims.get, key=f"{slot}_delim",
                           index=list(delims).index(o["delimiter"]))
        enc = c[1].selectbox("Encoding", ["utf-8", "utf-16", "latin-1"], key=f"{slot}_enc",
                             index=["utf-8", "utf-16", "latin-1"].index(o["encoding"]))
        dec = c[2].selectbox("Decimal separator", [".", ","], index=[".", ","].index(o["decimal"]), key=f"{slot}_dec")
        header = c[3].checkbox("First line is a header", value=o["header"], key=f"{slot}_header")
    return {"delimiter": d, "encoding": enc, "decimal": dec, "header": header}


def _inspect(upload, slot: str):
    """Inspect an upload with the user's overrides; a message (and stop) when it cannot be read."""
    path = _saved(upload, slot)
    try:
        info, head = data.upload_preview(path)
        overrides = _read_options(slot, info)
        changed = tuple(sorted(overrides.items())) if overrides != {k: info.csv_options.get(k) for k in overrides} \
            else ()
        if changed:
            info, head = data.upload_preview(path, changed)
    except SegcoreError as exc:
        st.error(components.md(f"{upload.name}: {str(exc)}"))
        st.stop()
    return path, info, head, changed


def _ask(loader, *args):
    """A loader's answer about an upload; its message, naming the uploaded file, when the file cannot be read."""
    try:
        return loader(*args)
    except SegcoreError as exc:
        st.error(components.md(str(exc)))
        st.stop()


upload = st.file_uploader("File", type=_TYPES, key=_WIDGETS["upload"])
if upload is None:
    _forget("upload")
    _forget("users")
else:
    path, info, head, overrides = _inspect(upload, "upload")
    st.dataframe(head.head(20), hide_index=True)
    columns = list(head.columns)
    guess = data.proposed_mapping(path, overrides).get("user_id")
    repeats = guess is not None and head[guess].dropna().duplicated().any()
    kind = st.radio("Each row is", ["users", "events"], horizontal=True, index=1 if repeats else 0,
                    format_func={"users": "a user", "events": "an event"}.get,
                    help="Proposed from the file: ids that repeat mean one row per event." if repeats else None)
    default_name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(upload.name).stem)[:60] or "dataset"
    name = st.text_input("Dataset name", value=default_name)
    mapping, id_column, users_path, date_format, user_head, user_info = None, None, None, None, None, None
    keep_events = False
    shape = vocabulary = aggregates = None
    users_anyway = True
    if kind == "users":
        id_column = st.selectbox("User id column", columns, index=columns.index("user_id") if "user_id" in columns
                                 else None, placeholder="Pick the column that identifies users")
        repeated = _ask(data.repeated_ids, path, overrides, id_column) if id_column else 0
        if repeated:
            users_anyway = st.checkbox(
                f"{repeated:,} {'row repeats' if repeated == 1 else 'rows repeat'} a user id and would be "
                "discarded (one row per id is kept). "
                "Import as a users table anyway", value=False, key="users_anyway",
                help="A file whose ids repeat is usually an event or transaction log: choose “an event” above.")
    else:
        proposed = data.proposed_mapping(path, overrides)
        st.markdown("**Column roles** (proposed from the column names and contents; user id and timestamp "
                    "are required)")
        cols = st.columns(4)
        mapping = {}
        for i, role in enumerate(segcore.EVENT_ROLES):
            options = ["(none)"] + columns
            choice = cols[i % 4].selectbox(role, options,
                                           index=options.index(proposed[role]) if role in proposed else 0,
                                           key=f"map_{role}")
            if choice != "(none)":
                mapping[role] = choice
        if "timestamp" in mapping:
            ts = timestamp_format(head[mapping["timestamp"]])
            date_format = st.text_input(
                "Timestamp format", value=ts.arg or "", key=f"ts_fmt_{mapping['timestamp']}",
                help="strptime codes, e.g. %d/%m/%Y %H:%M. Leave empty for ISO dates, epoch seconds or date-times.",
                placeholder=ts.description) or None
            ts = timestamp_format(head[mapping["timestamp"]], date_format)
            n_ts = int(head[mapping["timestamp"]].notna().sum())
            msg = (f"Timestamps read as {ts.description}: {round(ts.share * n_ts):,} of {n_ts:,} values in the "
                   "preview.")
            if ts.unread:
                msg += " Not readable: " + ", ".join(repr(v) for v in ts.unread[:3]) + " (kept as missing)."
            (st.caption if ts.share >= 0.99 else st.warning)(components.md(msg))
            if ts.ambiguous:
                st.warning("These dates read both as day/month and month/day; day/month is used. "
                           "Change the format if months come first.")
        shape = st.radio("Each row of this log is", SHAPES, index=SHAPES.index(propose_shape(mapping)),
                         horizontal=True,
                         key=f"shape_{mapping.get('event_type')}",
                         format_func={"events": "an event of some type (a clickstream)",
                                      "transactions": "an order or order line: every row a purchase"}.get,
                         help="Proposed from the mapping: a log without an event type but with amounts, "
                              "quantities or order ids is a transaction log. A negative amount or quantity "
                              "is a return.")
        if shape == "events" and "event_type" in mapping:
            values = _ask(data.event_values, path, overrides, mapping["event_type"], mapping.get("amount"))
            proposed_vocab = propose_event_vocabulary(values)
            st.markdown("**Event types** (proposed from the log's own words and amounts; any type left out still "
                        "counts as activity)")
            options = values["value"].tolist()
            vcols = st.columns(3)
            vocabulary = {}
            for i, k in enumerate(EVENT_KINDS):
                vocabulary[k] = vcols[i % 3].multiselect(
                    EVENT_KIND_LABELS[k].capitalize(), options, default=[v for v in proposed_vocab.get(k, [])
                                                                         if v in options],
                    key=f"vocab_{mapping['event_type']}_{k}")
            if len(values) == 200:
                st.caption("The 200 most frequent event types are listed.")
        unmapped = [c for c in columns if c not in mapping.values()]
        if unmapped:
            with st.expander("Other columns, kept per user"):
                st.caption("Columns no role takes: a column with one value per user is kept as an attribute "
                           "(its last value); a number can be kept as its sum or mean per user.")
                proposed_keep = data.proposed_aggregates(path, overrides, tuple(sorted(mapping.items())))
                choices = ["none", *AGGREGATES]
                aggregates = {}
                for c in unmapped:
                    aggregates[c] = st.selectbox(components.md(c), choices, key=f"agg_{c}",
                                                 index=choices.index(proposed_keep.get(c, "none")),
                                                 format_func={"none": "not kept", "last": "last value (attribute)",
                                                              "sum": "sum per user", "mean": "mean per user"}.get)
        users_upload = st.file_uploader("Users table to join on the user id (optional)", type=_TYPES,
                                        key=_WIDGETS["users"])
        if users_upload is None:
            _forget("users")
        else:
            users_path, user_info, user_head, _ = _inspect(users_upload, "users")
            ucols = list(user_head.columns)
            id_column = st.selectbox("Its user id column", ucols,
                                     index=ucols.index("user_id") if "user_id" in ucols else None,
                                     placeholder="Pick the column that identifies users")
        keep_events = st.checkbox(
            "Keep the event log in the store", value=False,
            help="To browse the events on this page later. Without it the store keeps what is derived from "
                 "them (per-user features and the counts of the quality report): a faster import, a smaller "
                 "store, fewer personal traces.")
    findings = segcore.detect_pii(head, protect=(id_column,) if id_column and kind == "users" else ())
    if user_head is not None:
        findings += segcore.detect_pii(user_head, protect=(id_column,))
    pii_choice = {}
    found = {f.column for f in findings}
    if findings:
        st.markdown("**Personal data found** (raw values are never stored; choose per column)")
        for f in findings:
            pii_label = f"{f.column}: {f.kind.replace('_', ' ')} ({f.evidence})"
            pii_choice[f.column] = st.selectbox(components.md(pii_label), _PII_ACTIONS,
                                                index=_PII_ACTIONS.index(f.action),
                                             key=f"pii_{f.column}", format_func=_PII_WORDS.get,
                                             disabled=f.column == id_column, help=_PII_HELP)
    others = [c for c in columns + (list(user_head.columns) if user_head is not None else [])
              if c not in found and c != id_column and c != (mapping or {}).get("user_id")]
    named = st.multiselect("Other columns holding personal data", list(dict.fromkeys(others)), key="pii_named",
                           help="Every value of every other text column is checked for e-mail addresses, card and "
                                "phone numbers, which are masked; names and addresses inside free text cannot be "
                                "found that way. Name such columns here.")
    for c in named:
        pii_choice[c] = st.selectbox(components.md(c), _PII_ACTIONS, index=_PII_ACTIONS.index("drop"),
                                  key=f"pii_named_{c}", format_func=_PII_WORDS.get, help=_PII_HELP)
    kept = [c for c, a in pii_choice.items() if a == "keep"]
    if kept:
        st.warning("Kept as they are, not checked for personal data: " + ", ".join(map(components.md, kept)))
    replace = False
    if name in set(datasets["name"]):
        replace = st.checkbox(f"Replace the existing dataset “{components.md(name)}”: it is kept, with its runs, "
                              "until you confirm the new version")
    needs_id = id_column is None and (kind == "users" or users_path is not None)
    if needs_id:
        st.info("Pick the column that identifies users: it has no column named user_id.")
    if st.button("Import", type="primary",
                 disabled=needs_id or not users_anyway or (name in set(datasets["name"]) and not replace)):
        with st.status(f"Importing {components.md(upload.name)}...", expanded=True) as status:
            try:
                report = actions.import_file(
                    path, name, kind=kind, id_column=id_column, mapping=mapping,
                    pii_actions=pii_choice, replace=replace, users_path=users_path,
                    read_options=info.csv_options or None,
                    users_read_options=user_info.csv_options or None if user_info else None, date_format=date_format,
                    keep_events=keep_events, shape=shape, vocabulary=vocabulary,
                    aggregates=aggregates,
                    source=" + ".join(u.name for u in (upload, st.session_state.get(_WIDGETS["users"]))
                                      if u is not None), progress=state.progress_bar())
            except SegcoreError as exc:
                status.update(label="Import failed: the store is unchanged", state="error")
                st.error(components.md(str(exc)))
                st.stop()
            status.update(label=f"Imported “{components.md(name)}”", state="complete", expanded=True)
        # the imported files are deleted, and the uploaders emptied so that they are not saved again
        _forget("upload")
        _forget("users")
        data.upload_preview.clear()
        st.session_state[keys.UPLOAD_GENERATION] = _generation + 1
        # select the new dataset, and show what the import did once the sidebar has it
        st.session_state[keys.NEXT_DATASET] = name
        st.session_state[keys.LAST_IMPORT] = {"name": name, "lines": report.lines(surface="app")}
        st.rerun()
