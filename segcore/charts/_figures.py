"""The charts of every page and of the report: plotly figures, every label from users or data escaped."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..features import Currency, describe_feature, format_value

MAX_SCATTER_POINTS = 50_000
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=360)

def plain(text) -> str:
    """``text`` for a plotly chart, which reads a few HTML tags (links among them) in its labels."""
    return html.escape(str(text), quote=False)


def _plain_values(values):
    if isinstance(values, str):
        return plain(values)
    if values is None or isinstance(values, (int, float)):
        return values
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind not in "OU" or not any(isinstance(v, str) for v in arr.ravel()):
        return values
    return [plain(v) if isinstance(v, str) else v for v in arr.tolist()]


def safe(fig: go.Figure) -> go.Figure:
    """Escape every label a chart draws from users or data (trace names, category values, texts, titles,
    tick texts); hover templates are ours and keep their tags. Each chart passes through this once."""
    for trace in fig.data:
        for attr in ("name", "x", "y", "text", "legendgroup"):
            if attr in trace and trace[attr] is not None:
                trace[attr] = _plain_values(trace[attr])
    layout = fig.layout
    if layout.title.text:
        layout.title.text = plain(layout.title.text)
    for axis in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
        ax = layout[axis]
        if ax.title.text:
            ax.title.text = plain(ax.title.text)
        if ax.ticktext is not None:
            ax.ticktext = _plain_values(ax.ticktext)
    for note in layout.annotations:
        if note.text:
            note.text = plain(note.text)
    return fig


def label(feature: str) -> str:
    if "=" in feature:
        return feature
    return describe_feature(feature).label


def colour_map(personas: pd.DataFrame) -> dict[str, str]:
    return dict(zip(personas["name"], personas["colour"]))


def sweep_figures(table: pd.DataFrame, recommended_k: int, knee_k: int | None) -> tuple[go.Figure, go.Figure]:
    """Elbow (inertia) and silhouette by k, the recommended k marked on both."""
    figs = []
    for col, title, ytitle in (("inertia", "Elbow: within-segment spread", "inertia (lower is tighter)"),
                               ("silhouette", "Silhouette: separation", "silhouette (higher is better)")):
        fig = go.Figure(go.Scatter(x=table["k"], y=table[col], mode="lines+markers", name=col,
                                   line=dict(color="#332288"), hovertemplate="k=%{x}<br>%{y:.4g}<extra></extra>"))
        fig.add_vline(x=recommended_k, line_dash="dash", line_color="#CC6677",
                      annotation_text=f"recommended k={recommended_k}", annotation_position="top")
        if col == "inertia" and knee_k is not None and knee_k != recommended_k:
            fig.add_vline(x=knee_k, line_dash="dot", line_color="#888888", annotation_text=f"elbow k={knee_k}",
                          annotation_position="bottom right")
        fig.update_layout(title=title, xaxis_title="k (number of segments)", yaxis_title=ytitle, **_LAYOUT)
        fig.update_xaxes(dtick=1)
        figs.append(fig)
    return figs[0], figs[1]


def pca_axis_titles(info: dict) -> tuple[str, str]:
    """What each PCA axis means: its share of the variance and the features that load most on it, with the
    direction in which they grow (a PCA stored before loadings were kept gets the shares alone)."""
    shares = info.get("explained_variance_ratio", [0.0, 0.0])
    loadings = info.get("loadings") or [[], []]
    titles = []
    for i in range(2):
        parts = ", ".join(f"{label(name)} {'↑' if weight > 0 else '↓'}" for name, weight in loadings[i])
        titles.append(f"Axis {i + 1} ({shares[i]:.0%} of the variance)" + (f": {parts}" if parts else ""))
    return titles[0], titles[1]


def scatter(points: pd.DataFrame, sizes: dict[str, int], colours: dict[str, str], hover: list[str], title: str,
            image: tuple, axes: tuple[str, str] = ("", "")) -> go.Figure:
    """The map: ``image`` (a PNG data URI and its x0, x1, y0, y1, from data.map_image) shows every user;
    on top, ``points`` as SVG dots with one trace per persona, to hover. A box or lasso drawn on it is
    answered from every user's position (data.map_selection), not from the dots. SVG, not WebGL: a
    browser without a GPU sets up a WebGL canvas far more slowly than it draws a few thousand dots.

    ``sizes``: users per persona, for the legend (the dots are only a sample of them); ``axes``: the axes'
    titles.
    """
    uri, x0, x1, y0, y1 = image
    fig = go.Figure()
    values = "".join(f"<br>{plain(label(h))}: %{{customdata[{i}]:.3~g}}" for i, h in enumerate(hover))
    for name, part in points.groupby("persona", sort=True):
        # numbers only, as a float32 array: plotly sends it as binary
        custom = np.column_stack([part[h].to_numpy(dtype=np.float32) for h in hover]) if hover else None
        fig.add_trace(go.Scatter(x=part["x"].to_numpy(np.float32), y=part["y"].to_numpy(np.float32),
                                 mode="markers", name=f"{name} ({sizes.get(name, len(part)):,})",
                                 marker=dict(size=5, opacity=0.9, color=colours.get(name, "#888888"),
                                             line=dict(width=0.5, color="white")),
                                 customdata=custom,
                                 hovertemplate=f"<b>{plain(name)}</b>{values}<extra></extra>"))
    fig.add_layout_image(source=uri, xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
                         sizing="stretch", layer="below")
    fig.update_layout(title=title, height=560, margin=dict(l=10, r=10, t=40, b=10), dragmode="lasso",
                      # the legend names the colours; hiding a persona's dots would leave its shading
                      legend=dict(itemsizing="constant", itemclick=False, itemdoubleclick=False),
                      xaxis=dict(range=[x0, x1], title=dict(text=axes[0], font=dict(size=12)), automargin=True),
                      yaxis=dict(range=[y0, y1], title=dict(text=axes[1], font=dict(size=12)), automargin=True))
    return safe(fig)


def map_overview(image: tuple, centres: pd.DataFrame, colours: dict[str, str], title: str,
                 axes: tuple[str, str] = ("", "")) -> go.Figure:
    """The map for a report: ``image`` (as for :func:`scatter`) shows every placed user, and each persona
    is marked at the centre of its users (``centres``: persona, x, y, users). No single user is drawn."""
    uri, x0, x1, y0, y1 = image
    fig = go.Figure()
    for r in centres.itertuples():
        fig.add_trace(go.Scatter(x=[r.x], y=[r.y], mode="markers+text", name=f"{r.persona} ({r.users:,})",
                                 text=[str(r.persona)], textposition="top center",
                                 marker=dict(size=16, color=colours.get(r.persona, "#888888"), symbol="diamond",
                                             line=dict(width=1.5, color="black")),
                                 hovertemplate=f"<b>{plain(r.persona)}</b>: centre of its {r.users:,} users"
                                               "<extra></extra>"))
    fig.add_layout_image(source=uri, xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0, sizey=y1 - y0,
                         sizing="stretch", layer="below")
    fig.update_layout(title=title, height=520, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis=dict(range=[x0, x1], title=dict(text=axes[0], font=dict(size=12)), automargin=True),
                      yaxis=dict(range=[y0, y1], title=dict(text=axes[1], font=dict(size=12)), automargin=True))
    return safe(fig)


def zscore_heatmap(z: pd.DataFrame, names: pd.Series) -> go.Figure:
    """Standardised cluster means: rows personas, columns features, red above average, blue below."""
    labels_y = [f"{names.get(c, c)}" for c in z.index]
    fig = go.Figure(go.Heatmap(z=z.to_numpy(), x=[label(c) for c in z.columns], y=labels_y, zmid=0,
                               zmin=-2.5, zmax=2.5, colorscale="RdBu_r",
                               colorbar=dict(title="sd from<br>average"),
                               hovertemplate="%{y}<br>%{x}: %{z:+.2f} sd<extra></extra>"))
    fig.update_layout(title="How each segment differs from the average user (standard deviations)",
                      height=max(300, 60 * len(z) + 160), margin=dict(l=10, r=10, t=40, b=10),
                      yaxis=dict(autorange="reversed"))  # first segment on top, as in every table
    fig.update_xaxes(tickangle=-40)
    return safe(fig)


def size_bars(sizes: pd.DataFrame, names: pd.Series, colours: dict[str, str]) -> go.Figure:
    df = sizes.reset_index().assign(persona=lambda d: d["cluster"].map(names))
    df = df.sort_values("size")
    fig = go.Figure(go.Bar(x=df["size"], y=df["persona"], orientation="h",
                           marker_color=[colours.get(p, "#888888") for p in df["persona"]],
                           text=[f"{s:,} ({sh:.0%})" for s, sh in zip(df["size"], df["share"])],
                           textposition="auto", hovertemplate="%{y}: %{x:,} users<extra></extra>"))
    fig.update_layout(title="Segment sizes", xaxis_title="users", **_LAYOUT)
    return safe(fig)


def impact_heatmap(table: pd.DataFrame, threshold: float) -> go.Figure:
    """Impact ratio per segment (rows) and group (columns); cells below the threshold marked."""
    grid = table.pivot(index="segment", columns="group", values="impact_ratio")
    flagged = table.pivot(index="segment", columns="group", values="flagged").reindex_like(grid)
    # rounded down, so that a flagged 0.797 reads 0.79 below the rule's 0.80 (and 0.8 itself reads 0.80)
    text = [[("" if pd.isna(v) else f"{math.floor(v * 100 + 1e-6) / 100:.2f}")
             + (" ⚑" if isinstance(f, (bool, np.bool_)) and f else "")
             for v, f in zip(rv, rf)]
            for rv, rf in zip(grid.to_numpy(), flagged.to_numpy())]
    # red below the threshold, white at it, blue at parity: the colour says where the rule fails
    scale = [[0, "#b2182b"], [threshold * 0.999, "#f4a582"], [threshold, "#f7f7f7"], [1, "#4393c3"]]
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[str(c) for c in grid.columns], y=list(grid.index),
                               zmin=0, zmax=1, colorscale=scale, text=text, texttemplate="%{text}",
                               colorbar=dict(title="impact<br>ratio"),
                               hovertemplate="%{y}<br>%{x}: %{z:.2f} of the most-selected group's rate"
                                             "<extra></extra>"))
    fig.update_layout(title=f"Selection rate relative to the most-selected group (⚑ below {threshold:g} beyond chance)",
                      height=max(300, 50 * len(grid) + 160), margin=dict(l=10, r=10, t=40, b=10),
                      yaxis=dict(autorange="reversed"))
    return safe(fig)


def composition_bars(table: pd.DataFrame) -> go.Figure:
    """Each segment's make-up by group next to the population's, as stacked shares."""
    pop = table.drop_duplicates("group").set_index("group")["population_share"]
    rows = [("All users", g, v) for g, v in pop.items()]
    rows += [(r.segment, r.group, r.segment_share) for r in table.itertuples()]
    df = pd.DataFrame(rows, columns=["segment", "group", "share"])
    fig = go.Figure()
    for g in pop.index:
        part = df[df["group"] == g]
        fig.add_trace(go.Bar(y=part["segment"], x=part["share"], name=str(g), orientation="h",
                             hovertemplate="%{y}: %{x:.1%} " + plain(g) + "<extra></extra>"))
    fig.update_layout(barmode="stack", title="Composition of each segment against all users",
                      xaxis=dict(tickformat=".0%", range=[0, 1]), yaxis=dict(autorange="reversed"),
                      height=max(300, 40 * (df["segment"].nunique()) + 160), margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.15))
    return safe(fig)


def histogram(counts: np.ndarray, edges: np.ndarray, title: str) -> go.Figure:
    """Bins counted on the server: the browser gets 50 bars, not a million values."""
    fig = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), marker_color="#332288",
                           hovertemplate="%{x:.3g}: %{y:,} users<extra></extra>"))
    fig.update_layout(title=title, yaxis_title="users", bargap=0.02, **_LAYOUT)
    return safe(fig)


def correlation_heatmap(corr: pd.DataFrame, sampled: int | None = None) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=corr.to_numpy(), x=[label(c) for c in corr.columns],
                               y=[label(c) for c in corr.index], zmin=-1, zmax=1, colorscale="RdBu_r",
                               hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>"))
    on = f" on a sample of {sampled:,} users" if sampled else ""
    fig.update_layout(title=f"Rank correlation between chosen features (Spearman{on})",
                      height=max(380, 22 * len(corr) + 200), margin=dict(l=10, r=10, t=40, b=10))
    return safe(fig)


def box_by_persona(frame: pd.DataFrame, feature: str, colours: dict[str, str]) -> go.Figure:
    """Box per segment from quartiles computed here (Tukey's fences), so the browser gets five numbers
    per segment instead of every user's value."""
    fig = go.Figure()
    for name, part in frame.groupby("persona", sort=True):
        v = part[feature].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if not len(v):
            continue
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        iqr = q3 - q1
        lo, hi = v[v >= q1 - 1.5 * iqr].min(), v[v <= q3 + 1.5 * iqr].max()
        fig.add_trace(go.Box(x=[name], q1=[q1], median=[med], q3=[q3], lowerfence=[lo], upperfence=[hi],
                             mean=[v.mean()], name=name, marker_color=colours.get(name, "#888")))
    fig.update_layout(title=f"{label(feature)} by segment", showlegend=False, **_LAYOUT)
    return safe(fig)


def separation_bars(separation: pd.DataFrame) -> go.Figure:
    """Features ranked by how strongly they separate the segments (ANOVA F)."""
    df = separation.iloc[::-1]
    fig = go.Figure(go.Bar(x=df["f_statistic"], y=[label(f) for f in df["feature"]], orientation="h",
                           marker_color="#332288", hovertemplate="%{y}: F = %{x:,.0f}<extra></extra>"))
    fig.update_layout(title="What separates the segments most", xaxis_title="between / within variance (F)",
                      height=max(300, 28 * len(df) + 120), margin=dict(l=10, r=10, t=40, b=10))
    return safe(fig)


def silhouette_knife(values: pd.DataFrame, names: pd.Series, colours: dict[str, str]) -> go.Figure:
    """Each user's silhouette, sorted within its segment: thin or negative blades are weak segments.

    Each blade is one filled outline through at most 200 quantiles of its sorted values (the same
    shape as a bar per user, which made thousands of SVG bars slow to draw)."""
    fig = go.Figure()
    y0, gap = 0, max(20, len(values) // 100)
    ticks, labels = [], []
    for c, part in values.groupby("cluster", sort=True):
        v = np.sort(part["silhouette"].to_numpy())
        name = names.get(c, str(c))
        at = np.linspace(0, len(v) - 1, min(len(v), 200))
        x = np.interp(at, np.arange(len(v)), v)
        y = y0 + at
        fig.add_trace(go.Scatter(x=np.r_[0, x, 0], y=np.r_[y[0], y, y[-1]], fill="toself", mode="lines",
                                 name=name, line=dict(width=0.5, color=colours.get(name, "#888888")),
                                 showlegend=False,
                                 hovertemplate=f"{plain(name)}: mean silhouette {v.mean():.2f}<extra></extra>"))
        # each blade named beside it, with its mean
        ticks.append(y0 + (len(v) - 1) / 2)
        labels.append(f"{name} ({v.mean():.2f})")
        y0 += len(v) + gap
    mean = values["silhouette"].mean()
    fig.add_vline(x=mean, line_dash="dash", line_color="#444")
    fig.add_annotation(x=mean, y=1, yref="paper", yanchor="bottom", showarrow=False, text=f"mean {mean:.2f}")
    fig.update_layout(title="Silhouette of each user, by segment (right of 0: closer to its own segment)",
                      xaxis_title="silhouette", **{**_LAYOUT, "margin": dict(l=10, r=10, t=70, b=10)},
                      # the whole of the top and bottom blades, with a little room around them
                      yaxis=dict(tickvals=ticks, ticktext=labels, range=[-gap / 2, y0 - gap / 2], automargin=True))
    return safe(fig)


def dendrogram_figure(tree: dict) -> go.Figure:
    """Draw scipy's dendrogram layout: the higher two groups merge, the less alike they are."""
    fig = go.Figure()
    for xs, ys in zip(tree["icoord"], tree["dcoord"]):
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#332288", width=1.5),
                                 hoverinfo="skip", showlegend=False))
    ticks = [5 + 10 * i for i in range(len(tree["leaves"]))]
    fig.update_layout(title=f"Ward merge tree (top {len(tree['leaves'])} groups of a {tree['sample']:,}-user sample)",
                      yaxis_title="merge distance", xaxis=dict(tickvals=ticks, ticktext=tree["leaves"], tickangle=-60),
                      **_LAYOUT)
    return safe(fig)


def crosstab_heatmap(crosstab: pd.DataFrame) -> go.Figure:
    """Where run A's segments went in run B: each row's users as shares of the row, counts on hover."""
    share = crosstab.div(crosstab.sum(axis=1), axis=0)
    cells = [[f"{n:,} · {s:.0%}" for n, s in zip(nr, sr)] for nr, sr in zip(crosstab.to_numpy(), share.to_numpy())]
    fig = go.Figure(go.Heatmap(z=share.to_numpy(), x=list(share.columns), y=list(share.index), zmin=0, zmax=1,
                               colorscale="Blues", customdata=crosstab.to_numpy(), text=cells,
                               texttemplate="%{text}",
                               hovertemplate="%{y} → %{x}: %{customdata:,} users (%{z:.0%} of the row)<extra></extra>"))
    fig.update_layout(title="Where run A's segments went in run B (share of each row)", xaxis_title="Run B",
                      yaxis_title="Run A", height=max(320, 50 * len(share) + 160), margin=dict(l=10, r=10, t=40, b=10),
                      yaxis=dict(autorange="reversed"))
    return safe(fig)


def contrast_rows(differences: pd.DataFrame, reference: str = "Everyone",
                  currency: Currency | None = None) -> pd.DataFrame:
    """A selection against a reference group (``segcore.profile.contrast``), a row per feature: a category's
    values are shares of users, shown as percentages; a number's are means, in the feature's own units; the
    ratio says how many times the reference's value the selection's is."""
    def shown(feature: str, value: float) -> str:
        return format_value(value, "share" if "=" in feature else describe_feature(feature).unit, currency)

    def times(selected: float, base: float) -> str:
        # a ratio reads only between positive values ("0.2x" of a negative mean means nothing)
        return f"{selected / base:.2g}x" if pd.notna(selected) and pd.notna(base) and selected >= 0 and base > 0 \
            else ""

    return pd.DataFrame({
        "What they share": [label(f) for f in differences.index],
        "Selected": [shown(f, v) for f, v in zip(differences.index, differences["selected"], strict=True)],
        reference: [shown(f, v) for f, v in zip(differences.index, differences["reference"], strict=True)],
        "Ratio": [times(a, b) for a, b in zip(differences["selected"], differences["reference"], strict=True)],
        "Difference (sd)": differences["z"].to_numpy()})


def sweep_sizes(sizes: dict[int, list[int]], n_users: int, recommended_k: int) -> go.Figure:
    """The segments each k of a sweep would give, largest first, as shares of the users: a k whose
    smallest segment is a sliver shows at a glance."""
    fig = go.Figure()
    longest = max(len(v) for v in sizes.values())
    for rank in range(longest):
        ks = [k for k, v in sizes.items() if len(v) > rank]
        users = [sizes[k][rank] for k in ks]
        fig.add_trace(go.Bar(y=[f"k={k}" + (" (recommended)" if k == recommended_k else "") for k in ks],
                             x=[u / n_users for u in users], orientation="h", showlegend=False,
                             marker=dict(color=PALETTE_SIZES[rank % len(PALETTE_SIZES)],
                                         line=dict(color="#ffffff", width=1)),
                             customdata=users, hovertemplate="%{customdata:,} users (%{x:.1%})<extra></extra>"))
    fig.update_layout(barmode="stack", title="Segment sizes at each k, largest first", xaxis=dict(tickformat=".0%"),
                      yaxis=dict(autorange="reversed"), height=max(220, 34 * len(sizes) + 120),
                      margin=dict(l=10, r=10, t=40, b=10))
    return safe(fig)


PALETTE_SIZES = ("#332288", "#4477AA", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677",
                 "#882255", "#AA4499", "#6699CC", "#888888")

