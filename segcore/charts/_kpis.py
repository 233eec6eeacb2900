"""The KPIs page's table and charts: values as stakeholders read them, with their intervals and the marks
of the differences that hold up (segcore.significance)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..features import Currency
from ._figures import plain, safe

_KPI_FORMATS = {"rate": ".1%", "money": ",.2f", "count": ",.2f"}


def kpi_value(value, unit: str, currency: Currency | None = None) -> str:
    """A KPI as a stakeholder reads it: a percentage for rates, money as the store's currency writes it,
    two decimals otherwise, '–' for no value."""
    if value is None or pd.isna(value):
        return "–"
    if unit == "money":
        return (currency or Currency()).format(value)
    return f"{value:{_KPI_FORMATS.get(unit, ',.2f')}}"


def _marker(cell) -> str:
    """▲ or ▼ where a persona's KPI differs from the other users' after correction; '' otherwise."""
    if cell is None or not bool(cell.get("significant")):
        return ""
    return " ▲" if cell["diff_vs_rest"] > 0 else " ▼"


def _too_thin(cell) -> bool:
    """Whether a cell has no figure because too few users stand behind it."""
    return cell is not None and pd.isna(cell.get("value")) and isinstance(cell.get("reason"), str)


def _evidence_by_cell(evidence: pd.DataFrame | None) -> dict:
    return {} if evidence is None else {(r["segment"], r["kpi"]): r for r in evidence.to_dict("records")}


def kpi_table(kpis: pd.DataFrame, kpi_labels: dict[str, str], units: dict[str, str],
              currency: Currency | None = None, evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """A row per KPI and a column per persona (all users first), so the table fits the page however many
    KPIs there are: each cell the value and, for a persona, how many times all users' value it is, marked
    ▲ or ▼ where it differs from the other users' after correction (``evidence``:
    segcore.significance.kpi_evidence), or "not enough data"."""
    order = ["All users"] + [p for p in kpis["persona"] if p != "All users"]
    by = kpis.set_index("persona").loc[order]
    cells = _evidence_by_cell(evidence)
    rows = {"Users": [f"{int(r.users):,} ({r.share:.0%})" for r in by.itertuples()]}
    for k, name in kpi_labels.items():
        lifts = by[f"{k}_lift"] if f"{k}_lift" in by else pd.Series(np.nan, index=by.index)
        row = []
        for persona, v, lift in zip(order, by[k], lifts, strict=True):
            cell = cells.get((persona, k))
            if _too_thin(cell):
                row.append("not enough data")
                continue
            row.append(kpi_value(v, units.get(k, "rate"), currency)
                       + (f" ({lift:.2f}x)" if persona != "All users" and pd.notna(lift) and pd.notna(v) else "")
                       + _marker(cell))
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index", columns=order).rename_axis("KPI").reset_index()


def kpi_grid(kpis: pd.DataFrame, colours: dict[str, str], kpi_labels: dict[str, str],
             units: dict[str, str] | None = None, currency: Currency | None = None,
             evidence: pd.DataFrame | None = None) -> go.Figure:
    """One bar chart per KPI, the all-users baseline as a dashed line; with ``evidence``, each bar's 95 %
    interval as an error bar and ▲ or ▼ beside the value where it differs from the other users' after
    correction."""
    units = units or {}
    cells = _evidence_by_cell(evidence)
    present = [k for k in kpi_labels if k in kpis]
    seg = kpis[kpis["persona"] != "All users"]
    base = kpis[kpis["persona"] == "All users"].iloc[0]
    cols = 2
    rows = (len(present) + 1) // 2
    row_px = 320
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[kpi_labels[k] for k in present],
                        # room between rows for the slanted persona names, whatever the number of rows
                        vertical_spacing=min(0.3, 130 / (row_px * rows)))
    for i, k in enumerate(present):
        r, c = i // cols + 1, i % cols + 1
        money = units.get(k) == "money"
        fmt = f",.{(currency or Currency()).decimals}f" if money else _KPI_FORMATS.get(units.get(k, "rate"), ",.2f")
        prefix = (currency or Currency()).symbol if money else ""
        found = [cells.get((p, k)) for p in seg["persona"]]
        # too few users behind a figure: no bar and no number, but the words
        thin = [_too_thin(c) for c in found]
        values = [0.0 if t else v for v, t in zip(seg[k], thin, strict=True)]
        low = [v - c["ci_low"] if c is not None and pd.notna(c.get("ci_low")) else np.nan
               for v, c in zip(seg[k], found)]
        high = [c["ci_high"] - v if c is not None and pd.notna(c.get("ci_high")) else np.nan
                for v, c in zip(seg[k], found)]
        fig.add_trace(go.Bar(x=seg["persona"], y=values, marker_color=[colours.get(p, "#888") for p in seg["persona"]],
                             text=["not enough data" if t else kpi_value(v, units.get(k, "rate"), currency) + _marker(c)
                                   for v, c, t in zip(seg[k], found, thin, strict=True)],
                             error_y=dict(type="data", symmetric=False, array=high, arrayminus=low, color="#444",
                                          thickness=1, width=3, visible=bool(cells)),
                             textposition="outside", cliponaxis=False, showlegend=False,
                             hovertemplate=f"%{{x}}: {plain(prefix)}%{{y:{fmt}}}<extra></extra>"), row=r, col=c)
        # the all-users baseline as a dashed line across the bars, named once in the legend rather than
        # on each chart, where its label sat on the bars' values
        fig.add_trace(go.Scatter(x=list(seg["persona"]), y=[base[k]] * len(seg), mode="lines",
                                 line=dict(dash="dash", color="#444", width=1.5), name="All users",
                                 legendgroup="all", showlegend=i == 0,
                                 hovertemplate=f"All users: {plain(prefix)}%{{y:{fmt}}}<extra></extra>"), row=r, col=c)
        fig.update_yaxes(tickformat=fmt, tickprefix=prefix, rangemode="tozero", row=r, col=c)
    fig.update_layout(height=row_px * rows, margin=dict(l=10, r=10, t=60, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"))
    return safe(fig)




def kpi_trend_lines(trends, colours: dict[str, str], currency: Currency | None = None) -> go.Figure:
    """One line chart per KPI over the weeks or months of activity (``trends``: segcore.trends.KpiTrends), a
    line per persona and all users dashed; a period only partly inside the log is an open marker, and a
    period with too few active users is a gap, not a point."""
    table = trends.table
    present = list(trends.kpis)
    cols = 2 if len(present) > 1 else 1
    rows = max(1, (len(present) + cols - 1) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[trends.kpis[k] for k in present],
                        vertical_spacing=min(0.25, 100 / (300 * rows)))
    for i, k in enumerate(present):
        r, c = i // cols + 1, i % cols + 1
        money = trends.units[k] == "money"
        fmt = f",.{(currency or Currency()).decimals}f" if money else _KPI_FORMATS.get(trends.units[k], ",.2f")
        prefix = (currency or Currency()).symbol if money else ""
        for segment, part in table.groupby("segment", sort=False):
            everyone = segment == "All users"
            fig.add_trace(go.Scatter(
                x=part["period"], y=part[k], mode="lines+markers", name=str(segment), legendgroup=str(segment),
                showlegend=i == 0, connectgaps=False,
                line=dict(color="#444" if everyone else colours.get(segment, "#888"), dash="dash" if everyone else
                          "solid", width=1.5 if everyone else 2),
                marker=dict(symbol=["circle-open" if p else "circle" for p in part["partial"]], size=7),
                customdata=np.column_stack([part["active_users"], np.where(part["partial"], " (partial period)", "")]),
                hovertemplate=f"{plain(segment)}, %{{x|%Y-%m-%d}}%{{customdata[1]}}: {plain(prefix)}%{{y:{fmt}}} "
                              "(%{customdata[0]:,} active users)<extra></extra>"), row=r, col=c)
        fig.update_yaxes(tickformat=fmt, tickprefix=prefix, rangemode="tozero", row=r, col=c)
    fig.update_layout(height=300 * rows + 60, margin=dict(l=10, r=10, t=60, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1, xanchor="right"))
    return safe(fig)


def experiment_forest(effects: pd.DataFrame, kpi_labels: dict[str, str], variant: str, colours: dict[str, str],
                      units: dict[str, str], currency: Currency | None = None) -> go.Figure:
    """One panel per KPI: each scope's effect of ``variant`` against the control with its 95 % interval (all users
    first, then the personas), a filled marker where it holds up after correction, an open one otherwise."""
    part = effects[(effects["variant"] == variant) & effects["effect"].notna()]
    present = [k for k in kpi_labels if k in set(part["kpi"])]
    cols = 2 if len(present) > 1 else 1
    rows = max(1, (len(present) + cols - 1) // cols)
    scopes = list(dict.fromkeys(["All users", *part["scope"]]))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[kpi_labels[k] for k in present],
                        vertical_spacing=min(0.25, 90 / (max(260, 40 * len(scopes)) * rows)))
    for i, k in enumerate(present):
        r, c = i // cols + 1, i % cols + 1
        cells = part[part["kpi"] == k].set_index("scope").reindex(scopes).dropna(subset=["effect"])
        money = units.get(k) == "money"
        fmt = f",.{(currency or Currency()).decimals}f" if money else (".2%" if units.get(k) == "rate" else ",.3f")
        fig.add_trace(go.Scatter(
            x=cells["effect"], y=list(cells.index), mode="markers", showlegend=False,
            marker=dict(size=11, color=[("#444" if s == "All users" else colours.get(s, "#888")) for s in cells.index],
                        symbol=["circle" if bool(v) else "circle-open" for v in cells["significant"]],
                        line=dict(width=2, color=[("#444" if s == "All users" else colours.get(s, "#888"))
                                                  for s in cells.index])),
            error_x=dict(type="data", symmetric=False, array=cells["effect_high"] - cells["effect"],
                         arrayminus=cells["effect"] - cells["effect_low"], color="#666", thickness=1.2, width=4),
            customdata=np.column_stack([cells["q"].fillna(1.0)]),
            hovertemplate=f"%{{y}}: %{{x:+{fmt}}} (q = %{{customdata[0]:.2g}})<extra></extra>"), row=r, col=c)
        fig.add_vline(x=0, line_dash="dash", line_color="#999", row=r, col=c)
        fig.update_xaxes(tickformat=f"+{fmt}", row=r, col=c)
        fig.update_yaxes(autorange="reversed", row=r, col=c)
    fig.update_layout(height=max(260, 40 * len(scopes)) * rows + 60, margin=dict(l=10, r=10, t=60, b=10),
                      title=f"Effect of {variant} against the control (95% intervals; filled: holds up after "
                            "correction)")
    return safe(fig)


def experiment_table(effects: pd.DataFrame, kpi_labels: dict[str, str], variant: str, units: dict[str, str],
                     currency: Currency | None = None) -> pd.DataFrame:
    """A row per KPI and a column per scope (all users first): the variant's effect against the control with
    its interval, ▲ or ▼ where it holds up after correction, or why there is none."""
    part = effects[effects["variant"] == variant]
    scopes = list(dict.fromkeys(["All users", *part["scope"]]))
    cells = part.set_index(["scope", "kpi"])
    rows = {}
    for k, label in kpi_labels.items():
        row = []
        for s in scopes:
            if (s, k) not in cells.index:
                row.append("")
                continue
            c = cells.loc[(s, k)]
            if pd.isna(c["effect"]):
                row.append("not enough data" if isinstance(c["reason"], str) else "–")
                continue
            unit = units.get(k, "rate")

            def show(v, unit=unit):
                return kpi_value(v, unit, currency) if unit != "rate" else f"{v * 100:+.1f} pp"

            mark = (" ▲" if c["effect"] > 0 else " ▼") if bool(c["significant"]) else ""
            sign = "" if unit == "rate" or c["effect"] < 0 else "+"
            row.append(f"{sign}{show(c['effect'])} ({show(c['effect_low'])} to {show(c['effect_high'])}){mark}")
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index", columns=scopes).rename_axis("KPI").reset_index()
