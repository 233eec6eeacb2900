"""Reviewing what the store holds: a dataset's quality, and how two runs of one dataset agree."""

from __future__ import annotations

from ..compare import Comparison, compare_assignments
from ..disclosure import MIN_SEGMENT_SIZE
from ..errors import InputError
from ..quality import LOW_ACTIVITY_EVENTS, QualityReport, assess, outlier_fences
from ..store import Store

__all__ = ["quality_report", "compare_runs"]


def quality_report(store: Store, dataset: str) -> QualityReport:
    """Profile a dataset's feature table (and its users and events, where it has them): see :mod:`segcore.quality`."""
    with store.session():
        summary = store.summarize(dataset, "features")
        facts = store.quality_counts(dataset, outlier_fences(summary), min_events=LOW_ACTIVITY_EVENTS)
    return assess(summary, facts)


def compare_runs(store: Store, run_a: str, run_b: str, *, min_segment_size: int = MIN_SEGMENT_SIZE) -> Comparison:
    """Compare run B against run A (both of the same dataset): see :func:`segcore.compare.compare_assignments`."""
    with store.session():
        a, b = store.run(run_a), store.run(run_b)
        if a.dataset != b.dataset:
            raise InputError(f"runs {run_a!r} and {run_b!r} segment different datasets "
                             f"({a.dataset!r} and {b.dataset!r}); compare runs of one dataset")
        assign_a, assign_b = store.assignments(run_a), store.assignments(run_b)
        personas_a, personas_b = store.personas(run_a), store.personas(run_b)
    return compare_assignments(run_a, run_b, assign_a, assign_b, personas_a, personas_b,
                               min_segment_size=min_segment_size)
