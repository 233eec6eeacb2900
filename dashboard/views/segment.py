"""Segment: pick a method, sweep k (elbow and silhouette side by side), read the recommendation, fit."""

import streamlit as st

import segcore
from dashboard import actions, components, data, keys, state

ds = state.page("Segment", "How many segments does the data support? Try a range of k, then fit the one "
                     "you choose.", needs_run=False)
features = state.features(ds)
prep = state.preprocessing()
st.caption(f"Dataset **{components.md(ds)}** · {len(features)} features (change them on the Features page) · "
           f"{prep.scaler} scaling, outliers capped at {prep.cap_quantile:g}"
           + (f", {prep.pca} principal components." if prep.pca else "."))

methods = segcore.ALGORITHMS
c1, c2 = st.columns([1, 3])
algo = c1.selectbox("Method", list(methods), format_func=lambda m: methods[m].label)
method = methods[algo]
c2.caption(method.summary)
if algo == "hdbscan" and not prep.pca:
    c2.warning("HDBSCAN struggles in many dimensions: on the Features page, reduce to about 5 principal "
               "components first.", icon=":material/info:")
with st.expander("Method settings"):
    params = {}
    cols = st.columns(max(1, len(method.params)) + 1)
    for col, p in zip(cols, method.params):
        if p.choices:
            params[p.name] = col.selectbox(p.title, p.choices, index=p.choices.index(p.default), help=p.help or None)
        elif p.kind is float:
            params[p.name] = col.number_input(p.title, min_value=p.low, max_value=p.high, value=p.default,
                                              format="%g", help=p.help or None)
        else:
            params[p.name] = int(col.number_input(p.title, min_value=int(p.low), max_value=int(p.high),
                                                  value=int(p.default), step=1, help=p.help or None))
    seed = cols[-1].number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1,
                                 help="The same seed and data give the same segments.")

result = None
if method.needs_k:
    k_lo, k_hi = st.slider("Range of k to compare", 2, 15, (2, 10))
    ks = list(range(k_lo, k_hi + 1))
    result = data.cached_sweep(ds, features, prep, ks, algo, seed, params)
    if result is None and st.button(f"Compare k = {k_lo}…{k_hi}", type="primary", disabled=len(ks) < 2):
        with st.status(f"Fitting {method.label} for {len(ks)} values of k...", expanded=True) as status:
            result = data.sweep(ds, features, prep, ks, algo, seed, params, progress=state.progress_bar())
            status.update(label=f"Compared {len(ks)} values of k in {result.seconds:.1f} s", state="complete",
                          expanded=False)

if result is not None:
    left, right = st.columns(2)
    elbow, sil = components.sweep_figures(result.table, result.recommended_k, result.knee_k)
    left.plotly_chart(elbow, key="elbow")
    right.plotly_chart(sil, key="silhouette")
    box = st.warning if result.confidence == "weak" else st.info
    box(f"**Recommended: k = {result.recommended_k}.** {result.reason}", icon=":material/lightbulb:")
    if result.sizes:
        st.plotly_chart(components.sweep_sizes(result.sizes, result.n_users, result.recommended_k), key="sizes_k")
    with st.expander("All metrics per k"):
        stability = f"Stability: {result.stability_method}. " if result.stability_method else ""
        st.caption(f"Silhouette: {result.silhouette_method} (± = half-width of that interval). {stability}"
                   "Calinski-Harabasz: higher is better; Davies-Bouldin, BIC and AIC: lower is better. "
                   "Seconds: each k's fits; the metrics of every k are measured together afterwards.")
        st.dataframe(result.table, hide_index=True, column_config={
            "k": "k", "inertia": st.column_config.NumberColumn("Inertia", format="%.0f"),
            "silhouette": st.column_config.NumberColumn("Silhouette", format="%.3f"),
            "silhouette_ci": st.column_config.NumberColumn("± (95%)", format="%.3f"),
            "calinski_harabasz": st.column_config.NumberColumn("Calinski-Harabasz", format="%.0f"),
            "davies_bouldin": st.column_config.NumberColumn("Davies-Bouldin", format="%.3f"),
            "stability": st.column_config.NumberColumn("Stability (ARI)", format="%.2f",
                                                       help="Agreement of refits on resampled users; 1 = identical"),
            "stability_std": st.column_config.NumberColumn("± spread", format="%.2f"),
            "bic": st.column_config.NumberColumn("BIC", format="%.0f"),
            "aic": st.column_config.NumberColumn("AIC", format="%.0f"),
            "seconds": st.column_config.NumberColumn("Seconds", format="%.2f")})

st.subheader("Fit segments")
k = None
if method.needs_k:
    default_k = result.recommended_k if result is not None else 6
    k = int(st.number_input("Number of segments (k)", min_value=2, max_value=50, value=int(default_k), step=1))
label = f"Fit {k} segments" if k else f"Fit {method.label}"
if st.button(label, type="primary" if result is not None or not method.needs_k else "secondary"):
    with st.status(f"Fitting {method.label}...", expanded=True) as status:
        run_id = actions.create_run(ds, k, algo=algo, features=features, preprocessing=prep,
                                    seed=int(seed), params=params, progress=state.progress_bar())
        status.update(label=f"Saved run {run_id}", state="complete", expanded=False)
    state.select_run(run_id)
    st.session_state[keys.FITTED] = run_id
    st.rerun()

if st.session_state.get(keys.FITTED) and st.session_state[keys.FITTED] == state.run_id():
    rec = data.run(state.run_id())
    m = rec.metrics
    unassigned = f" {m['unassigned']:,} users fit no dense group and are shown as Unassigned." \
        if m.get("unassigned") else ""
    st.success(f"Fitted {rec.k} segments (silhouette {m['silhouette']:.3f}).{unassigned} "
               "Suggested persona names are ready to review.")
    c1, c2, c3 = st.columns(3)
    c1.page_link("views/explore.py", label="Explore the map", icon=":material/explore:")
    c2.page_link("views/profiles.py", label="Read the profiles", icon=":material/bar_chart:")
    c3.page_link("views/personas.py", label="Name the personas", icon=":material/badge:")

if {"recency_days", "n_purchases"} <= set(data.columns(ds)):
    st.subheader("Baseline: RFM groups")
    st.caption("The retail analyst's classic: every customer scored 1 to 5 on recency, frequency (orders) and "
               "monetary value, and named by the usual grid (champions, loyal customers, at risk, hibernating, "
               "...). Stored as a run: compare a clustering with it on the Compare page.")
    if st.button("Score the RFM groups"):
        with st.spinner("Scoring recency, frequency and monetary value..."):
            run_id = actions.create_rfm_run(ds)
        state.select_run(run_id)
        st.session_state[keys.FITTED] = run_id
        st.rerun()
