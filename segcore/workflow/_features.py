"""The features step: which a dataset offers, which are chosen by default, and what to know about them
before clustering (suggestions, rank correlations), read from samples where a sample tells the same."""

from __future__ import annotations

import pandas as pd

from ..distribution import CORRELATION_SAMPLE, rank_correlations
from ..features import FeatureInfo, catalog, default_features
from ..store import Store
from ..suggest import SAMPLE, feature_suggestions

__all__ = ["feature_catalog", "default_selection", "feature_advice", "feature_correlations"]


def feature_catalog(store: Store, dataset: str) -> list[FeatureInfo]:
    """Candidate features of a dataset, grouped."""
    with store.session():
        return catalog(store.columns(dataset), store.column_stats(dataset))


def default_selection(store: Store, dataset: str) -> tuple[list[str], pd.DataFrame]:
    """The features chosen by default and the suggestions they agree with.

    The candidates are the catalogue's behaviour, value and context features; left out are those
    the suggestions find near-constant, the second of two duplicates, and any missing for more
    than half the users (see :func:`segcore.features.default_features`).
    """
    with store.session():
        stats = store.column_stats(dataset)
        return _default_selection(store, dataset, catalog(store.columns(dataset), stats), stats)


def _default_selection(store: Store, dataset: str, infos: list[FeatureInfo],
                       stats: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    candidates = default_features(infos)
    numeric = [f.name for f in infos if f.name in candidates and f.kind == "numeric"]
    # the suggestions look at a sample of users: read only that (at a million users, reading every one
    # cost about a second and half a gigabyte)
    frame = store.read_table(dataset, "features", numeric, sample=SAMPLE) if numeric else pd.DataFrame()
    advice = feature_suggestions(frame, numeric)
    missing = dict(zip(stats["column_name"], stats["null_percentage"] / 100))
    return default_features(infos, advice, missing), advice


def feature_advice(store: Store, dataset: str, numeric: list[str]) -> pd.DataFrame:
    """:func:`segcore.suggest.feature_suggestions` for the chosen numeric features, on the seeded sample of
    ``suggest.SAMPLE`` users it looks at, read as such (not the whole table)."""
    frame = store.read_table(dataset, "features", list(numeric), sample=SAMPLE) if numeric else pd.DataFrame()
    return feature_suggestions(frame, list(numeric))


def feature_correlations(store: Store, dataset: str, numeric: list[str]) -> tuple[pd.DataFrame, int | None]:
    """Spearman correlations of the chosen numeric features on a seeded sample of at most
    ``distribution.CORRELATION_SAMPLE`` users read as such, and that sample's size (None: every user)."""
    with store.session():
        users = store.dataset(dataset).n_users
        frame = store.read_table(dataset, "features", list(numeric), sample=CORRELATION_SAMPLE)
    corr, _ = rank_correlations(frame)
    return corr, (len(frame) if len(frame) < users else None)
