"""Profiles: what makes each segment different, in a heatmap, sizes, descriptions and distributions."""

import pandas as pd
import streamlit as st

from dashboard import components, data
from segcore.disclosure import MIN_SEGMENT_SIZE, withheld_sizes
from segcore.stability import UNSTABLE_BELOW

run_id = components.page("Profiles", "What makes each segment different from the average user.")

prof = data.profiles(run_id)
personas = data.personas(run_id)
names = personas.set_index("cluster")["name"]
colours = components.colour_map(personas)
# segments below the minimum size show their size and nothing else (see segcore.disclosure)
small = set(withheld_sizes(prof.sizes["size"], MIN_SEGMENT_SIZE))
shown = [c for c in prof.sizes.index if c not in small]
if small:
    st.info(f"{len(small)} segment(s) with fewer than {MIN_SEGMENT_SIZE} users are withheld: only their size is "
            "shown, as a profile of so few people could single them out.")

st.plotly_chart(components.zscore_heatmap(prof.z.loc[shown], names), key="zheat")
left, right = st.columns([2, 3])
left.plotly_chart(components.size_bars(prof.sizes, names, colours), key="sizes")
stability = data.run(run_id).segment_stability
with right:
    st.markdown("**In a sentence**")
    for c in shown:
        tops = components.md(", ".join(f"{components.label(f)} {z:+.1f} sd" for f, z in prof.top[c]))
        if c in stability:
            flag = " · **unstable: may not come back on new data**" if stability[c] < UNSTABLE_BELOW else ""
            tops += f" · stability {stability[c]:.2f}{flag}"
        st.markdown(f"**{components.md(names.get(c, c))}** ({prof.sizes.loc[c, 'share']:.0%}): "
                    f"{components.md(prof.descriptions[c])}")
        st.caption(tops)

st.plotly_chart(components.silhouette_knife(data.silhouettes(run_id), names, colours), key="knife")

if data.run(run_id).algo == "ward":
    st.plotly_chart(components.dendrogram_figure(data.dendrogram(run_id)), key="dendrogram")

st.subheader("Rules of thumb")
st.caption("Each segment in plain rules, learnt from the raw values by a small decision tree. Precision: of the "
           "users a rule matches, the share in the segment. Coverage: of the segment, the share the rule matches.")
rules, separation = data.explanation(run_id)
left, right = st.columns([3, 2])
with left:
    if rules.empty:
        st.info("No rules were stored with this run.")
    for c in shown:
        mine = rules[rules["cluster"] == c]
        if mine.empty:
            continue
        st.markdown(f"**{components.md(names.get(c, c))}**")
        for r in mine.itertuples():
            st.markdown(f"- {components.md(r.rule)}")
            st.caption(f"precision {r.precision:.0%} · covers {r.coverage:.0%} of the segment")
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
    table.index = [components.label(i) for i in table.index]
    st.dataframe(table.round(3))
