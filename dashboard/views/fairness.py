"""Fairness: each persona's make-up by sensitive attributes, with four-fifths-rule flags."""

import streamlit as st

from dashboard import components, data, readouts, state
from segcore.fairness import FOUR_FIFTHS, suggest_sensitive

run_id = state.page("Fairness", "Does any persona leave out a group? Mark the sensitive attributes; each "
                         "segment's selection rate per group is compared with the most-selected group's.")

rec = data.run(run_id)
# who users are (country, age band, plan), never what they do: a behavioural figure is no protected group
candidates = data.user_attributes(rec.dataset)
if not candidates:
    st.info("This dataset has no user attributes besides the features clustered: import a users table "
            "(with age band, gender, country, ...) to check fairness.")
    st.stop()
suggested = suggest_sensitive(candidates)
left, mid, right = st.columns([3, 1, 1])
attributes = left.multiselect("Sensitive attributes", candidates, default=suggested, key="fair_attrs",
                              help="Suggested from the column names; add or remove any.")
min_group = mid.number_input("Smallest group judged", min_value=1, value=30, step=10,
                             help="Smaller groups are shown but not flagged: a rate over a few people says little.")
with right:
    min_size = state.min_segment_size("fairness", "Smaller segments and their users are left out, of the "
                                                       "population compared with too: figures about a few people "
                                                       "single them out.")
if not attributes:
    st.info("Mark at least one sensitive attribute.")
    st.stop()
personas = data.personas(run_id)
report = readouts.fairness(run_id, tuple(attributes), int(min_group), int(min_size), tuple(personas["name"]))
flags = report.flags
per_attribute = flags["attribute"].value_counts()
if flags.empty:
    st.success(f"No group is selected at less than {FOUR_FIFTHS:g} of the most-selected group's rate in any "
               f"persona (groups of at least {int(min_group)} users).")
else:
    where = "; ".join(f"{n} for {components.md(a)}" for a, n in per_attribute.items())
    st.warning(f"{len(flags)} group(s) fall below the four-fifths rule in {flags['segment'].nunique()} "
               f"persona(s), beyond chance: {where}. Targeting these personas alone would reach these groups "
               "disproportionately less.")
chance = int((report.table["below_rule"] & ~report.table["flagged"]).sum())
if chance:
    st.caption(f"{chance} more ratio(s) fall below {FOUR_FIFTHS:g} but are not flagged: after correcting all the "
               "comparisons together, their difference from the most-selected group could be chance.")
if report.withheld:
    st.caption("Left out (below the minimum segment size): " + components.md(", ".join(report.withheld)))


def _with_flags(a: str) -> str:
    n = int(per_attribute.get(a, 0))
    return f"{a} ({n} flag{'s' if n != 1 else ''})" if n else a


attr = (st.radio("Attribute", attributes, horizontal=True, format_func=_with_flags, key="fair_attr")
        if len(attributes) > 1 else attributes[0])
part = report.table[report.table["attribute"] == attr]
c1, c2 = st.columns(2)
c1.plotly_chart(components.impact_heatmap(part, report.threshold), key="fair_heat")
c2.plotly_chart(components.composition_bars(part), key="fair_bars")
st.dataframe(
    part[["segment", "attribute", "group", "in_segment", "segment_share", "population_share",
                  "representation", "selection_rate", "impact_ratio", "below_rule", "q", "flagged"]],
    hide_index=True, column_config={
        "segment": "Persona", "attribute": "Attribute", "group": "Group",
        "in_segment": st.column_config.NumberColumn("Users in persona", format="localized"),
        "segment_share": st.column_config.NumberColumn("Share of persona", format="percent"),
        "population_share": st.column_config.NumberColumn("Share of users shown", format="percent"),
        "representation": st.column_config.NumberColumn("Representation", format="%.2f×"),
        "selection_rate": st.column_config.NumberColumn("Selection rate", format="percent"),
        "impact_ratio": st.column_config.NumberColumn("Impact ratio", format="%.2f"),
        "below_rule": st.column_config.CheckboxColumn(f"Below {FOUR_FIFTHS:g}"),
        "q": st.column_config.NumberColumn("q (corrected)", format="%.3g"),
        "flagged": st.column_config.CheckboxColumn("Flagged (beyond chance)")})
st.caption("Selection rate: the share of a group's users in the persona. Impact ratio: that rate divided by the "
           "highest group's rate in the same persona; the four-fifths rule (US EEOC guidelines) flags ratios below "
           f"{FOUR_FIFTHS:g}; a ratio is flagged when its group's rate also differs from the highest group's beyond "
           "chance (score test, Benjamini-Hochberg correction over every comparison, q < 0.05). Representation: the "
           "persona's share of a group divided by the population's share.")
