"""What stakeholders read of a run: its persona cards (and, in :mod:`._report`, the report to share)."""

from __future__ import annotations

from ..cards import PersonaCard, angle_features, persona_cards
from ..disclosure import MIN_SEGMENT_SIZE
from ..errors import InputError
from ..kpi import kpi_availability
from ..profile import Profiles, indicator_frame
from ..significance import trait_evidence
from ..store import Store
from ..trends import KpiTrends, kpi_trends
from ._runs import RunMatrix, run_kpis, run_matrix, run_profiles, run_summaries

__all__ = ["run_cards", "run_kpi_trends"]


def run_cards(store: Store, run_id: str, *, min_segment_size: int = MIN_SEGMENT_SIZE, correction: str = "bh",
              matrix: RunMatrix | None = None, profiles: Profiles | None = None) -> list[PersonaCard]:
    """One card per persona of a run (:func:`segcore.cards.persona_cards`): its top traits and the features
    the angles read, each tested against the other users and corrected together (``correction``: ``bh`` or
    ``holm``, as for the KPIs), its rule, its KPIs with their evidence, and its narrative as edited or
    generated. ``matrix`` and ``profiles``: :func:`run_matrix`'s and :func:`run_profiles`'s answers, when
    the caller holds them already."""
    matrix = matrix or run_matrix(store, run_id)
    design, aligned = matrix
    profiles = profiles if profiles is not None else run_profiles(store, run_id, matrix=matrix)
    summaries, _ = run_summaries(store, run_id, min_segment_size=min_segment_size, profiles=profiles)
    values = indicator_frame(design.frame, design.numeric, design.categorical)
    extra = [f for f in angle_features() if f in values]
    wanted = {s.cluster: list(dict.fromkeys([f for f, _ in s.top] + extra)) for s in summaries if not s.withheld}
    traits = trait_evidence(values, aligned["cluster"].to_numpy(), wanted, min_segment_size=min_segment_size,
                            correction=correction)
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
