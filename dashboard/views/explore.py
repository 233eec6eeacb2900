"""Explore: a 2-D map of users coloured by segment; select a group to see what it shares."""

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import components, data
from segcore.profile import indicator_frame, profile_clusters

run_id = components.page("Explore", "Each dot is a user, placed so that similar users sit close together. "
                                    "Draw a box or lasso around a group to see what its users have in common.")

method = st.radio("Map", ["pca", "umap"], horizontal=True,
                  format_func={"pca": "PCA (instant)", "umap": "UMAP (keeps neighbourhoods, slower)"}.get)
if method == "umap" and not data.has_projection(run_id, "umap"):
    st.info("UMAP has not been computed for this run yet. The first UMAP in a session takes about a minute "
            "(its numerical code compiles); after that it is stored with the run and opens instantly.")
    if not st.button("Compute UMAP", type="primary"):
        st.stop()
    with st.status("Computing UMAP...", expanded=True) as status:
        st.write("Compiling and fitting; this runs once per run.")
        data.projection(run_id, "umap")
        status.update(label="UMAP ready", state="complete", expanded=False)

coords, info = data.projection(run_id, method)
frame, numeric, categorical = data.run_design(run_id)
personas = data.personas(run_id)
names = personas.set_index("cluster")["name"]
points = coords.merge(frame, on="user_id", how="inner", validate="one_to_one")
points["persona"] = points["cluster"].map(names)
hover = [c for c in ("recency_days", "n_sessions", "revenue", "mobile_share", "night_share") if c in numeric][:4] \
    or numeric[:4]
n_total = len(points)
if n_total > components.MAX_SCATTER_POINTS:
    points = points.sample(components.MAX_SCATTER_POINTS, random_state=0)
points = points.reset_index(drop=True)

if method == "pca":
    ev = info["explained_variance_ratio"]
    subtitle = f"PCA: the two axes explain {ev[0]:.0%} and {ev[1]:.0%} of the variance"
else:
    subtitle = f"UMAP (fitted on {info['fitted_on']:,} users)"
if len(points) < n_total:
    subtitle += f" · showing a random {len(points):,} of {n_total:,} users"
fig, rows_per_trace = components.scatter(points, components.colour_map(personas), hover, subtitle)
event = st.plotly_chart(fig, key=f"map_{run_id}_{method}", on_select="rerun", selection_mode=("box", "lasso"))

selected = []
if event and event.selection and event.selection.points:
    for p in event.selection.points:
        curve, idx = p.get("curve_number"), p.get("point_index")
        if curve is not None and idx is not None and curve < len(rows_per_trace) and idx < len(rows_per_trace[curve]):
            selected.append(rows_per_trace[curve][idx])
if not selected:
    st.caption("Tip: use the box or lasso tool at the top right of the map to select users.")
    st.stop()

sel = points.loc[np.unique(selected)]
st.subheader(f"{len(sel):,} selected users")
left, right = st.columns([1, 2])
with left:
    mix = sel["persona"].value_counts().rename_axis("Segment").reset_index(name="Users")
    mix["Share"] = mix["Users"] / len(sel)
    st.dataframe(mix, hide_index=True, column_config={"Share": st.column_config.ProgressColumn(
        "Share", format="%.0f%%", min_value=0, max_value=1)})
with right:
    # The selection is profiled like a segment: group 1 = selected, 0 = the rest of the map.
    chosen = points.index.isin(sel.index).astype(int)
    prof = profile_clusters(indicator_frame(points, numeric, categorical), chosen)
    z = prof.z.loc[1]
    top = z.reindex(z.abs().sort_values(ascending=False).index).head(8)
    shares = pd.DataFrame({"What they share": [components.label(f) for f in top.index],
                           "Selected": prof.means.loc[1, top.index].to_numpy(),
                           "Everyone": prof.population_mean[top.index].to_numpy(),
                           "Difference (sd)": top.to_numpy()})
    st.dataframe(shares, hide_index=True, column_config={
        "Selected": st.column_config.NumberColumn(format="%.3g"),
        "Everyone": st.column_config.NumberColumn(format="%.3g"),
        "Difference (sd)": st.column_config.NumberColumn(format="%+.2f")})
