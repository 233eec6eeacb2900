"""Compare: two runs of the same dataset side by side: agreement, cross-tab, matched segments."""

import streamlit as st

from dashboard import components, data, readouts, state

ds = state.page("Compare runs", "Did a different k, method or feature set find the same segments? "
                                     "Pick two runs of this dataset.", needs_run=False)
runs = data.runs(ds)
if len(runs) < 2:
    st.info("Compare needs two runs of this dataset: fit another on the Segment page.")
    st.page_link("views/segment.py", label="Go to Segment", icon=":material/scatter_plot:")
    st.stop()
ids = runs["run_id"].tolist()
label = dict(zip(ids, [f"{r.algo} k={r.k} · {r.created_at:%d %b %H:%M} · {r.run_id[-4:]}" for r in runs.itertuples()]))
c1, c2 = st.columns(2)
run_a = c1.selectbox("Run A", ids, index=min(1, len(ids) - 1), format_func=label.get)
run_b = c2.selectbox("Run B", ids, index=0, format_func=label.get)
if run_a == run_b:
    st.info("Pick two different runs.")
    st.stop()
cmp = readouts.comparison(run_a, run_b, tuple(data.personas(run_a)["name"]), tuple(data.personas(run_b)["name"]))
st.metric("Agreement (adjusted Rand index)", f"{cmp.ari:.2f}",
          help="1 = the same segmentation, 0 = no more alike than chance")
st.plotly_chart(components.crosstab_heatmap(cmp.crosstab), key="crosstab")
st.markdown("**Each segment of run B and its closest segment in run A**")
st.dataframe(cmp.matches[["persona_b", "users_b", "persona_a", "users_a", "jaccard", "description_b",
                          "description_a"]], hide_index=True, column_config={
    "persona_b": "Run B", "users_b": st.column_config.NumberColumn("Users (B)", format="localized"),
    "persona_a": "Closest in run A", "users_a": st.column_config.NumberColumn("Users (A)", format="localized"),
    "jaccard": st.column_config.ProgressColumn("Overlap (Jaccard)", min_value=0, max_value=1, format="%.2f"),
    "description_b": "B in a sentence", "description_a": "A in a sentence"})
