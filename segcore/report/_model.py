"""What a shared report holds: the structure between computing a run's readouts and rendering them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..cards import PersonaCard
from ..cluster import SweepResult
from ..dp_release import DpRelease
from ..fairness import FairnessReport
from ..features import Currency
from ..kpi import KpiReport
from ..profile import SegmentSummary
from ..quality import QualityReport
from ..store import DatasetRecord, RunRecord
from ..trends import KpiTrends

__all__ = ["DpReport", "Report"]


@dataclass
class Report:
    """Everything one report shows about one run, computed (:func:`segcore.workflow.build_report`), before
    any of it is rendered (:func:`segcore.report.render_html`).

    Every figure in it already respects ``min_segment_size``: small segments are withheld from the
    summaries, cards, KPIs, fairness and map, and only their size is named.
    """

    run: RunRecord
    dataset: DatasetRecord
    generated_at: datetime
    min_segment_size: int
    correction: str  # "bh" or "holm"
    currency: Currency
    quality: QualityReport
    summaries: list[SegmentSummary]
    cards: list[PersonaCard]
    kpis: KpiReport
    figures: dict = field(default_factory=dict)  # name -> plotly figure (see build_report)
    sweep: SweepResult | None = None
    sweep_note: str = ""  # why there is no sweep, or how it was made
    fairness: FairnessReport | None = None
    fairness_note: str = ""  # why there is no fairness check
    map_note: str = ""
    trends: KpiTrends | None = None  # KPIs per week or month of activity
    trends_note: str = ""  # why there are none

    @property
    def title(self) -> str:
        name = self.run.label or self.run.run_id
        return f"Personas of {self.dataset.name}: {name}"

    @property
    def withheld(self) -> list[SegmentSummary]:
        return [s for s in self.summaries if s.withheld]


@dataclass
class DpReport:
    """A report for people outside the team: only figures released with differential privacy
    (:func:`segcore.dp_release.dp_release`), and what the analyst chose (names, method)."""

    run: RunRecord
    dataset: DatasetRecord
    generated_at: datetime
    min_segment_size: int
    currency: Currency
    release: DpRelease
    colours: dict = field(default_factory=dict)  # persona -> colour
    figures: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"Personas of {self.dataset.name}: {self.run.label or self.run.run_id} (private release)"
