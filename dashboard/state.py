"""What a user has chosen, carried across pages.

Widgets on a page reset when the user leaves it, so choices that other pages
need live in plain session-state keys, copied from the widgets on change.
The dataset and run pickers live in the sidebar (drawn by app.py on every
page), so they persist on their own.
"""

from __future__ import annotations

import streamlit as st

from segcore.preprocess import Preprocessing

from . import data

DATASET = "dataset"  # sidebar widget key
RUN = "run_id"  # sidebar widget key
NEXT_RUN = "_next_run"  # a page asks the sidebar to select this run on the next rerun
NEXT_DATASET = "_next_dataset"  # likewise for a dataset (the Data page, after an import)
LAST_IMPORT = "_last_import"  # what the last import did, shown once after the rerun that selects it
MIN_SIZE = "_min_segment_size"  # the minimum segment size, one for every page
ALLOW_SMALL = "_allow_small_segments"  # whether it may go below the default


def dataset() -> str | None:
    """The chosen dataset, else the store's first one (a page opened on its own still has data)."""
    names = data.datasets()["name"].tolist()
    chosen = st.session_state.get(DATASET)
    return chosen if chosen in names else (names[0] if names else None)


def run_id() -> str | None:
    """The chosen run of the current dataset, else its newest run."""
    ds = dataset()
    if ds is None:
        return None
    ids = data.runs(ds)["run_id"].tolist()
    chosen = st.session_state.get(RUN)
    return chosen if chosen in ids else (ids[0] if ids else None)


def select_run(run_id: str) -> None:
    """Make ``run_id`` the current run (the sidebar widget picks it up on the next rerun)."""
    st.session_state[NEXT_RUN] = run_id


def features(dataset: str) -> list[str]:
    """The features chosen for a dataset (defaults: engineered behaviour, value and context, less what the
    suggestions find near-constant or duplicated and what is mostly missing)."""
    chosen = st.session_state.setdefault("features", {})
    if dataset not in chosen:
        chosen[dataset] = data.default_features(dataset)
    return chosen[dataset]


def set_features(dataset: str, names: list[str]) -> None:
    st.session_state.setdefault("features", {})[dataset] = list(names)


def preprocessing() -> Preprocessing:
    return st.session_state.get("preprocessing") or Preprocessing()


def set_preprocessing(prep: Preprocessing) -> None:
    st.session_state["preprocessing"] = prep
