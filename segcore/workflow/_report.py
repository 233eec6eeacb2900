"""The report to share, computed: every readout of a run gathered in one :class:`segcore.report.Report`."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from .. import charts, cluster
from ..disclosure import MIN_SEGMENT_SIZE
from ..errors import InputError
from ..fairness import suggest_sensitive
from ..maps import density_png, positions_by_row
from ..report import DpReport, Report
from ..store import Store
from ._review import quality_report
from ._runs import run_fairness, run_kpis, run_matrix, run_profiles, run_projection, run_summaries
from ._stakeholders import run_cards, run_kpi_trends

__all__ = ["build_dp_report", "build_report"]

REPORT_SWEEP_MAX_K = 8  # the sweep in a report covers k = 2 .. max(this, the run's k + 2)


def _grain(dataset) -> str:
    """Months for a log of three months or more, weeks for a shorter one."""
    facts = dataset.event_facts or {}
    first, last = facts.get("first_event"), facts.get("last_event")
    if not first or not last:
        return "month"
    return "month" if (pd.Timestamp(last) - pd.Timestamp(first)).days >= 90 else "week"


def _sweep(matrix, rec, progress) -> tuple[cluster.SweepResult | None, str]:
    method = cluster.ALGORITHMS.get(rec.algo)
    if method is None or not method.needs_k:
        return None, ("No sweep of k: the method finds the number of segments itself." if method else
                      "No sweep of k: these segments are rule-based groups, not a clustering.")
    ks = list(range(2, max(REPORT_SWEEP_MAX_K, rec.k + 2) + 1))
    try:
        result = cluster.sweep(matrix.design.prepared.X, ks, algo=rec.algo, seed=rec.seed, params=rec.params,
                               mixed=matrix.design.prepared.mixed, stability=True, progress=progress)
    except InputError as exc:
        return None, f"No sweep of k: {exc}"
    return result, (f"Swept k = {ks[0]} to {ks[-1]} with the run's method, features and seed on its "
                    f"{result.n_users:,} users; silhouettes {result.silhouette_method}"
                    + (f"; stability {result.stability_method}" if result.stability_method else "") + ".")


def _map(store: Store, run_id: str, matrix, personas: pd.DataFrame, min_segment_size: int):
    """The PCA map of every user shown (an image) with each persona marked at the centre of its users."""
    coords, info = run_projection(store, run_id, "pca", matrix=matrix, min_segment_size=min_segment_size)
    design, aligned = matrix
    xy = positions_by_row(design.frame["user_id"], coords["user_id"], coords[["x", "y"]])
    clusters = aligned["cluster"].to_numpy()
    colours = dict(zip(personas["cluster"].astype(int), personas["colour"]))
    image = density_png(xy, clusters, colours)
    names = personas.set_index("cluster")["name"]
    placed = ~np.isnan(xy[:, 0])
    centres = (pd.DataFrame({"cluster": clusters[placed], "x": xy[placed, 0], "y": xy[placed, 1]})
               .groupby("cluster").agg(x=("x", "mean"), y=("y", "mean"), users=("x", "size")).reset_index())
    centres["persona"] = centres["cluster"].map(names)
    ev = info["explained_variance_ratio"]
    title = f"PCA: the two axes explain {ev[0]:.0%} and {ev[1]:.0%} of the variance"
    fig = charts.map_overview(image, centres, charts.colour_map(personas), title, charts.pca_axis_titles(info))
    note = (f"Shading: all {int(placed.sum()):,} users shown, coloured by persona; diamonds: each persona's centre. "
            "No single user is drawn.")
    if info.get("withheld_users"):
        note += f" {info['withheld_users']:,} users of segments under {min_segment_size} users are not on the map."
    return fig, note


def build_report(store: Store, run_id: str, *, min_segment_size: int = MIN_SEGMENT_SIZE, correction: str = "bh",
                 sweep: bool = True, progress=None) -> Report:
    """Compute everything a shared report shows about a run (render it with :func:`segcore.report.render_html`).

    Parameters
    ----------
    store, run_id
    min_segment_size : int
        Smaller segments are withheld everywhere in the report (their size alone is named).
    correction : {'bh', 'holm'}
        How the KPI, trait and fairness tests are corrected.
    sweep : bool, default=True
        Sweep k around the run's k with its method, for the evidence for k (seconds to a minute).
    progress : callable, optional
        ``progress(fraction, message)``.
    """
    say = progress or (lambda f, m: None)
    say(0.0, "Loading the run's users and features.")
    matrix = run_matrix(store, run_id)
    rec = matrix.design.run or store.run(run_id)
    with store.session():
        dataset = store.dataset(rec.dataset)
        personas = store.personas(run_id)
        currency = store.currency()
        columns = store.columns(rec.dataset)["column_name"].tolist()
    say(0.1, "Checking the data's quality.")
    quality = quality_report(store, rec.dataset)
    say(0.15, "Profiling the segments, testing the KPIs and writing the persona cards.")
    profiles = run_profiles(store, run_id, matrix=matrix)
    summaries, _ = run_summaries(store, run_id, min_segment_size=min_segment_size, profiles=profiles)
    kpis = run_kpis(store, run_id, min_segment_size=min_segment_size, correction=correction)
    cards = run_cards(store, run_id, min_segment_size=min_segment_size, correction=correction, matrix=matrix,
                      profiles=profiles, kpis=kpis)
    say(0.3, "Counting the KPIs over time.")
    figures: dict = {}
    names = personas.set_index("cluster")["name"]
    colours = charts.colour_map(personas)
    shown = [s.cluster for s in summaries if not s.withheld]
    figures["heatmap"] = charts.zscore_heatmap(profiles.z.loc[shown], names)
    figures["sizes"] = charts.size_bars(profiles.sizes, names, colours)
    if kpis.shown:
        table = kpis.table.rename(columns={"segment": "persona"})
        figures["kpis"] = charts.kpi_grid(table[~table["withheld"]], colours, {k.name: k.label for k in kpis.shown},
                                          {k.name: k.unit for k in kpis.shown}, currency, kpis.evidence)
    trends, trends_note = None, ""
    try:
        trends = run_kpi_trends(store, run_id, _grain(dataset), min_segment_size=min_segment_size)
    except InputError as exc:
        trends_note = str(exc)
    if trends is not None and trends.kpis:
        figures["trends"] = charts.kpi_trend_lines(trends, colours, currency)
    say(0.4, "Drawing the map.")
    figures["map"], map_note = _map(store, run_id, matrix, personas, min_segment_size)
    fairness, fairness_note = None, ""
    attributes = suggest_sensitive(columns)
    if attributes:
        say(0.5, "Checking the four-fifths rule.")
        fairness = run_fairness(store, run_id, attributes, min_segment_size=min_segment_size, correction=correction)
        for attr in attributes:
            part = fairness.table[fairness.table["attribute"] == attr]
            if len(part):
                figures[f"fairness:{attr}"] = charts.impact_heatmap(part, fairness.threshold)
    else:
        fairness_note = ("No column looks like a sensitive attribute (age, gender, country, ...), so no fairness "
                         "check was made; name the attributes with `segcore fairness --attr`.")
    result, sweep_note = (None, "No sweep of k was asked for.") if not sweep else \
        _sweep(matrix, rec, lambda f, m: say(0.55 + 0.4 * f, m))
    if result is not None:
        figures["elbow"], figures["silhouette"] = charts.sweep_figures(result.table, result.recommended_k,
                                                                       result.knee_k)
        figures["sizes_by_k"] = charts.sweep_sizes(result.sizes, result.n_users, result.recommended_k)
    say(1.0, "The report is ready.")
    return Report(run=rec, dataset=dataset, generated_at=datetime.now(UTC), min_segment_size=int(min_segment_size),
                  correction=correction, currency=currency, quality=quality, summaries=summaries, cards=cards,
                  kpis=kpis, figures=figures, sweep=result, sweep_note=sweep_note, fairness=fairness,
                  fairness_note=fairness_note, map_note=map_note, trends=trends, trends_note=trends_note)


def build_dp_report(store: Store, run_id: str, *, epsilon: float, caps: dict[str, float] | None = None,
                    min_segment_size: int = MIN_SEGMENT_SIZE) -> DpReport:
    """A private release of a run (:func:`segcore.dp_release.dp_release`): noisy segment sizes and KPIs for
    ``epsilon``, to render with :func:`segcore.report.render_dp_html`."""
    from ..dp_release import dp_release
    from ..kpi import KPI_INPUTS, kpi_availability

    with store.session():
        rec = store.run(run_id)
        dataset = store.dataset(rec.dataset)
        have = set(store.columns(rec.dataset)["column_name"])
        frame = store.segments(run_id, [c for c in KPI_INPUTS if c in have])
        personas = store.personas(run_id)
        currency = store.currency()
    specs, _ = kpi_availability(frame.columns, dataset.shape)
    release = dp_release(frame.assign(persona=frame["persona"].fillna("Unassigned")), specs, epsilon=epsilon,
                         caps=caps, min_segment_size=min_segment_size)
    return DpReport(run=rec, dataset=dataset, generated_at=datetime.now(UTC), min_segment_size=int(min_segment_size),
                    currency=currency, release=release, colours=charts.colour_map(personas))
