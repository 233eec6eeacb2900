"""Profiles: what makes each segment different, in a heatmap, sizes, descriptions and distributions."""

import pandas as pd
import streamlit as st

from dashboard import components, data, state

run_id = state.page("Profiles", "What makes each segment different from the average user.")

prof = data.profiles(run_id)
personas = data.personas(run_id)
names = personas.set_index("cluster")["name"]
colours = components.colour_map(personas)
min_size = state.chosen_min_size()
# segments below the minimum size show their size and nothing else (see segcore.disclosure)
summaries, separation = data.summaries(run_id, tuple(names), min_size)
shown = [s.cluster for s in summaries if not s.withheld]
small = [s for s in summaries if s.withheld]
if small:
    st.info(f"{len(small)} segment(s) with fewer than {min_size} users are withheld: only their size is "
            "shown, as a profile of so few people could single them out.")

st.plotly_chart(components.zscore_heatmap(prof.z.loc[shown], names), key="zheat")
left, right = st.columns([2, 3])
left.plotly_chart(components.size_bars(prof.sizes, names, colours), key="sizes")
with right:
    st.markdown("**In a sentence**")
    for s in summaries:
        if s.withheld:
            continue
        st.markdown(f"**{components.md(s.name)}** ({s.share:.0%}): {components.md(s.description)}")
        lines = [components.md(trait.text(components.label, data.currency())) for trait in s.traits]
        if s.stability is not None:
            flag = " · **unstable: may not come back on new data**" if s.unstable else ""
            lines.append(f"Stability {s.stability:.2f}{flag}")
        st.caption("  \n".join(lines))

st.plotly_chart(components.silhouette_knife(data.silhouettes(run_id), names, colours), key="knife")

if data.run(run_id).algo == "ward":
    st.plotly_chart(components.dendrogram_figure(data.dendrogram(run_id)), key="dendrogram")

st.subheader("Rules of thumb")
st.caption("Each segment in plain rules, learnt from the raw values by a small decision tree. Precision: of the "
           "users a rule matches, the share in the segment. Coverage: of the segment, the share the rule matches.")
left, right = st.columns([3, 2])
with left:
    if not any(s.rules for s in summaries):
        st.info("No rules were stored with this run.")
    for s in summaries:
        if s.withheld or not s.rules:
            continue
        st.markdown(f"**{components.md(s.name)}**")
        for rule, precision, coverage in s.rules:
            st.markdown(f"- {components.md(rule)}")
            st.caption(f"precision {precision:.0%} · covers {coverage:.0%} of the segment")
with right:
    if not separation.empty:
        st.plotly_chart(components.separation_bars(separation.head(12)), key="separation")

st.subheader("One feature across segments")
frame, numeric, _, _ = data.run_design(run_id)
feat = st.selectbox("Feature", numeric, format_func=components.label)
# the cached sample is in random order: its first 20,000 users are a random 20,000
sample = frame.head(20_000).assign(persona=lambda d: d["cluster"].map(names))
sample = sample[sample["cluster"].isin(shown)]
st.plotly_chart(components.box_by_persona(sample, feat, colours), key="box")

with st.expander("Mean and median of every feature per segment"):
    table = pd.concat({"mean": prof.means.loc[shown].T, "median": prof.medians.loc[shown].T}, axis=1)
    table.columns = [f"{names.get(c, c)} ({stat})" for stat, c in table.columns]
    if not small:  # with a segment withheld, everyone's mean beside the others' would give its users away
        table.insert(0, "All users (mean)", prof.population_mean.reindex(table.index))
    table.index = [components.label(i) for i in table.index]
    st.dataframe(table.round(3))
