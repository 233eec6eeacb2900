"""The steps a user takes, wired over the store: one engine for the app, the command line and the service.

This is the one layer that takes a :class:`~segcore.store.Store`: it reads what a step needs from the
store (one connection per step's reads, see :meth:`Store.session`), calls the pure rooms (ingest,
preprocess, methods, profiles, KPIs, fairness, disclosure) and writes their results back.
"""

from ._features import default_selection, feature_advice, feature_catalog, feature_correlations
from ._imports import import_file, import_sample, open_store
from ._report import build_dp_report, build_report
from ._review import compare_runs, quality_report
from ._runs import (
                    Design,
                    RunMatrix,
                    create_rfm_run,
                    create_run,
                    design_matrix,
                    export_run,
                    library_versions,
                    run_explanation,
                    run_fairness,
                    run_kpis,
                    run_matrix,
                    run_profiles,
                    run_projection,
                    run_sample,
                    run_silhouettes,
                    run_summaries,
                    run_sweep,
)
from ._stakeholders import experiment_columns, run_cards, run_experiment, run_kpi_trends

__all__ = ["Design", "RunMatrix", "feature_catalog", "default_selection", "feature_advice", "feature_correlations",
           "design_matrix", "run_sweep", "create_run", "run_matrix", "create_rfm_run", "run_profiles", "run_sample",
           "run_summaries", "run_explanation", "run_projection", "run_silhouettes", "run_kpis", "run_cards",
           "run_kpi_trends", "run_experiment", "experiment_columns", "build_report", "build_dp_report", "run_fairness",
           "export_run", "library_versions", "import_file", "import_sample", "open_store", "quality_report",
           "compare_runs"]
