"""Cached loaders over segcore: the only place pages read data from (they write through dashboard.actions).

Runs are immutable, so anything keyed by run id caches forever. Dataset-level results are keyed by
the dataset's version (its creation time) as well (:func:`by_dataset`), so a re-import under the same
name never serves stale features. Persona names are read fresh (a tiny query) because the Personas
page edits them. Loaders compute nothing themselves: each calls segcore and keeps the answer.
"""

from __future__ import annotations

import functools
import os

import streamlit as st

import segcore
from segcore.preprocess import Preprocessing

from . import keys


# One Store object per process: it holds only the path (connections are short-lived, see segcore.store).
@st.cache_resource(show_spinner="Opening the store (a new store is seeded with the sample)...")
def store() -> segcore.Store:
    return segcore.open_store()


def new_script_run() -> None:
    """Called by app.py at the top of every rerun (and by an action after a write): forget the answers of
    the previous one."""
    st.session_state[keys.RUN_MEMO] = {}


def _once_per_run(key: tuple, ask):
    """Ask the store once per script run: the sidebar, the page and the cached loaders all need the
    dataset and run lists, and every question opens a connection (see segcore.store)."""
    memo = st.session_state.setdefault(keys.RUN_MEMO, {})
    if key not in memo:
        memo[key] = ask()
    return memo[key]


def datasets():
    return _once_per_run(("datasets",), lambda: store().list_datasets())


def version(dataset: str) -> str:
    """When the dataset was (re)imported: part of every cache key, so a re-import is never served stale."""
    row = datasets().loc[lambda d: d["name"] == dataset, "created_at"]
    return str(row.iloc[0]) if len(row) else str(store().dataset(dataset).created_at)  # raises NotFoundError


def by_dataset(max_entries: int = 32, spinner: str | bool = False):
    """Cache a loader ``f(dataset, *args)`` by its arguments and the dataset's version (:func:`version`);
    ``spinner``: what the page says while it computes (Streamlit shows it after half a second). Each loader
    gets a cache of its own: Streamlit keys a cache by the function's qualified name and source, which are
    the same for every function this decorator makes, so each is given its loader's name."""
    def wrap(fn):
        def cached(version_key: str, dataset: str, *args):
            return fn(dataset, *args)

        cached.__qualname__ = f"{fn.__qualname__}@version"
        cached = st.cache_data(show_spinner=spinner, max_entries=max_entries)(cached)

        @functools.wraps(fn)
        def loader(dataset: str, *args):
            return cached(version(dataset), dataset, *args)

        loader.clear = cached.clear
        return loader
    return wrap


def runs(dataset: str):
    return _once_per_run(("runs", dataset), lambda: store().list_runs(dataset))


@st.cache_data(show_spinner=False, ttl=60)
def currency():
    """How money is written (the store's setting). Every page's sidebar shows it, so it is kept rather than
    read from the store on every rerun; the app's own change clears it at once
    (actions.set_currency), one made from the command line shows within a minute."""
    return store().currency()


def preferred_run(dataset: str) -> str | None:
    """The run a new session opens: the one last named or pinned, else the newest."""
    return _once_per_run(("preferred_run", dataset), lambda: store().preferred_run(dataset))


def dataset_record(dataset: str):
    """The dataset's record (privacy actions, what its import found), read once per script run."""
    return _once_per_run(("dataset", dataset), lambda: store().dataset(dataset))


def previous_version(dataset: str):
    """The version the last replace set aside, or None."""
    return _once_per_run(("previous", dataset), lambda: store().previous_version(dataset))


def tables(dataset: str) -> list[str]:
    return _once_per_run(("tables", dataset), lambda: store().tables(dataset))


def personas(run_id: str):
    return store().personas(run_id)


@by_dataset(max_entries=64, spinner="Reading the features' statistics...")
def feature_catalog(dataset: str) -> list:
    return segcore.feature_catalog(store(), dataset)


@by_dataset(max_entries=64)
def default_features(dataset: str) -> list[str]:
    return segcore.default_selection(store(), dataset)[0]


def not_built(dataset: str) -> dict[str, str]:
    """Features the dataset's log could not support, each with what it would need (from its import)."""
    return dataset_record(dataset).left_out


@by_dataset()
def _table(dataset: str, role: str, columns: tuple | None, limit: int | None):
    return store().read_table(dataset, role, list(columns) if columns else None, limit)


def table(dataset: str, role: str = "features", columns=None, limit=None):
    return _table(dataset, role, tuple(columns) if columns else None, limit)


@st.cache_data(show_spinner=False, max_entries=8)
def upload_preview(path: str, overrides: tuple = ()):
    """An uploaded file inspected (with the user's CSV overrides) and its first 500 rows.

    Cached per saved upload: every widget on the Data page reruns the script, and re-reading the file
    and proposing roles from its contents took about 0.4 s each time.
    """
    info = segcore.ingest.inspect_file(path, dict(overrides) or None)
    return info, segcore.ingest.peek_file(info, n=500)


@st.cache_data(show_spinner=False, max_entries=8)
def event_values(path: str, overrides: tuple, column: str, amount: str | None):
    """The upload's event types with their counts, over the whole file (a rare purchase type is not in
    the preview's first rows)."""
    info, _ = upload_preview(path, overrides)
    return segcore.ingest.event_values(info, column, amount)


@st.cache_data(show_spinner=False, max_entries=8)
def repeated_ids(path: str, overrides: tuple, column: str) -> int:
    info, _ = upload_preview(path, overrides)
    return segcore.ingest.repeated_ids(info, column)


@st.cache_data(show_spinner=False, max_entries=8)
def proposed_aggregates(path: str, overrides: tuple, mapping: tuple) -> dict:
    """What the import would keep per user of the columns no role takes (see segcore.ingest)."""
    _, head = upload_preview(path, overrides)
    return segcore.ingest.propose_aggregates(head, dict(mapping))


@st.cache_data(show_spinner=False, max_entries=8)
def proposed_mapping(path: str, overrides: tuple = ()) -> dict:
    """Event roles proposed from the upload's column names and contents."""
    _, head = upload_preview(path, overrides)
    return segcore.propose_mapping(list(head.columns), head)


@by_dataset(max_entries=64)
def histogram(dataset: str, feature: str):
    """50 bins of one feature over every user (counts and edges)."""
    from segcore.distribution import histogram as bins

    return bins(store().read_table(dataset, "features", [feature])[feature], 50)


@by_dataset(max_entries=16, spinner="Computing rank correlations...")
def _correlations(dataset: str, numeric: tuple):
    return segcore.workflow.feature_correlations(store(), dataset, list(numeric))


def correlations(dataset: str, numeric):
    """Spearman correlations of the chosen numeric features, and the sample size if sampled."""
    return _correlations(dataset, tuple(numeric))


@by_dataset()
def summary(dataset: str, role: str = "features"):
    return store().summarize(dataset, role)


@by_dataset(max_entries=16, spinner="Preprocessing the chosen features...")
def _prepared_report(dataset: str, features: tuple, prep: tuple):
    design = segcore.design_matrix(store(), dataset, list(features), Preprocessing(**dict(prep)))
    return design.prepared.report, design.prepared.X.shape, design.prepared.pca_explained


def prepared_report(dataset: str, features, prep: Preprocessing):
    return _prepared_report(dataset, tuple(features), tuple(prep.as_dict().items()))


def _sweep_key(dataset, features, prep: Preprocessing, ks, algo, seed, params) -> tuple:
    return (dataset, tuple(features), tuple(prep.as_dict().items()), tuple(ks), algo, int(seed),
            tuple(sorted(params.items())), version(dataset))


def cached_sweep(dataset, features, prep: Preprocessing, ks, algo, seed, params):
    """A sweep computed earlier in this session, or None.

    Sweeps live in session state rather than st.cache_data: they report progress to the page while they
    run, and cache_data cannot replay elements drawn into a block created outside the cached function.
    """
    return st.session_state.get(keys.SWEEPS, {}).get(_sweep_key(dataset, features, prep, ks, algo, seed, params))


def sweep(dataset, features, prep: Preprocessing, ks, algo, seed, params, progress=None):
    """Run a sweep (with progress) and keep it for this session."""
    result = segcore.run_sweep(store(), dataset, list(ks), algo=algo, features=list(features),
                               preprocessing=prep, seed=int(seed), params=params, progress=progress)
    sweeps = st.session_state.setdefault(keys.SWEEPS, {})
    if len(sweeps) >= 16:  # bounded: forget the oldest
        sweeps.pop(next(iter(sweeps)))
    sweeps[_sweep_key(dataset, features, prep, ks, algo, seed, params)] = result
    return result


@st.cache_data(show_spinner=False, max_entries=64)
def run(run_id: str):
    return store().run(run_id)  # a run record never changes once stored


@by_dataset()
def columns(dataset: str) -> list[str]:
    return store().columns(dataset)["column_name"].tolist()


@by_dataset()
def segment_columns(dataset: str) -> list[str]:
    """Columns an export can carry: the features, then the users table's others (hashed ids)."""
    return store().segment_columns(dataset)


@by_dataset()
def user_attributes(dataset: str) -> list[str]:
    """Columns that say who a user is (the catalogue's attributes, then the users table's other columns),
    without hashed identifiers: what a fairness check may take as sensitive."""
    catalogue = feature_catalog(dataset)  # the cached catalogue: its column statistics are a full scan
    attributes = [f.name for f in catalogue if f.group == "attributes"]
    known = {f.name for f in catalogue} | {"user_id"}
    others = [c for c in store().segment_columns(dataset) if c not in known]
    hashed = store().dataset(dataset).hashed_columns
    return [c for c in attributes + others if c not in hashed]


def hashed_columns(dataset: str) -> set[str]:
    """Columns the import stored as SHA-256 hashes (from the dataset's privacy record)."""
    return dataset_record(dataset).hashed_columns


@st.cache_resource(show_spinner="Loading the run's users and features...", max_entries=2)
def run_matrix(run_id: str):
    """A run's design and aligned assignments (``segcore.run_matrix``), rebuilt once per server and
    shared, never copied: st.cache_data would pickle a million rows on every read, and profiles,
    silhouettes, projections and the samples below all start from it. Callers must not change it."""
    return segcore.run_matrix(store(), run_id)


DESIGN_SAMPLE = 50_000
# The Explore map shows every placed user as an image (segcore.maps) and MAP_DOTS of them as dots to
# hover. Measured at 1M users in headless Chromium without a GPU: the page revisited in 1.19 s with
# 20,000 WebGL dots over a grey shading, 0.75 s with the image and 2,000 SVG dots (docs/PERFORMANCE.md).
MAP_DOTS = 2_000
MAP_PIXELS = 600  # the image's width at a million users; fewer users get coarser pixels


@st.cache_data(show_spinner=False, max_entries=16)
def run_design(run_id: str):
    """A seeded sample of at most DESIGN_SAMPLE users of the run (raw features and cluster), in random
    order, with the numeric and categorical feature names and the number of users in the run."""
    matrix = run_matrix(run_id)
    design = matrix.design
    return segcore.workflow.run_sample(matrix, DESIGN_SAMPLE), design.numeric, design.categorical, len(design.frame)


@st.cache_data(show_spinner="Profiling the segments...", max_entries=16)
def profiles(run_id: str):
    return segcore.run_profiles(store(), run_id, matrix=run_matrix(run_id))


@st.cache_data(show_spinner="Summarising each segment...", max_entries=16)
def summaries(run_id: str, names: tuple, min_size: int):
    """Every segment as the Profiles page shows it, and the features that separate them (``names``, the
    personas, is part of the key: a renamed persona shows at once)."""
    return segcore.workflow.run_summaries(store(), run_id, min_segment_size=min_size, profiles=profiles(run_id))


UMAP_IN_WORKER = os.environ.get("PERSONA_LAB_UMAP_WORKER", "1") != "0"


@st.cache_resource(show_spinner=False)
def projection_worker():
    """The process UMAP runs in, started once per server: it compiles UMAP in the background."""
    from segcore._projection_worker import ProjectionWorker

    worker = ProjectionWorker()
    worker.start()
    return worker


def warm_up_projections() -> None:
    """Start the UMAP worker (app.py calls this after each page: the first page paints first)."""
    if UMAP_IN_WORKER:
        projection_worker()


def projection(run_id: str, method: str, *, all_users: bool = False, progress=None):
    """Positions of the run's users (stored with the run; UMAP runs in the warmed-up worker and reports
    ``progress(fraction, message)`` while it computes)."""
    umap = projection_worker().umap_2d if method == "umap" and UMAP_IN_WORKER else None
    return segcore.run_projection(store(), run_id, method, all_users=all_users, umap=umap,
                                  matrix=run_matrix(run_id), progress=progress)


def has_projection(run_id: str, method: str) -> bool:
    return store().projection_info(run_id, method) is not None


def projection_info(run_id: str, method: str) -> dict:
    """The stored projection's description ({} before it is computed): a small query, read fresh."""
    return store().projection_info(run_id, method) or {}


@st.cache_resource(show_spinner=False, max_entries=2)
def _map_positions(run_id: str, method: str, placed_version: str = ""):
    """Every user's map position in the rows of the run's design (NaN where not placed), and the
    projection's description. Shared, never copied, like run_matrix; callers must not change it."""
    coords, info = projection(run_id, method)
    design, _ = run_matrix(run_id)
    return segcore.maps.positions_by_row(design.frame["user_id"], coords["user_id"], coords[["x", "y"]]), info


@st.cache_data(show_spinner="Placing users on the map...", max_entries=16)
def map_points(run_id: str, method: str, placed_version: str = ""):
    """The Explore map's dots: a seeded sample of at most MAP_DOTS placed users (position, raw features,
    cluster), with the projection's description, how many users it placed and how many of them each
    cluster holds, and the numeric and categorical feature names.
    ``placed_version`` changes when everyone is placed, so the map is redrawn from the new positions."""
    import numpy as np
    import pandas as pd

    xy, info = _map_positions(run_id, method, placed_version)
    design, aligned = run_matrix(run_id)  # read, not copied: only the dots' rows are taken
    clusters = aligned["cluster"].to_numpy()
    sizes = pd.Series(clusters[~np.isnan(xy[:, 0])]).value_counts()
    placed = segcore.maps.sample_placed(xy, MAP_DOTS)
    points = design.frame.iloc[placed].assign(cluster=clusters[placed], x=xy[placed, 0], y=xy[placed, 1])
    return points.reset_index(drop=True), info, int(sizes.sum()), sizes, design.numeric, design.categorical


@st.cache_data(show_spinner="Drawing every user's position...", max_entries=16)
def map_image(run_id: str, method: str, placed_version: str, colours: tuple):
    """Every placed user as a PNG (segcore.maps.density_image) and where it sits: (data URI, x0, x1, y0, y1).
    ``colours``: (cluster, "#rrggbb") pairs; a cluster without one is grey."""
    xy, _ = _map_positions(run_id, method, placed_version)
    _, aligned = run_matrix(run_id)
    return segcore.maps.density_png(xy, aligned["cluster"].to_numpy(), dict(colours), max_width=MAP_PIXELS)


@st.cache_data(show_spinner=False, max_entries=32)
def _inside(run_id: str, method: str, placed_version: str, regions: tuple):
    xy, _ = _map_positions(run_id, method, placed_version)
    return segcore.maps.in_regions(xy[:, 0], xy[:, 1], regions)


@st.cache_data(show_spinner="Describing the selected users...", max_entries=32)
def map_selection(run_id: str, method: str, placed_version: str, regions: tuple, against: int | None = None):
    """The placed users inside the drawn regions (segcore.maps.in_regions): how many each cluster holds,
    and how they differ (segcore.profile.contrast) from every user of the run, or with ``against`` from
    the other users of that segment; None when no user is inside."""
    inside = _inside(run_id, method, placed_version, regions)
    if not inside.any():
        return None
    design, aligned = run_matrix(run_id)  # read, not copied (a copy of a million rows per selection)
    return segcore.maps.selection_contrast(design.frame, design.numeric, design.categorical,
                                           aligned["cluster"].to_numpy(), inside, against)


def selected_users(run_id: str, method: str, placed_version: str, regions: tuple):
    """The users inside the drawn regions, with their segment and persona, for a download."""
    _, aligned = run_matrix(run_id)
    return segcore.maps.selected_users(aligned, _inside(run_id, method, placed_version, regions),
                                       personas(run_id).set_index("cluster")["name"])


@by_dataset(max_entries=16, spinner="Checking for near-constant, duplicated and outlier-driven features...")
def suggestions(dataset: str, numeric: tuple):
    return segcore.workflow.feature_advice(store(), dataset, list(numeric))


@st.cache_data(show_spinner="Measuring how well each user fits its segment...", max_entries=16)
def silhouettes(run_id: str):
    return segcore.workflow.run_silhouettes(store(), run_id, matrix=run_matrix(run_id))


@st.cache_data(show_spinner="Building the merge tree...", max_entries=8)
def dendrogram(run_id: str):
    from segcore.dendrogram import ward_dendrogram

    design, _ = run_matrix(run_id)
    return ward_dendrogram(design.prepared.X, seed=store().run(run_id).seed)


@by_dataset(max_entries=16, spinner="Checking the data's quality...")
def quality(dataset: str):
    from segcore.workflow import quality_report

    return quality_report(store(), dataset)
