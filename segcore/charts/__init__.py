"""Charts: the plotly figures every page of the app and the shared report draw (no Streamlit here).

Every label drawn from users or data passes through :func:`safe` (plotly reads a few HTML tags in labels).
"""

from ._figures import (
    MAX_SCATTER_POINTS,
    box_by_persona,
    colour_map,
    composition_bars,
    contrast_rows,
    correlation_heatmap,
    crosstab_heatmap,
    dendrogram_figure,
    histogram,
    impact_heatmap,
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
from ._kpis import experiment_forest, experiment_table, kpi_grid, kpi_table, kpi_trend_lines, kpi_value

__all__ = ["MAX_SCATTER_POINTS", "box_by_persona", "colour_map", "composition_bars", "contrast_rows",
           "correlation_heatmap", "crosstab_heatmap", "dendrogram_figure", "experiment_forest", "experiment_table",
           "histogram", "impact_heatmap", "kpi_grid", "kpi_table", "kpi_trend_lines", "kpi_value", "label",
           "map_overview", "pca_axis_titles", "plain", "safe", "scatter", "separation_bars", "silhouette_knife",
           "size_bars", "sweep_figures", "sweep_sizes", "zscore_heatmap"]
