"""What a user has chosen, carried across pages, and the scaffolding every page starts with.

Widgets on a page reset when the user leaves it, so choices that other pages
need live in plain session-state keys (named in :mod:`dashboard.keys`), copied
from the widgets on change. The dataset and run pickers live in the sidebar
(drawn by app.py on every page), so they persist on their own.
"""

from __future__ import annotations

import streamlit as st

from segcore.disclosure import MIN_SEGMENT_SIZE
from segcore.preprocess import Preprocessing

from . import data
from .keys import ALLOW_SMALL, DATASET, FEATURES, MIN_SIZE, NEXT_RUN, PREPROCESSING, RUN


def dataset() -> str | None:
    """The chosen dataset, else the store's first one (a page opened on its own still has data)."""
    names = data.datasets()["name"].tolist()
    chosen = st.session_state.get(DATASET)
    return chosen if chosen in names else (names[0] if names else None)


def run_id() -> str | None:
    """The chosen run of the current dataset, else the one last named or pinned, else its newest run."""
    ds = dataset()
    if ds is None:
        return None
    ids = data.runs(ds)["run_id"].tolist()
    chosen = st.session_state.get(RUN)
    return chosen if chosen in ids else data.preferred_run(ds)


def select_run(run_id: str) -> None:
    """Make ``run_id`` the current run (the sidebar widget picks it up on the next rerun)."""
    st.session_state[NEXT_RUN] = run_id


def features(dataset: str) -> list[str]:
    """The features chosen for a dataset (defaults: engineered behaviour, value and context, less what the
    suggestions find near-constant or duplicated and what is mostly missing)."""
    chosen = st.session_state.setdefault(FEATURES, {})
    if dataset not in chosen:
        chosen[dataset] = data.default_features(dataset)
    return chosen[dataset]


def apply_suggestions(picked: list[str], advice) -> list[str]:
    """``picked`` without what the suggestions (segcore.suggest) say to leave out: the near-constant features,
    and of each correlated pair whose both features are picked, the second."""
    drop = set(advice.loc[advice["issue"] == "near-constant", "feature"])
    twins = advice[advice["issue"] == "correlated"]
    drop |= {b for b, a in zip(twins["feature"], twins["partner"]) if a in picked and b in picked}
    return [f for f in picked if f not in drop]


def set_features(dataset: str, names: list[str]) -> None:
    st.session_state.setdefault(FEATURES, {})[dataset] = list(names)


def preprocessing() -> Preprocessing:
    return st.session_state.get(PREPROCESSING) or Preprocessing()


def set_preprocessing(prep: Preprocessing) -> None:
    st.session_state[PREPROCESSING] = prep


def page(title: str, caption: str, *, needs_run: bool = True) -> str | None:
    """Title and caption, then stop with guidance unless there is a dataset (and a run, if needed).

    Returns the current run id (or the dataset name when ``needs_run`` is False).
    """
    st.title(title)
    st.caption(caption)
    ds = need_dataset()
    return need_run() if needs_run else ds


def need_dataset() -> str:
    ds = dataset()
    if not ds:
        st.info("The store has no dataset yet: import one on the Data page.")
        st.stop()
    return ds


def need_run() -> str:
    rid = run_id()
    if not rid:
        st.info("No segmentation yet for this dataset. Fit one on the Segment page first.")
        st.page_link("views/segment.py", label="Go to Segment", icon=":material/scatter_plot:")
        st.stop()
    return rid


def min_segment_size(key: str, help: str) -> int:
    """The minimum segment size, shared by every page that withholds small segments. Below the default
    only after ticking that smaller segments are allowed; the choice is the same on every page."""
    allow = st.checkbox(f"Allow below {MIN_SEGMENT_SIZE}", key=f"{key}_allow_small",
                        value=st.session_state.get(ALLOW_SMALL, False),
                        help="Figures about a few people can single them out: only for data you may show "
                             "at that level. The outputs say which minimum they used.")
    st.session_state[ALLOW_SMALL] = allow
    low = 1 if allow else MIN_SEGMENT_SIZE
    value = max(int(st.session_state.get(MIN_SIZE, MIN_SEGMENT_SIZE)), low)
    chosen = int(st.number_input("Minimum segment size", min_value=low, value=value, step=10, key=f"{key}_min_size",
                                 help=help))
    st.session_state[MIN_SIZE] = chosen
    return chosen


def chosen_min_size() -> int:
    """The minimum segment size last chosen on any page (the default until one is)."""
    return int(st.session_state.get(MIN_SIZE, MIN_SEGMENT_SIZE))


def progress_bar(text: str = "Starting."):
    """A progress bar, and the ``progress(fraction, message)`` callback segcore calls to move it."""
    bar = st.progress(0.0, text=text)
    return lambda fraction, message: bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)
