"""KPIs: the KPIs the data supports per segment against all users; what the others would need; over time."""

import streamlit as st

from dashboard import components, data, readouts, state
from segcore.errors import SegcoreError

run_id = state.page("KPIs", "How each persona performs against the average across all users.")

personas = data.personas(run_id)
left, right = st.columns([1, 3])
with left:
    min_size = state.min_segment_size("kpis", "Smaller segments are withheld from every figure, the all-users "
                                                    "baseline included: figures about a few people single them out.")
correction = right.radio("Correct the tests of every persona and KPI together by", ["bh", "holm"], horizontal=True,
                         format_func={"bh": "Benjamini-Hochberg (false discovery rate)",
                                      "holm": "Holm (any false difference)"}.get,
                         help="Each persona's KPI is tested against the other users' value; with many tests, some "
                              "would look different by chance. The correction keeps that in check.")
report = readouts.kpis(run_id, tuple(personas["name"]), int(min_size), correction)
kpis = report.table.rename(columns={"segment": "persona"})
withheld = kpis.loc[kpis["withheld"], ["persona", "users"]]
if not withheld.empty:
    st.warning("KPIs withheld for segments below the minimum size: " + components.md("; ".join(
        f"{r.persona} ({r.users} users)" for r in withheld.itertuples())))
kpis = kpis[~kpis["withheld"]]
base = kpis[kpis["persona"] == "All users"].iloc[0]
shown = report.shown
for why in report.unavailable.values():
    st.caption(f"Not available: {components.md(why)}.")
if not shown:
    st.info("This dataset supports none of the KPIs: see above for what each would need.")
    st.stop()

currency = data.currency()
cols = st.columns(min(len(shown), 4))
for i, k in enumerate(shown):
    cols[i % len(cols)].metric(f"{k.label}, all users", components.kpi_value(base[k.name], k.unit, currency))

labels = {k.name: k.label for k in shown}
st.plotly_chart(components.kpi_grid(kpis, components.colour_map(personas), labels,
                                    {k.name: k.unit for k in shown}, currency, report.evidence), key="kpis")
tested = int(report.evidence["p"].notna().sum()) if report.evidence is not None else 0
st.caption(f"▲ ▼: the persona's value is higher or lower than the other users' (not all users, which include it), "
           f"and stays so after correcting all {tested} tests together (q < 0.05). Error bars: 95% intervals. "
           "Shares of users: Wilson intervals and score tests; means per user: Welch's t-test; ratios of events "
           "(CTR, conversion, order value): intervals over users, not events.")

st.dataframe(components.kpi_table(kpis, labels, {k.name: k.unit for k in shown}, currency, report.evidence),
             hide_index=True)
st.caption(components.md(" ".join(f"{k.label} = {report.definitions[k.name]}." for k in shown))
           + " In brackets: the persona's value as a multiple of all users'. A dash: the persona has nothing "
             "to measure it on (no impressions, no buyers).")

st.subheader("Over time")
grain = st.radio("Per", ["month", "week"], horizontal=True, key="kpi_grain",
                 help="The KPIs of the users active in each period: a persona's revenue per active user that month, "
                      "its conversion that week.")
try:
    trends = readouts.kpi_trends(run_id, tuple(personas["name"]), int(min_size), grain)
except SegcoreError as exc:  # a users table, or a dataset imported before activity was counted
    st.info(components.md(str(exc)))
    st.stop()
if trends.kpis:
    st.plotly_chart(components.kpi_trend_lines(trends, components.colour_map(personas), currency), key="trends")
st.caption(f"From {trends.span[0]:%d %b %Y} to {trends.span[1]:%d %b %Y}. Open markers: a {grain} only partly "
           f"inside the log, whose figures cover fewer days. Gaps: fewer than 30 active users that {grain}. "
           + components.md(" ".join(f"Not per {grain}: {why}." for why in trends.not_over_time.values())))
