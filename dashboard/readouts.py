"""Cached loaders of what stakeholders read of a run: KPIs, persona cards, fairness, comparisons, the export
and the report (the rest of the loaders are :mod:`dashboard.data`; the same rules hold)."""

from __future__ import annotations

import streamlit as st

import segcore

from . import data


@st.cache_data(show_spinner="Computing the KPIs...", max_entries=32)
def kpis(run_id: str, names: tuple, min_size: int, correction: str = "bh"):
    return segcore.run_kpis(data.store(), run_id, min_segment_size=min_size, correction=correction)


@st.cache_data(show_spinner="Counting each persona's activity per period...", max_entries=32)
def kpi_trends(run_id: str, names: tuple, min_size: int, grain: str):
    return segcore.workflow.run_kpi_trends(data.store(), run_id, grain, min_segment_size=min_size)


@st.cache_data(show_spinner="Writing the persona cards: testing each trait against the other users...",
               max_entries=16)
def cards(run_id: str, personas: tuple, min_size: int, correction: str = "bh"):
    """The run's persona cards (``personas``: each persona's name, colour and narrative, part of the key so that
    an edit shows at once)."""
    return segcore.workflow.run_cards(data.store(), run_id, min_segment_size=min_size, correction=correction,
                                      matrix=data.run_matrix(run_id), profiles=data.profiles(run_id))


@st.cache_data(show_spinner="Checking the four-fifths rule...", max_entries=32)
def fairness(run_id: str, attributes: tuple, min_group: int, min_size: int, names: tuple):
    """``names`` (the personas) is part of the key: renaming a persona must show in the report."""
    return segcore.workflow.run_fairness(data.store(), run_id, list(attributes), min_group=min_group,
                                         min_segment_size=min_size)


@st.cache_data(show_spinner="Preparing the export...", max_entries=16)
def export_frame(run_id: str, columns: tuple, min_size: int, personas: tuple, options: tuple, money):
    """The export as written; ``options``: (rounded, descriptions, headers). Keyed by the personas (names and
    descriptions) and the currency (``money``) too: each changes the file."""
    rounded, descriptions, headers = options
    return segcore.export_run(data.store(), run_id, None, columns=list(columns), min_segment_size=min_size,
                              rounded=rounded, descriptions=descriptions, headers=headers)


@st.cache_data(show_spinner="Comparing the two runs...", max_entries=16)
def comparison(run_a: str, run_b: str, names_a: tuple, names_b: tuple):
    from segcore.workflow import compare_runs

    return compare_runs(data.store(), run_a, run_b)


@st.cache_data(show_spinner=False, max_entries=8)
def report_html(run_id: str, personas: tuple, min_size: int, money) -> bytes:
    """The run's shared report as one HTML file (``personas``: names, colours and narratives, and ``money``,
    the currency, are part of the key: each changes the report)."""
    from segcore.report import render_html

    report = segcore.workflow.build_report(data.store(), run_id, min_segment_size=min_size)
    return render_html(report).encode("utf-8")


def _when_clicked(build, what: str):
    """A download button's data, made when it is clicked: ``build()``'s bytes, or a page saying in one line
    why there are none (the click happens outside the page, where no message can be shown)."""
    import html

    from segcore.errors import SegcoreError

    def make() -> bytes:
        try:
            return build()
        except SegcoreError as exc:
            return (f"<!DOCTYPE html><meta charset=utf-8><title>No report</title>"
                    f"<p>No {what} could be made: {html.escape(str(exc))}</p>").encode()

    return make


def report_download(run_id: str, min_size: int):
    """What the report button downloads (:func:`report_html`), made when it is clicked: the personas are
    read then, not on every rerun of every page that draws the button."""
    money = data.currency()

    def build() -> bytes:
        key = tuple(data.personas(run_id)[["name", "colour", "narrative"]].itertuples(index=False, name=None))
        return report_html(run_id, key, min_size, money)

    return _when_clicked(build, "report")


@st.cache_data(show_spinner=False, max_entries=16)
def experiment_columns(dataset: str) -> list[str]:
    return segcore.workflow.experiment_columns(data.store(), dataset)


@st.cache_data(show_spinner=False, max_entries=32)
def variant_values(dataset: str, column: str) -> list[str]:
    """The variants a column holds, in order."""
    values = data.store().read_table(dataset, "features" if column in data.columns(dataset) else "users", [column])
    return sorted(values[column].dropna().astype(str).unique().tolist())


def looks_like_assignment(column: str) -> bool:
    from segcore.workflow._stakeholders import ASSIGNMENT_NAME

    return bool(ASSIGNMENT_NAME.search(column))


def default_control(variants: list[str]) -> str:
    from segcore.experiment import pick_control

    return pick_control(variants)


@st.cache_data(show_spinner="Reading the experiment out per persona...", max_entries=16)
def experiment(run_id: str, names: tuple, variant: str, control: str, min_size: int, correction: str):
    return segcore.workflow.run_experiment(data.store(), run_id, variant, control=control,
                                           min_segment_size=min_size, correction=correction)


@st.cache_data(show_spinner=False, max_entries=8)
def private_report_html(run_id: str, epsilon: float, money_cap: float, min_size: int, money) -> bytes:
    """One private release per settings (kept: a new draw would spend the budget again)."""
    from segcore.report import render_dp_html

    caps = {"money": money_cap} if money_cap > 0 else {}
    report = segcore.workflow.build_dp_report(data.store(), run_id, epsilon=epsilon, caps=caps,
                                              min_segment_size=min_size)
    return render_dp_html(report).encode("utf-8")


def private_report_download(run_id: str, epsilon: float, money_cap: float, min_size: int):
    """What the private report button downloads (:func:`private_report_html`), made when it is clicked."""
    money = data.currency()
    return _when_clicked(lambda: private_report_html(run_id, epsilon, money_cap, min_size, money), "private report")
