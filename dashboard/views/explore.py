"""Explore: a 2-D map of users coloured by segment; select a group to see what it shares."""

import time

import streamlit as st

import segcore
from dashboard import components, data, keys, state
from segcore.errors import InputError
from segcore.export import to_bytes

run_id = state.page("Explore", "Every user is placed so that similar users sit close together, coloured "
                                    "by segment. Draw a box or lasso around a group to see what its users have "
                                    "in common.")

maps = ["pca", "umap"]
method = st.radio("Map", maps, horizontal=True, index=maps.index(st.session_state.get(keys.MAP_METHOD, "pca")),
                  format_func={"pca": "PCA (instant)", "umap": "UMAP (keeps neighbourhoods, slower)"}.get)
st.session_state[keys.MAP_METHOD] = method  # the same map on the next visit
if method == "umap" and not data.has_projection(run_id, "umap"):
    users = data.run_design(run_id)[3]
    sample = min(users, segcore.projection.UMAP_SAMPLE)
    st.info(f"UMAP has not been computed for this run yet. It is fitted on {sample:,} users"
            + (f" (a sample of the {users:,}, drawn within each segment)" if sample < users else "")
            + ", then stored with the run, so it opens instantly next time.")
    if not st.button("Compute UMAP", type="primary"):
        st.stop()
    with st.status(f"Computing UMAP of {sample:,} users...", expanded=True) as status:
        started = time.perf_counter()
        data.projection(run_id, "umap", progress=state.progress_bar())
        status.update(label="UMAP ready", state="complete", expanded=False)
    st.session_state[keys.UMAP_SECONDS] = time.perf_counter() - started
    st.rerun()  # draw the page afresh: the map, without the offer to compute it

stored = data.projection_info(run_id, method)  # a small query: its size keys the cached map
placed_version = str(stored.get("placed", ""))
points, info, n_placed, cluster_sizes, numeric, categorical = data.map_points(run_id, method, placed_version)
personas = data.personas(run_id)
names = personas.set_index("cluster")["name"]
points["persona"] = points["cluster"].map(names)
hover = [c for c in ("recency_days", "n_sessions", "revenue", "mobile_share", "night_share") if c in numeric][:4] \
    or numeric[:4]
image = data.map_image(run_id, method, placed_version,
                       tuple(zip(personas["cluster"].astype(int), personas["colour"])))

axes = ("", "")
if method == "pca":
    ev = info["explained_variance_ratio"]
    subtitle = f"PCA: the two axes explain {ev[0]:.0%} and {ev[1]:.0%} of the variance"
    axes = components.pca_axis_titles(info)
else:
    subtitle = f"UMAP (fitted on {info['fitted_on']:,} users)"
if method == "umap" and keys.UMAP_SECONDS in st.session_state:
    st.caption(f"UMAP computed in {st.session_state.pop(keys.UMAP_SECONDS):.0f} s and stored with the run.")
fig = components.scatter(points, {names.get(c, str(c)): int(n) for c, n in cluster_sizes.items()},
                         components.colour_map(personas), hover, subtitle, image, axes)
event = st.plotly_chart(fig, key=f"map_{run_id}_{method}", on_select="rerun", selection_mode=("box", "lasso"))
regions = components.selection_regions(event)
if info.get("withheld_users"):
    st.caption(f"{info['withheld_users']:,} users of segments smaller than {info['min_segment_size']} are not on "
               "the map nor in the download: their positions would single them out.")
if len(points) < n_placed:
    st.caption(f"Shading: all {n_placed:,} users. Dots: a random {len(points):,} of them, to hover.")
if method == "umap" and not info.get("all_users", True):  # UMAPs stored before sampling placed everyone
    with st.expander(f"Positions of all {info['users']:,} users"):
        st.write(f"UMAP placed the {info['placed']:,} users it was fitted on. Placing the other "
                 f"{info['users'] - info['placed']:,} on the same map takes about "
                 f"{max(1, round((info['users'] - info['placed']) / 13_000 / 60))} min on two cores.")
        if st.button("Place every user"):
            with st.status("Placing every user on the UMAP map...", expanded=True) as status:
                data.projection(run_id, "umap", all_users=True, progress=state.progress_bar())
                status.update(label="Every user placed", state="complete", expanded=False)
            st.rerun()
else:
    st.download_button(
        f"Download the users' positions ({method.upper()}, CSV)", key=f"positions_{method}",
        data=lambda: to_bytes(data.projection(run_id, method)[0], "csv"),
        file_name=f"positions_{method}_{run_id}.csv", mime="text/csv", on_click="ignore")

chosen = data.map_selection(run_id, method, placed_version, regions) if regions else None
if chosen is None:
    if regions:
        st.info("No user sits inside the area you drew: draw around some colour.")
    else:
        st.caption("Tip: use the box or lasso tool at the top right of the map to select users"
                   + (": every user inside counts, not only the dots." if len(points) < n_placed else "."))
    st.stop()

counts, differences = chosen
total = int(counts.sum())
st.subheader(f"{total:,} selected users")
main = int(counts.index[0])  # the segment holding most of them
main_name = names.get(main, str(main))
against = st.radio("Compare them with", ["everyone", "segment"], horizontal=True, key=keys.SELECTION_AGAINST,
                   format_func={"everyone": "Everyone",
                                "segment": f"The rest of {components.md(main_name)}"}.get,
                   help="Against the rest of their segment: what sets the selected part of a segment apart "
                        "from its other users.")
reference = "Everyone"
if against == "segment":
    try:
        _, differences = data.map_selection(run_id, method, placed_version, regions, main)
        reference = f"Rest of {main_name}"
        st.caption(f"The {int(counts[main]):,} selected users in {components.md(main_name)}, against the "
                   "segment's other users.")
    except InputError as exc:
        st.info(components.md(str(exc)))
left, right = st.columns([1, 2])
with left:
    mix = counts.rename(index=names).rename_axis("Segment").reset_index(name="Users")
    mix["Share"] = mix["Users"] / mix["Users"].sum()
    # the share as a percentage of the selection (a value of 0.96 is 96 %, not "1%")
    st.dataframe(mix, hide_index=True, column_config={"Share": st.column_config.ProgressColumn(
        "Share", format="percent", min_value=0, max_value=1, width="medium")})
with right:
    st.dataframe(components.contrast_rows(differences.head(8), reference, data.currency()), hide_index=True,
                 column_config={
        "Difference (sd)": st.column_config.NumberColumn(format="%+.2f")})
min_size = state.chosen_min_size()
if total < min_size:
    st.caption(f"A selection of fewer than {min_size} users cannot be downloaded: it could single people out "
               "(the minimum segment size is set on the KPIs and Export pages).")
else:
    st.download_button(f"Download the {total:,} selected users (CSV)", key="selection_csv",
                       data=lambda: to_bytes(data.selected_users(run_id, method, placed_version, regions), "csv"),
                       file_name=f"selection_{run_id}.csv", mime="text/csv", on_click="ignore")
