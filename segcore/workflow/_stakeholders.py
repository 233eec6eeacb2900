"""What stakeholders read of a run: its persona cards (and, in :mod:`._report`, the report to share)."""

from __future__ import annotations

import re

from ..cards import PersonaCard, angle_features, persona_cards
from ..disclosure import MIN_SEGMENT_SIZE
from ..errors import InputError
from ..experiment import MAX_VARIANTS, ExperimentReadout, experiment_readout
from ..kpi import KPI_INPUTS, KpiReport, kpi_availability
from ..profile import Profiles, indicator_frame
from ..significance import trait_evidence
from ..store import Store
from ..trends import KpiTrends, kpi_trends
from ._runs import RunMatrix, run_kpis, run_matrix, run_profiles, run_summaries

ASSIGNMENT_NAME = re.compile(r"variant|arm|treatment|experiment|bucket|test|group|cohort", re.IGNORECASE)

__all__ = ["ASSIGNMENT_NAME", "experiment_columns", "run_cards", "run_experiment", "run_kpi_trends"]


def run_cards(store: Store, run_id: str, *, min_segment_size: int = MIN_SEGMENT_SIZE, correction: str = "bh",
              matrix: RunMatrix | None = None, profiles: Profiles | None = None,
              kpis: KpiReport | None = None) -> list[PersonaCard]:
    """One card per persona of a run (:func:`segcore.cards.persona_cards`): its top traits and the features
    the angles read, each tested against the other users and corrected together (``correction``: ``bh`` or
    ``holm``, as for the KPIs), its rule, its KPIs with their evidence, and its narrative as edited or
    generated. ``matrix``, ``profiles`` and ``kpis``: :func:`run_matrix`'s, :func:`run_profiles`'s and
    :func:`run_kpis`'s answers (for the same minimum size and correction), when the caller holds them."""
    matrix = matrix or run_matrix(store, run_id)
    design, aligned = matrix
    profiles = profiles if profiles is not None else run_profiles(store, run_id, matrix=matrix)
    summaries, _ = run_summaries(store, run_id, min_segment_size=min_segment_size, profiles=profiles)
    values = indicator_frame(design.frame, design.numeric, design.categorical)
    extra = [f for f in angle_features() if f in values]
    wanted = {s.cluster: list(dict.fromkeys([f for f, _ in s.top] + extra)) for s in summaries if not s.withheld}
    traits = trait_evidence(values, aligned["cluster"].to_numpy(), wanted, min_segment_size=min_segment_size,
                            correction=correction)
    if kpis is None:
        kpis = run_kpis(store, run_id, min_segment_size=min_segment_size, correction=correction)
    with store.session():
        personas = store.personas(run_id)
        currency = store.currency()
    return persona_cards(summaries, personas, traits, kpis, currency=currency)


def run_kpi_trends(store: Store, run_id: str, grain: str = "month", *,
                   min_segment_size: int = MIN_SEGMENT_SIZE) -> KpiTrends:
    """Each persona's KPIs per week or month of activity (:func:`segcore.trends.kpi_trends`), for a dataset
    imported from a log with times."""
    with store.session():
        rec = store.run(run_id)
        dataset = store.dataset(rec.dataset)
        activity = store.activity_by_segment(run_id, grain)
        personas = store.personas(run_id)
        sizes = store.assignments(run_id)["cluster"].value_counts().to_dict()
        columns = store.columns(rec.dataset)["column_name"].tolist()
    facts = dataset.event_facts or {}
    if activity is None or not facts.get("first_event"):
        raise InputError(f"dataset {rec.dataset!r} has no activity over time: "
                         + ("import its log again to count it" if facts.get("first_event") else
                            "KPIs over time need an event or transaction log with times"))
    shown, _ = kpi_availability(columns, dataset.shape)
    return kpi_trends(activity, personas.set_index("cluster")["name"].to_dict(), sizes, grain=grain,
                      kpis=[k.name for k in shown], units={k.name: k.unit for k in shown},
                      span=(facts["first_event"], facts["last_event"]), min_segment_size=min_segment_size)


def experiment_columns(store: Store, dataset: str) -> list[str]:
    """The dataset's columns that could name an experiment's variants: 2 to MAX_VARIANTS values, and not a
    feature the KPIs or clustering read as a number."""
    from ..features import catalog

    with store.session():
        stats = store.column_stats(dataset)
        infos = {f.name: f for f in catalog(store.columns(dataset), stats)}
        users = store.column_stats(dataset, "users") if "users" in store.tables(dataset) else None
    few = {r.column_name for r in stats.itertuples() if 2 <= r.approx_unique <= MAX_VARIANTS}
    out = [c for c in stats["column_name"] if c in few and c != "user_id" and c not in KPI_INPUTS
           and (c not in infos or infos[c].kind == "categorical")]
    if users is not None:
        out += [r.column_name for r in users.itertuples() if 2 <= r.approx_unique <= MAX_VARIANTS
                and r.column_name not in out and r.column_name != "user_id"]
    # columns named like an assignment first (the rest are attributes such as country, offered all the same)
    return sorted(out, key=lambda c: not ASSIGNMENT_NAME.search(c))


def run_experiment(store: Store, run_id: str, variant: str, *, control: str | None = None,
                   min_segment_size: int = MIN_SEGMENT_SIZE, correction: str = "bh") -> ExperimentReadout:
    """An experiment's readout per persona of a run (:func:`segcore.experiment.experiment_readout`): ``variant``
    is a column of the run's dataset naming each user's variant."""
    with store.session():
        rec = store.run(run_id)
        available = store.segment_columns(rec.dataset)
        if variant not in available:
            candidates = experiment_columns(store, rec.dataset)
            raise InputError(f"dataset {rec.dataset!r} has no column {variant!r}; "
                             + (f"columns that could name variants: {', '.join(candidates)}" if candidates else
                                "import the assignment with the data: a users-table column (--users FILE) or an "
                                "event column kept per user (--per-user COLUMN=last)"))
        have = set(store.columns(rec.dataset)["column_name"])
        frame = store.segments(run_id, [variant, *[c for c in KPI_INPUTS if c in have and c != variant]])
        shape = store.dataset(rec.dataset).shape
    return experiment_readout(frame, variant, control=control, min_segment_size=min_segment_size,
                              correction=correction, shape=shape)
