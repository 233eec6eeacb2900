"""KPIs: per-segment CTR, conversion, revenue per user and churn against all users."""

import streamlit as st

from dashboard import components, data
from segcore.kpi import KPI_LABELS

run_id = components.page("KPIs", "How each persona performs against the average across all users.")

personas = data.personas(run_id)
min_size = st.number_input("Minimum segment size", min_value=1, value=50, step=10,
                           help="KPIs of smaller segments are withheld: figures about a few people single them out.")
kpis = data.kpis(run_id, tuple(personas["name"]), int(min_size))
kpis = kpis.rename(columns={"segment": "persona"})
withheld = kpis.loc[kpis["withheld"], ["persona", "users"]]
if not withheld.empty:
    st.warning("KPIs withheld for segments below the minimum size: " + "; ".join(
        f"{r.persona} ({r.users} users)" for r in withheld.itertuples()))
kpis = kpis[~kpis["withheld"]]
base = kpis[kpis["persona"] == "All users"].iloc[0]
present = [k for k in KPI_LABELS if k in kpis]
if not present:
    st.info("This dataset has none of the inputs KPIs need (ad impressions and clicks, sessions, revenue, churn).")
    st.stop()

cols = st.columns(len(present))
for col, k in zip(cols, present):
    col.metric(f"{KPI_LABELS[k]}, all users", f"{base[k]:,.2f}" if k == "revenue_per_user" else f"{base[k]:.1%}")

st.plotly_chart(components.kpi_grid(kpis, components.colour_map(personas), {k: KPI_LABELS[k] for k in present}),
                key="kpis")

table = kpis[["persona", "users", "share", *present, *[f"{k}_lift" for k in present]]]
config = {"persona": "Persona", "users": st.column_config.NumberColumn("Users", format="localized"),
          "share": st.column_config.NumberColumn("Share", format="percent")}
for k in present:
    config[k] = st.column_config.NumberColumn(KPI_LABELS[k], format="%.2f" if k == "revenue_per_user" else "percent")
    config[f"{k}_lift"] = st.column_config.NumberColumn(f"{KPI_LABELS[k]} vs all", format="%.2f×")
st.dataframe(table, hide_index=True, column_config=config)
churn_note = "the dataset's churned flag" if "churned" in data.columns(data.run(run_id)["dataset"]) \
    else "no activity in the last 60 days of the log"
st.caption(f"CTR = ad clicks / ad impressions; conversion = sessions with a purchase / sessions; "
           f"churn = {churn_note}. Lift = segment ÷ all users.")
