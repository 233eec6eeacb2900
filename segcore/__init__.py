"""Persona Lab core library: data in, persona-labelled segments out. No UI code lives here."""

__version__ = "0.1.0"

from .cluster import ALGORITHMS, SweepResult, fit, parse_k_range, recommend_k, sweep  # noqa: E402
from .errors import InputError, NotFoundError, SegcoreError, StoreBusyError  # noqa: E402
from .features import FeatureInfo, catalog, default_features  # noqa: E402
from .ingest import EVENT_ROLES, ImportReport, import_file, import_sample, open_store, propose_mapping  # noqa: E402
from .kpi import segment_kpis  # noqa: E402
from .personas import PALETTE, suggest_personas  # noqa: E402
from .pii import detect_pii  # noqa: E402
from .preprocess import Preprocessing, prepare  # noqa: E402
from .profile import Profiles, profile_clusters  # noqa: E402
from .store import Store, default_store_path  # noqa: E402
from .workflow import (  # noqa: E402
    create_run, design_matrix, export_run, feature_catalog, run_explanation, run_kpis, run_matrix, run_profiles,
    run_projection, run_sweep,
)
from .explain import feature_separation, segment_rules  # noqa: E402

__all__ = [
    "ALGORITHMS", "EVENT_ROLES", "FeatureInfo", "ImportReport", "InputError", "NotFoundError", "PALETTE",
    "Preprocessing", "Profiles", "SegcoreError", "Store", "StoreBusyError", "SweepResult", "catalog",
    "create_run", "default_features", "default_store_path", "design_matrix", "detect_pii", "export_run",
    "feature_catalog", "feature_separation", "fit", "import_file", "import_sample", "open_store", "parse_k_range", "prepare",
    "profile_clusters", "propose_mapping", "recommend_k", "run_explanation", "run_kpis", "run_matrix", "run_profiles",
    "run_projection", "run_sweep", "segment_kpis", "segment_rules", "suggest_personas", "sweep",
]
