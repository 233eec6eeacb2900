"""Export: download persona-labelled segments as CSV, Parquet or JSON."""

import streamlit as st

from dashboard import components, data, readouts, state
from segcore.export import MIME, to_bytes

run_id = state.page("Export", "Download each user's segment and persona, with the features you choose, "
                                   "for your CRM or ad platform.")

rec = data.run(run_id)
personas = data.personas(run_id)
c1, c2, c3 = st.columns([1, 2, 1])
fmt = c1.radio("Format", ["csv", "parquet", "json"], format_func=str.upper)
available = [c for c in data.segment_columns(rec.dataset) if c != "user_id"]
hashed = data.hashed_columns(rec.dataset)
columns = c2.multiselect("Extra columns", available, default=[c for c in rec.features if c in available][:5],
                         format_func=lambda c: components.label(c) + (" (SHA-256)" if c in hashed else ""))
with c3:
    min_size = state.min_segment_size("export", "Smaller segments are withheld: they could single people out.")
o1, o2, o3 = st.columns([1, 1, 2])
rounded = o1.checkbox("Round numbers", value=True,
                      help="Money to the currency's decimals (set in the sidebar), shares to 4 decimals, other "
                           "measures to 2. Untick for full precision.")
descriptions = o2.checkbox("Persona descriptions", value=False, help="A column with each persona's description.")
headers = o3.radio("Column names", ["raw", "labels"], horizontal=True,
                   format_func={"labels": "As in the app (Revenue, Orders)",
                                "raw": "As stored (revenue, n_purchases)"}.get)
# keyed by the personas' names and descriptions: editing either changes the file
frame, report = readouts.export_frame(run_id, tuple(columns), int(min_size),
                                  tuple(zip(personas["name"], personas["description"].fillna(""), strict=True)),
                                  (rounded, descriptions, headers), data.currency())
if not report.withheld.empty:
    st.warning("Withheld (below the minimum size): " + components.md("; ".join(
        f"{r.persona} ({r.size} users)" for r in report.withheld.itertuples())))
for line in report.anonymised:  # the attributes made k-anonymous, and how
    st.caption(f"k-anonymous over the user attributes (every combination held by at least {int(min_size)} users): "
               + components.md(line))
st.caption(f"{len(frame):,} users, {report.personas} personas.")
st.dataframe(frame.head(100), hide_index=True)
# A callable: the file is built when the button is clicked, not on every rerun of the page.
st.download_button(f"Download {fmt.upper()}", data=lambda: to_bytes(frame, fmt), file_name=f"segments_{run_id}.{fmt}",
                   mime=MIME[fmt], type="primary", icon=":material/download:", on_click="ignore")

with st.expander("A private report for people outside the team"):
    st.caption("Segment sizes and KPIs with differential privacy: OpenDP adds noise calibrated to the budget "
               "(epsilon) for one user; each figure comes with its noise, and segments too small to survive it are "
               "withheld. Profiles, map, cards and fairness are exact and are left out. The app keeps one release "
               "per settings: each new release spends the budget again, so share one.")
    e1, e2 = st.columns(2)
    epsilon = e1.number_input("Epsilon (privacy budget)", min_value=0.05, max_value=10.0, value=1.0, step=0.1,
                              help="Smaller is more private and noisier; 1 is a common choice.")
    money_cap = e2.number_input("Cap on money per user (0: leave money KPIs out)", min_value=0.0, value=0.0,
                                step=100.0, help="Each user's revenue and order value are clipped to this before "
                                                 "they are summed. A cap read from the data would itself leak.")
    st.download_button("Private report (HTML)", icon=":material/lock:", on_click="ignore",
                       data=readouts.private_report_download(run_id, float(epsilon), float(money_cap), int(min_size)),
                       file_name=f"persona-report-private-{run_id}.html", mime="text/html")
