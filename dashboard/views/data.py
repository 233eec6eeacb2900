"""Data: the datasets in the store, a preview, column types and missing values, and upload."""

import json
import tempfile
from pathlib import Path

import streamlit as st

import segcore
from dashboard import data, state
from segcore.errors import SegcoreError

st.title("Data")
st.caption("What is in the store, what each column looks like, and how to bring your own file.")

datasets = data.datasets()
if not datasets.empty:
    shown = datasets.assign(privacy=datasets["privacy"].map(lambda p: ", ".join(
        f"{d['column']} {'hashed' if d['action'] == 'hash' else 'dropped'}" for d in json.loads(p or "[]"))
        or "none found"))
    st.dataframe(shown, hide_index=True, column_config={
        "name": "Dataset", "kind": "Kind", "n_users": st.column_config.NumberColumn("Users", format="localized"),
        "n_events": st.column_config.NumberColumn("Events", format="localized"), "source": "Source",
        "privacy": "Personal data", "created_at": st.column_config.DatetimeColumn("Imported", format="D MMM YYYY, HH:mm")})

ds = state.dataset()
if ds:
    tables = data.store().tables(ds)
    st.subheader(f"Dataset “{ds}”")
    role = st.radio("Table", tables, horizontal=True, index=tables.index("features") if "features" in tables else 0,
                    format_func={"features": "Per-user features", "users": "Users", "events": "Events"}.get)
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
                (f"**{f.column}**: " if f.column else "") + f.message + (f". *{f.fix}*" if f.fix else ""))
        if not report.findings:
            st.caption("No problems found.")
    privacy = data.store().dataset(ds)["privacy"]
    if privacy:
        st.caption("Personal data found on import, neutralised before storage: " + "; ".join(
            f"**{p['column']}** ({p['kind'].replace('_', ' ')}: {p['evidence']}) "
            f"{'SHA-256 hashed' if p['action'] == 'hash' else 'dropped'}" for p in privacy))

st.divider()
st.subheader("Import a file")
st.caption("CSV or Parquet. A users table has one row per user; an event log one row per event, "
           "from which per-user features are engineered. E-mails and phone numbers are hashed and other "
           "personal data dropped before anything is stored.")
upload = st.file_uploader("CSV or Parquet file", type=["csv", "parquet"], key="upload")
if upload is not None:
    # Save once per upload: DuckDB streams from a file, the upload is never parsed whole in pandas.
    cache_key = (upload.name, upload.size, upload.file_id)
    if st.session_state.get("_upload_key") != cache_key:
        suffix = Path(upload.name).suffix.lower()
        tmp = tempfile.NamedTemporaryFile(delete=False, suffix=suffix, prefix="persona_upload_")
        tmp.write(upload.getbuffer())
        tmp.close()
        st.session_state["_upload_key"], st.session_state["_upload_path"] = cache_key, tmp.name
    path = st.session_state["_upload_path"]
    try:
        fmt = segcore.ingest.detect_format(path)
        head = data.store().peek(path, fmt, n=500)
    except SegcoreError as exc:
        st.error(f"{upload.name}: {exc}")
        st.stop()
    except Exception as exc:
        st.error(f"Cannot read {upload.name}: {str(exc).splitlines()[0]}")
        st.stop()
    st.dataframe(head.head(20), hide_index=True)
    columns = [str(c) for c in head.columns]
    kind = st.radio("Each row is", ["users", "events"], horizontal=True,
                    format_func={"users": "a user", "events": "an event"}.get)
    default_name = Path(upload.name).stem.replace(" ", "_")[:60] or "dataset"
    name = st.text_input("Dataset name", value=default_name)
    mapping, id_column = None, None
    if kind == "users":
        id_column = st.selectbox("User id column", columns, index=columns.index("user_id") if "user_id" in columns else 0)
    else:
        proposed = segcore.propose_mapping(columns)
        st.markdown("**Column roles** (proposed from the column names; user id and timestamp are required)")
        cols = st.columns(4)
        mapping = {}
        for i, role in enumerate(segcore.EVENT_ROLES):
            options = ["(none)"] + columns
            choice = cols[i % 4].selectbox(role, options, index=options.index(proposed[role]) if role in proposed else 0,
                                           key=f"map_{role}")
            if choice != "(none)":
                mapping[role] = choice
    findings = segcore.detect_pii(head, protect=(id_column,) if id_column else ())
    actions = {}
    if findings:
        st.markdown("**Personal data found** (raw values are never stored)")
        for f in findings:
            actions[f.column] = st.selectbox(f"{f.column}: {f.kind.replace('_', ' ')} ({f.evidence})",
                                             ["hash", "drop"], index=0 if f.action == "hash" else 1,
                                             key=f"pii_{f.column}", disabled=f.column == id_column)
    replace = False
    if name in set(datasets["name"]):
        replace = st.checkbox(f"Replace the existing dataset “{name}” (its runs are deleted)")
    if st.button("Import", type="primary"):
        with st.status(f"Importing {upload.name}...", expanded=True) as status:
            try:
                report = segcore.import_file(data.store(), path, name, kind=kind, id_column=id_column,
                                             mapping=mapping, pii_actions=actions, replace=replace)
            except SegcoreError as exc:
                status.update(label="Import failed: the store is unchanged", state="error")
                st.error(str(exc))
                st.stop()
            for line in report.lines():
                st.write(line)
            status.update(label=f"Imported “{name}”", state="complete")
        st.success(f"Dataset “{name}” is ready: pick it in the sidebar.")
