"""Features: pick what to cluster on, see distributions and correlations, set preprocessing."""

import zlib

import streamlit as st

from dashboard import components, data, state
from segcore.features import GROUPS
from segcore.preprocess import Preprocessing

ds = state.page("Features", "Choose the behaviour the segments should be built from, and how values are cleaned "
                     "before clustering.", needs_run=False)
infos = data.feature_catalog(ds)
chosen = set(state.features(ds))

st.subheader("Features to cluster on")
advice = data.suggestions(ds, tuple(f.name for f in infos if f.name in chosen and f.kind == "numeric"))
# Inside a form, removing chips one after another changes nothing until the choice is applied: no click is lost
# to a rerun, and each group spans the page, so every chosen feature is in sight.
version = zlib.crc32(" ".join(sorted(chosen)).encode())  # new widgets once a choice is applied
with st.form(f"features_{ds}", border=False):
    picked = []
    for group in GROUPS:
        options = [f.name for f in infos if f.group == group]
        if not options:
            continue
        mine = [o for o in options if o in chosen]
        picked += st.multiselect(f"{group.capitalize()} ({len(mine)} of {len(options)})", options, default=mine,
                                 format_func=components.label, key=f"feat_{ds}_{group}_{version}")
    b1, b2, b3 = st.columns([1, 1, 2])
    use = b1.form_submit_button("Use these features", type="primary")
    follow = b2.form_submit_button("Apply the suggestions", disabled=advice.empty,
                                   help="Leave out what the suggestions below find near-constant, and the second "
                                        "of each pair of features that count the same thing twice.")
if use and sorted(picked) != sorted(chosen):
    state.set_features(ds, picked)
    st.rerun()
if follow:
    state.set_features(ds, state.apply_suggestions(picked, advice))
    st.rerun()
picked = list(chosen)
if not picked:
    st.warning("Choose at least one feature.")
    st.stop()
st.caption(f"{len(picked)} features chosen. Attributes (country, age band, ...) are off by default: "
           "segments then describe behaviour, and attributes can be compared afterwards.")

left_out = data.not_built(ds)
if left_out:
    with st.expander(f"Not built from this data ({len(left_out)})"):
        for feature, why in left_out.items():
            st.caption(components.md(f"{components.label(feature)}: {why}."))

if not advice.empty:
    with st.expander(f"Suggestions before clustering ({len(advice)})", expanded=False):
        st.dataframe(advice.assign(feature=advice["feature"].map(components.label)), hide_index=True,
                     column_config={"feature": "Feature", "issue": "Issue", "detail": "Why",
                                    "suggestion": "Suggestion"})

st.subheader("Preprocessing")
prep = state.preprocessing()
c1, c2, c3, c4 = st.columns(4)
impute = c1.selectbox("Fill missing values with", ["median", "mean", "zero"],
                      index=["median", "mean", "zero"].index(prep.impute))
cap = c2.slider("Cap outliers at quantile", 0.0, 0.10, float(prep.cap_quantile), 0.005, format="%.3f",
                help="Values beyond the q and 1-q quantiles are pulled in to them; 0 turns capping off.")
log_skewed = c3.checkbox("Log-transform skewed counts", value=prep.log_skewed,
                         help="log(1+x) for non-negative features with skewness above 1.")
scaler = c4.selectbox("Scaling", ["standard", "robust", "minmax", "none"],
                      index=["standard", "robust", "minmax", "none"].index(prep.scaler))
pca = st.select_slider("Reduce to principal components before clustering", options=[0, 2, 3, 5, 8, 10, 15, 20],
                       value=prep.pca if prep.pca in (0, 2, 3, 5, 8, 10, 15, 20) else 0,
                       format_func=lambda v: "off" if v == 0 else str(v),
                       help="Density methods (HDBSCAN) work far better on a few components than on many features.")
new_prep = Preprocessing(impute=impute, cap_quantile=cap, log_skewed=log_skewed, scaler=scaler, pca=pca)
if new_prep != prep:
    state.set_preprocessing(new_prep)
report, shape, explained = data.prepared_report(ds, picked, new_prep)
st.caption(f"Clustering matrix: {shape[0]:,} users × {shape[1]} columns"
           + (f" ({new_prep.pca} principal components keep {explained:.0%} of the variance)." if explained else "."))
st.dataframe(report.assign(feature=report["feature"].map(components.label)), hide_index=True, column_config={
    "feature": "Feature", "kind": "Kind", "missing": st.column_config.NumberColumn("Missing", format="localized"),
    "capped": st.column_config.NumberColumn("Capped", format="localized"), "logged": "Log", "steps": "What was done"})

numeric = [f.name for f in infos if f.name in picked and f.kind == "numeric"]
if numeric:
    st.subheader("Distributions and correlations")
    left, right = st.columns(2)
    with left:
        feat = st.selectbox("Feature", numeric, format_func=components.label)
        st.plotly_chart(components.histogram(*data.histogram(ds, feat), components.label(feat)), key="hist")
    with right:
        if len(numeric) > 1:
            st.plotly_chart(components.correlation_heatmap(*data.correlations(ds, numeric)), key="corr")
