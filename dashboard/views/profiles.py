"""Profiles: what makes each segment different, in a heatmap, sizes, descriptions and distributions."""

import pandas as pd
import streamlit as st

from dashboard import components, data
from segcore.stability import UNSTABLE_BELOW

run_id = components.page("Profiles", "What makes each segment different from the average user.")

prof = data.profiles(run_id)
personas = data.personas(run_id)
names = personas.set_index("cluster")["name"]
colours = components.colour_map(personas)

st.plotly_chart(components.zscore_heatmap(prof.z, names), key="zheat")
left, right = st.columns([2, 3])
left.plotly_chart(components.size_bars(prof.sizes, names, colours), key="sizes")
stability = {int(c): v for c, v in (data.run(run_id)["metrics"].get("segment_stability") or {}).items()}
with right:
    st.markdown("**In a sentence**")
    for c in prof.sizes.index:
        tops = components.md(", ".join(f"{components.label(f)} {z:+.1f} sd" for f, z in prof.top[c]))
        if c in stability:
            flag = " · **unstable: may not come back on new data**" if stability[c] < UNSTABLE_BELOW else ""
            tops += f" · stability {stability[c]:.2f}{flag}"
        st.markdown(f"**{components.md(names.get(c, c))}** ({prof.sizes.loc[c, 'share']:.0%}): "
                    f"{components.md(prof.descriptions[c])}")
        st.caption(tops)

st.plotly_chart(components.silhouette_knife(data.silhouettes(run_id), names, colours), key="knife")

if data.run(run_id)["algo"] == "ward":
    st.plotly_chart(components.dendrogram_figure(data.dendrogram(run_id)), key="dendrogram")

st.subheader("Rules of thumb")
st.caption("Each segment in plain rules, learnt from the raw values by a small decision tree. Precision: of the "
           "users a rule matches, the share in the segment. Coverage: of the segment, the share the rule matches.")
rules, separation = data.explanation(run_id)
left, right = st.columns([3, 2])
with left:
    if rules.empty:
        st.info("No rules were stored with this run.")
    for c in prof.sizes.index:
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
st.plotly_chart(components.box_by_persona(sample, feat, colours), key="box")

with st.expander("Mean and median of every feature per segment"):
    table = pd.concat({"mean": prof.means.T, "median": prof.medians.T}, axis=1)
    table.columns = [f"{names.get(c, c)} ({stat})" for stat, c in table.columns]
    table.index = [components.label(i) for i in table.index]
    st.dataframe(table.round(3))
