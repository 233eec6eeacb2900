"""Persona Lab: the entry point. Builds the navigation and the sidebar, then runs the page.

Run with ``segcore app`` (or ``streamlit run dashboard/app.py``). The store
comes from ``SEGCORE_STORE`` (default ``./persona_lab.duckdb``) and is seeded
with the bundled sample on first start.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the project root.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from dashboard import actions, components, data, keys, readouts, state  # noqa: E402
from segcore.errors import SegcoreError  # noqa: E402

log = logging.getLogger("persona_lab")

# an emoji, drawn by the browser: a material icon here is fetched from a font server on the internet
st.set_page_config(page_title="Persona Lab", page_icon="👥", layout="wide")

PAGES = {
    "Prepare": [
        st.Page("views/data.py", title="Data", icon=":material/database:", default=True),
        st.Page("views/features.py", title="Features", icon=":material/tune:"),
    ],
    "Segment": [
        st.Page("views/segment.py", title="Segment", icon=":material/scatter_plot:"),
        st.Page("views/explore.py", title="Explore", icon=":material/explore:"),
        st.Page("views/profiles.py", title="Profiles", icon=":material/bar_chart:"),
        st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
    ],
    "Act": [
        st.Page("views/personas.py", title="Personas", icon=":material/badge:"),
        st.Page("views/kpis.py", title="KPIs", icon=":material/monitoring:"),
        st.Page("views/experiment.py", title="Experiment", icon=":material/science:"),
        st.Page("views/fairness.py", title="Fairness", icon=":material/balance:"),
        st.Page("views/export.py", title="Export", icon=":material/download:"),
    ],
}


def _run_label(runs, run_id: str) -> str:
    row = runs[runs["run_id"] == run_id]
    if row.empty:
        return run_id
    r = row.iloc[0]
    named = f"{r['label']} · " if isinstance(r.get("label"), str) and r["label"] else ""
    pin = "★ " if bool(r.get("pinned")) else ""  # a star every font has (an emoji is a blank box offline)
    return f"{pin}{named}{r['algo']} k={r['k']} · {r['created_at']:%d %b %H:%M} · {run_id[-4:]}"


def sidebar() -> None:
    """Dataset and run pickers, shared by every page."""
    datasets = data.datasets()
    with st.sidebar:
        if datasets.empty:
            st.caption("No dataset yet.")
            st.session_state.pop(keys.DATASET, None)
            return
        names = datasets["name"].tolist()
        wanted = st.session_state.pop(keys.NEXT_DATASET, None)
        st.session_state[keys.DATASET] = wanted if wanted in names else state.dataset()
        st.selectbox("Dataset", names, key=keys.DATASET)
        runs = data.runs(st.session_state[keys.DATASET])
        ids = runs["run_id"].tolist()
        wanted = st.session_state.pop(keys.NEXT_RUN, None)
        st.session_state[keys.RUN] = wanted if wanted in ids else state.run_id()
        if ids:
            st.selectbox("Segmentation run", ids, key=keys.RUN, format_func=lambda r: _run_label(runs, r))
            _report_button(st.session_state[keys.RUN])
        else:
            st.caption("No segmentation run yet for this dataset.")
            st.session_state[keys.RUN] = None
        _money_setting()


def _report_button(run_id: str) -> None:
    """One click on any page: the run's report as one HTML file that opens offline (segcore.report)."""
    min_size = state.chosen_min_size()
    st.download_button("Report to share (HTML)", data=readouts.report_download(run_id, min_size),
                       file_name=f"persona-report-{run_id}.html", mime="text/html", on_click="ignore",
                       icon=":material/share:", width="stretch",
                       help=f"Data, method, map, profiles, persona cards, KPIs and fairness of this run in one file "
                            f"that opens in any browser without a login or a network. Segments under {min_size} "
                            "users are withheld. Takes a few seconds to make.")


def _money_setting() -> None:
    """How money is written on every page and export: the store's currency setting."""
    current = data.currency()
    with st.expander(f"Money: {components.md(current.format(1234.5))}"), st.form("currency", border=False):
        symbol = st.text_input("Currency symbol", value=current.symbol, max_chars=5, placeholder="€, £, $, CHF")
        decimals = st.number_input("Decimals", min_value=0, max_value=4, value=current.decimals, step=1)
        if st.form_submit_button("Save"):
            try:
                actions.set_currency(symbol, int(decimals))
            except SegcoreError as exc:
                st.error(components.md(str(exc)))
            else:
                st.rerun()


_LOGO = Path(__file__).resolve().parent / "assets" / "logo.svg"
# Streamlit leaves about 6rem above a page's title; the app's own CSS, no user or data text in it
_LAYOUT_CSS = "<style>[data-testid=stMainBlockContainer] {padding-top: 2.5rem;}</style>"


def main() -> None:
    st.logo(str(_LOGO), size="large")  # the app's name above the navigation, served by the app itself
    st.html(_LAYOUT_CSS)
    page = st.navigation(PAGES)
    st.set_page_config(page_title=f"{page.title} · Persona Lab")  # the browser tab says which page it is
    data.new_script_run()
    try:
        sidebar()
        page.run()
    except SegcoreError as exc:
        st.error(components.md(exc))
    except Exception as exc:  # last resort: a message, never a traceback
        log.exception("page %s failed", page.title)
        st.error(f"Something went wrong on this page ({type(exc).__name__}: {components.md(exc)}). "
                 "Your data in the store is unchanged.")
    data.warm_up_projections()  # after the page: the first paint does not wait for the worker to start


main()
