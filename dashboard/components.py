"""What the pages share besides the charts: text for Streamlit's markdown, and map selections.

The charts are :mod:`segcore.charts`, which the shared report draws too.
"""

from __future__ import annotations

import re

from segcore.charts import (  # the charts, re-exported: a page reaches all it draws through components
    MAX_SCATTER_POINTS,
    box_by_persona,
    colour_map,
    composition_bars,
    contrast_rows,
    correlation_heatmap,
    crosstab_heatmap,
    dendrogram_figure,
    experiment_forest,
    experiment_table,
    histogram,
    impact_heatmap,
    kpi_grid,
    kpi_table,
    kpi_trend_lines,
    kpi_value,
    label,
    map_overview,
    pca_axis_titles,
    plain,
    safe,
    scatter,
    separation_bars,
    silhouette_knife,
    size_bars,
    sweep_figures,
    sweep_sizes,
    zscore_heatmap,
)

__all__ = ["md", "selection_regions", "MAX_SCATTER_POINTS", "box_by_persona", "colour_map", "composition_bars",
           "contrast_rows", "correlation_heatmap", "crosstab_heatmap", "dendrogram_figure", "experiment_forest",
           "experiment_table", "histogram", "impact_heatmap", "kpi_grid", "kpi_table", "kpi_trend_lines", "kpi_value",
           "label", "map_overview", "pca_axis_titles", "plain", "safe", "scatter", "separation_bars",
           "silhouette_knife", "size_bars", "sweep_figures", "sweep_sizes", "zscore_heatmap"]

# Text from users or data (persona names and descriptions, column names, category values, file names,
# messages quoting them) is shown as written: never read as markdown, HTML, LaTeX or a Streamlit
# directive. Streamlit's markdown takes a backslash before any ASCII punctuation as that character.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def md(text) -> str:
    """``text`` for anything Streamlit renders as markdown (st.markdown, st.caption, st.info, st.error,
    widget labels, ...): every character shown as written."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def selection_regions(event) -> tuple:
    """The boxes and lassos of a plotly selection event, as ``segcore.maps.in_regions`` takes them
    (hashable, so a selection can key a cache)."""
    if not event or not event.selection:
        return ()
    sel = event.selection
    boxes = [("box", tuple(b["x"]), tuple(b["y"])) for b in sel.get("box", []) if "x" in b and "y" in b]
    # a click with the lasso tool leaves a "lasso" of one or two points: not an area, so not a selection
    lassos = [("lasso", tuple(r["x"]), tuple(r["y"])) for r in sel.get("lasso", [])
              if "y" in r and len(r.get("x", ())) >= 3]
    return tuple(boxes + lassos)
