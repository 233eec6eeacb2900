"""Experiment: an A/B test read out per persona, each variant against the control, corrected together."""

import streamlit as st

from dashboard import components, data, readouts, state

run_id = state.page("Experiment", "Did a variant work, and for whom? Each variant against the control, over all "
                                  "users and within each persona, with every test corrected together.")
dataset = state.dataset()
columns = readouts.experiment_columns(dataset)
if not columns:
    st.info("This dataset has no column naming each user's variant. Import the assignment with the data: a users "
            "table with a variant column, or an event log whose variant column is kept per user (on the Data "
            "page, “Keep per user: last”; on the command line, --per-user variant=last).")
    st.stop()

left, mid, right = st.columns([2, 2, 3])
named = readouts.looks_like_assignment(columns[0])  # columns named like an assignment come first
variant = left.selectbox("Variant column", columns, index=0 if named else None, format_func=components.md,
                         placeholder="Choose the column naming each user's variant",
                         help="The column naming each user's variant: 2 to 10 values.")
if variant is None:
    st.info("No column is named like an experiment's assignment (variant, arm, group, test...). If one of these "
            "names each user's variant, choose it above.")
    st.stop()
choices = readouts.variant_values(dataset, variant)
control = mid.selectbox("Control", choices, index=choices.index(readouts.default_control(choices)),
                        format_func=components.md, help="The variant every other is compared with.")
with right:
    min_size = state.min_segment_size("experiment", "Smaller personas are left out, and their users from the "
                                                    "overall readout too.")
correction = st.radio("Correct every variant, KPI and persona test together by", ["bh", "holm"], horizontal=True,
                      format_func={"bh": "Benjamini-Hochberg (false discovery rate)",
                                   "holm": "Holm (any false difference)"}.get, key="experiment_correction")
personas = data.personas(run_id)
readout = readouts.experiment(run_id, tuple(personas["name"]), variant, control, int(min_size), correction)
st.caption(components.md(", ".join(f"{v}: {n:,} users" for v, n in readout.users.items())))
if readout.withheld:
    st.caption("Left out (below the minimum segment size): " + components.md(", ".join(readout.withheld)))
labels = {k.name: k.label for k in readout.shown}
units = {k.name: k.unit for k in readout.shown}
currency = data.currency()
for v in [v for v in readout.variants if v != readout.control]:
    st.plotly_chart(components.experiment_forest(readout.effects, labels, v, components.colour_map(personas), units,
                                                 currency), key=f"forest_{v}")
    het = readout.heterogeneity[(readout.heterogeneity["variant"] == v) & readout.heterogeneity["p"].notna()]
    differs = het[het["p"] < 0.05]
    if len(differs):
        st.warning(components.md(f"The effect of {v} differs between personas for "
                                 + ", ".join(labels[k] for k in differs["kpi"])
                                 + ": read it per persona, not from the overall figure."))
    st.dataframe(components.experiment_table(readout.effects, labels, v, units, currency), hide_index=True)
st.caption("Effect: the variant's value minus the control's, with its 95% interval. ▲ ▼: holds up after correcting "
           "all the tests together (q < 0.05). Heterogeneity: Cochran's Q over the personas' effects; I² is the "
           "share of their spread beyond chance.")
