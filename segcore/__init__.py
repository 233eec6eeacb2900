"""Persona Lab core library: data in, persona-labelled segments out. No UI code lives here.

Names are imported on first use (PEP 562), so ``import segcore`` is cheap: the app and
``segcore --help`` start without loading scikit-learn, SciPy or UMAP.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from .errors import InputError, NotFoundError, SegcoreError, StoreBusyError  # noqa: E402  (light)

# public name -> module that defines it
_LAZY = {
    "ALGORITHMS": "cluster", "SweepResult": "cluster", "fit": "cluster", "parse_k_range": "cluster",
    "recommend_k": "cluster", "sweep": "cluster",
    "FeatureInfo": "features", "catalog": "features", "default_features": "features",
    "EVENT_ROLES": "ingest", "ImportReport": "ingest", "import_file": "workflow", "import_sample": "workflow",
    "open_store": "workflow", "propose_mapping": "ingest",
    "segment_kpis": "kpi", "PALETTE": "personas", "suggest_personas": "personas", "detect_pii": "pii",
    "Preprocessing": "preprocess", "prepare": "preprocess", "Profiles": "profile", "profile_clusters": "profile",
    "Store": "store", "default_store_path": "store",
    "create_run": "workflow", "create_rfm_run": "workflow", "default_selection": "workflow",
    "design_matrix": "workflow", "export_run": "workflow", "feature_catalog": "workflow",
    "run_explanation": "workflow", "run_kpis": "workflow", "run_matrix": "workflow", "run_profiles": "workflow",
    "run_projection": "workflow", "run_sweep": "workflow", "run_fairness": "workflow",
    "feature_separation": "explain", "segment_rules": "explain",
}
_SUBMODULES = {"cluster", "compare", "dendrogram", "explain", "export", "fairness", "features", "ingest", "kpi",
               "maps", "personas", "pii", "preprocess", "profile", "projection", "quality", "sample", "stability",
               "store",
               "suggest", "workflow", "cli"}

__all__ = ["InputError", "NotFoundError", "SegcoreError", "StoreBusyError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'segcore' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
