"""Persona cards: one card per persona for stakeholders, every claim on it backed by a test.

A card gathers what the other rooms computed about a segment (its size, its profile's top traits,
its rule of thumb, its KPIs) and adds the evidence: each trait's difference from the other users with
its interval and corrected q (:func:`segcore.significance.trait_evidence`), each KPI's from
:func:`segcore.significance.kpi_evidence`. From them it writes

- a **narrative**: a few sentences of template text built from the numbers (no external service), in
  which only differences that hold up after correction are stated as differences;
- **angles**: content or offer ideas that follow from those differences (lapsed: win-back; high value:
  loyalty perks; small baskets: discounts), each with the figure it rests on.

The analyst may rewrite the narrative; the edit is stored with the run's personas and shown instead
of the generated text (which stays on the card, to go back to).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._common import json_value
from ._methods import NOISE
from .features import Currency, describe_feature, format_value
from .kpi import KPI_LABELS, KpiReport
from .profile import SegmentSummary

__all__ = ["ANGLES", "CardKpi", "CardTrait", "PersonaCard", "angle_features", "difference_text", "persona_cards",
           "q_text"]

# (feature or KPI, direction, angle): a persona whose value differs from the other users' in that
# direction, after correction, is suggested the angle. KPIs are named ``kpi:<name>``.
ANGLES = (
    ("recency_days", 1, "Win-back: a reminder of what they bought or viewed, with a comeback offer"),
    ("kpi:churn_rate", 1, "Win-back: reach them before they lapse for good, with a reason to return"),
    ("tenure_days", -1, "Onboarding: a welcome series and an incentive for the next order"),
    ("revenue", 1, "Loyalty perks: early access, a VIP tier or free delivery, rather than discounts"),
    ("kpi:revenue_per_user", 1, "Loyalty perks: early access, a VIP tier or free delivery, rather than discounts"),
    ("avg_order_value", 1, "Premium and bundles: higher-end ranges and bundles suit their baskets"),
    ("avg_order_value", -1, "Price-sensitive: discounts, value packs and free-delivery thresholds"),
    ("share_deals", 1, "Price-sensitive: discounts, value packs and free-delivery thresholds"),
    ("n_purchases", 1, "Loyalty and referral: points, member prices and rewards for bringing friends"),
    ("kpi:repeat_rate", -1, "Second order: a follow-up after the first purchase with an offer on the next"),
    ("purchase_interval_days", -1, "Replenishment: subscriptions or reorder reminders at their own rhythm"),
    ("n_returns", 1, "Fewer returns: size guides, reviews and fuller product detail before they buy"),
    ("cart_rate", 1, "Cart reminders: abandoned-cart messages with the items they left behind"),
    ("conversion_rate", -1, "Nudges to buy: social proof, stock alerts and a first-purchase offer"),
    ("kpi:conversion_rate", -1, "Nudges to buy: social proof, stock alerts and a first-purchase offer"),
    ("product_views", 1, "Recommendations: comparisons and reminders of the products they viewed"),
    ("ctr", 1, "Paid media: they respond to ads, so retargeting and sponsored placements pay"),
    ("ctr", -1, "Owned channels: e-mail and on-site messages rather than ads they ignore"),
    ("night_share", 1, "Timing: send e-mails and pushes in the evening, when they are active"),
    ("weekend_share", 1, "Timing: weekend campaigns and Saturday sends"),
    ("mobile_share", 1, "Mobile first: app pushes, short creative and one-tap checkout"),
    ("mobile_share", -1, "Desktop: richer pages, comparisons and longer-form content"),
)
MAX_ANGLES = 3
MAX_TRAITS = 3
# an angle that does not follow from a top trait needs the persona's figure at least this many times the
# others' (or at most its inverse): a significant but small difference is no reason for a campaign
ANGLE_MIN_RATIO = 2.0
MAX_KPIS_TOLD = 3  # the narrative names the KPIs that differ most; the card lists every one


def angle_features() -> list[str]:
    """The features the angles read (tested for every persona whether or not they are top traits)."""
    return list(dict.fromkeys(f for f, _, _ in ANGLES if not f.startswith("kpi:")))


@dataclass(frozen=True)
class CardTrait:
    """A feature that sets the persona apart, with its evidence against the other users."""

    feature: str
    label: str
    unit: str  # "share", "money" or "" (see FeatureInfo.unit)
    mean: float  # the persona's
    rest: float  # the other users'
    diff: float
    diff_low: float
    diff_high: float
    q: float
    significant: bool
    reason: str | None = None  # why there is no test

    def text(self, currency: Currency | None = None) -> str:
        """The trait with its evidence: "Revenue: 650.45 against 10.04 for the other users (difference
        +640.41, 95% CI +600.00 to +680.00, q < 0.001)", and ": does not hold up" where it does not."""
        return (f"{self.label}: {format_value(self.mean, self.unit, currency)} against "
                f"{format_value(self.rest, self.unit, currency)} for the other users (difference "
                f"{difference_text(self.diff, self.unit, currency)}, 95% CI "
                f"{difference_text(self.diff_low, self.unit, currency)} to "
                f"{difference_text(self.diff_high, self.unit, currency)}, {q_text(self.q)})"
                + ("" if self.significant else ": does not hold up"))


@dataclass(frozen=True)
class CardKpi:
    """One KPI of the persona, with its interval and its difference from the other users."""

    name: str
    label: str
    unit: str  # "rate", "money" or "count"
    value: float
    ci_low: float
    ci_high: float
    rest: float
    q: float
    significant: bool
    reason: str | None = None


@dataclass
class PersonaCard:
    """One persona as stakeholders read it (see the module's docstring)."""

    cluster: int
    name: str
    colour: str
    size: int
    share: float
    withheld: bool
    description: str = ""
    generated: str = ""  # the narrative built from the numbers
    edited: str | None = None  # the analyst's narrative, when there is one
    traits: tuple[CardTrait, ...] = ()
    rule: tuple[str, float, float] | None = None  # (rule, precision, coverage)
    kpis: tuple[CardKpi, ...] = ()
    angles: tuple[tuple[str, str], ...] = ()  # (angle, the evidence it rests on)
    stability: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def narrative(self) -> str:
        """The text shown: the analyst's edit, else the generated one."""
        return self.edited if self.edited else self.generated

    def to_dict(self) -> dict:
        """Plain data for JSON (NaN as null)."""
        return {"cluster": self.cluster, "name": self.name, "colour": self.colour, "size": self.size,
                "share": self.share, "withheld": self.withheld, "description": self.description,
                "narrative": self.narrative, "narrative_edited": bool(self.edited), "generated": self.generated,
                "traits": [{k: json_value(v) for k, v in t.__dict__.items()} for t in self.traits],
                "rule": None if self.rule is None else {"rule": self.rule[0], "precision": self.rule[1],
                                                         "coverage": self.rule[2]},
                "kpis": [{k: json_value(v) for k, v in k_.__dict__.items()} for k_ in self.kpis],
                "angles": [{"angle": a, "because": b} for a, b in self.angles],
                "stability": json_value(self.stability) if self.stability is not None else None}


def _label(feature: str) -> str:
    if "=" in feature:
        col, value = feature.split("=", 1)
        return f"Share with {col.replace('_', ' ')} {value}"
    return describe_feature(feature).label


def _unit(feature: str) -> str:
    return "share" if "=" in feature else describe_feature(feature).unit


def _kpi_text(value: float, unit: str, currency: Currency | None) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "rate":
        return f"{value:.1%}"
    return format_value(value, "money" if unit == "money" else "", currency)


def difference_text(value: float, unit: str, currency: Currency | None = None) -> str:
    """A difference between two figures with its sign: shares in percentage points, money as the currency
    writes it, other numbers to three significant figures."""
    if value is None or not np.isfinite(value):
        return "n/a"
    sign = "+" if value > 0 else "-" if value < 0 else "±"
    if unit in ("share", "rate"):
        return f"{sign}{abs(value) * 100:.1f} pp"
    return sign + format_value(abs(value), "money" if unit == "money" else "", currency)


def q_text(q: float) -> str:
    """A corrected q as people read it: "q < 0.001", "q = 0.042"."""
    return "q < 0.001" if q < 0.001 else f"q = {q:.2g}"


def _lower(label: str) -> str:
    """A label inside a sentence: "Session length" -> "session length", "CTR" stays."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _trait_clause(t: CardTrait, currency: Currency | None) -> str:
    return (f"{_lower(t.label)} {format_value(t.mean, t.unit, currency)} against "
            f"{format_value(t.rest, t.unit, currency)}")


def _kpi_clause(k: CardKpi, currency: Currency | None) -> str:
    word = "higher" if k.value > k.rest else "lower"
    return (f"{_lower(k.label)} {_kpi_text(k.value, k.unit, currency)} against "
            f"{_kpi_text(k.rest, k.unit, currency)} ({word}, {q_text(k.q)})")


def _narrative(card: PersonaCard, currency: Currency | None) -> str:
    """A few sentences from the numbers: only differences that hold up are stated as differences."""
    if card.cluster == NOISE:
        return (f"{card.name}: {card.share:.0%} of users ({card.size:,}) are in no dense group: the method could "
                "not place them with confidence, so they are not a persona to act on.")
    out = [f"{card.name} are {card.share:.0%} of users ({card.size:,})"
           + (f": {card.description}." if card.description else ".")]
    real = [t for t in card.traits if t.significant]
    if real:
        out.append("Compared with the other users, their " + "; ".join(_trait_clause(t, currency) for t in real)
                   + ".")
    untested = [t for t in card.traits if not t.significant]
    if untested:
        out.append("The difference in " + ", ".join(_lower(t.label) for t in untested)
                   + " does not hold up against the other users after correction.")
    if card.rule is not None:
        rule, precision, coverage = card.rule
        out.append(f"Rule of thumb: {rule} ({precision:.0%} of the users it picks are {card.name}; it finds "
                   f"{coverage:.0%} of them).")
    kpis = sorted((k for k in card.kpis if k.significant), key=lambda k: -_strength(k.value, k.rest))
    if kpis:
        out.append("KPIs: " + "; ".join(_kpi_clause(k, currency) for k in kpis[:MAX_KPIS_TOLD]) + ".")
    elif card.kpis:
        out.append("None of their KPIs differs from the other users' after correction.")
    if card.stability is not None and card.stability < 0.6:
        out.append(f"Caution: resampled refits found this segment only {card.stability:.0%} of the time.")
    return " ".join(out)


def _strength(value: float, rest: float) -> float:
    """How far apart two figures are, as the size of their ratio (0 where a ratio does not read)."""
    if value > 0 and rest > 0:
        return abs(float(np.log(value / rest)))
    return 0.0


def _angles(traits: dict[str, CardTrait], kpis: dict[str, CardKpi], top: list[str],
            currency: Currency | None) -> tuple[tuple[str, str], ...]:
    """At most MAX_ANGLES angles, one per kind (its first word: "Win-back", "Loyalty", "Timing"...): those
    that follow from the persona's top traits first, then the table's order, each from a difference that
    holds up (and, off the top traits, is at least ANGLE_MIN_RATIO-fold)."""
    strong = float(np.log(ANGLE_MIN_RATIO))
    out: dict[str, tuple[str, str]] = {}
    order = sorted(ANGLES, key=lambda a: a[0] not in top)
    for key, direction, angle in order:
        kind = angle.split()[0].rstrip(":")
        if kind in out:
            continue
        if key.startswith("kpi:"):
            k = kpis.get(key.removeprefix("kpi:"))
            if k is not None and k.significant and (k.value - k.rest) * direction > 0 \
                    and _strength(k.value, k.rest) >= strong:
                out[kind] = (angle, f"{k.label} {_kpi_text(k.value, k.unit, currency)} against "
                                    f"{_kpi_text(k.rest, k.unit, currency)} for the other users ({q_text(k.q)})")
        else:
            t = traits.get(key)
            if t is not None and t.significant and t.diff * direction > 0 \
                    and (key in top or _strength(t.mean, t.rest) >= strong):
                out[kind] = (angle, f"{t.label} {format_value(t.mean, t.unit, currency)} against "
                                    f"{format_value(t.rest, t.unit, currency)} for the other users ({q_text(t.q)})")
        if len(out) == MAX_ANGLES:
            break
    return tuple(out.values())


def _card_trait(row) -> CardTrait:
    reason = row.reason if isinstance(row.reason, str) else None
    return CardTrait(row.feature, _label(row.feature), _unit(row.feature), float(row.mean), float(row.rest),
                     float(row.diff_vs_rest), float(row.diff_low), float(row.diff_high), float(row.q),
                     bool(row.significant), reason)


def persona_cards(summaries: list[SegmentSummary], personas: pd.DataFrame, traits: pd.DataFrame,
                  kpis: KpiReport | None = None, *, currency: Currency | None = None) -> list[PersonaCard]:
    """One card per segment.

    Parameters
    ----------
    summaries : list of SegmentSummary
        The run's segments (:func:`segcore.workflow.run_summaries`), small ones withheld.
    personas : DataFrame
        cluster, name, colour and, when edited, narrative (the store's personas of the run).
    traits : DataFrame
        :func:`segcore.significance.trait_evidence` for each segment's top traits and the features of
        :data:`ANGLES`.
    kpis : KpiReport, optional
        With its evidence, keyed by persona name (:func:`segcore.workflow.run_kpis`).
    currency : Currency, optional
        How money is written.
    """
    by_cluster = personas.set_index("cluster")
    evidence = kpis.evidence if kpis is not None and kpis.evidence is not None else pd.DataFrame()
    units = {k.name: k.unit for k in kpis.shown} if kpis is not None else {}
    cards = []
    for s in summaries:
        colour = str(by_cluster.at[s.cluster, "colour"]) if s.cluster in by_cluster.index else "#888888"
        if s.withheld:
            cards.append(PersonaCard(s.cluster, s.name, colour, s.size, s.share, withheld=True))
            continue
        edited = by_cluster.at[s.cluster, "narrative"] if "narrative" in by_cluster else None
        mine = traits[traits["cluster"] == s.cluster]
        tested = {r.feature: _card_trait(r) for r in mine.itertuples(index=False) if not isinstance(r.reason, str)}
        top = tuple(tested[f] for f, _ in s.top[:MAX_TRAITS] if f in tested)
        card_kpis = []
        rows = evidence[evidence["segment"] == s.name] if len(evidence) else evidence
        for r in rows.itertuples():
            reason = r.reason if isinstance(r.reason, str) else None
            card_kpis.append(CardKpi(r.kpi, KPI_LABELS[r.kpi], units.get(r.kpi, ""), float(r.value),
                                     float(r.ci_low), float(r.ci_high), float(r.rest), float(r.q),
                                     bool(r.significant), reason))
        card = PersonaCard(s.cluster, s.name, colour, s.size, s.share, withheld=False, description=s.description,
                           edited=edited if isinstance(edited, str) and edited.strip() else None, traits=top,
                           rule=s.rules[0] if s.rules else None, kpis=tuple(card_kpis), stability=s.stability)
        card.angles = (_angles(tested, {k.name: k for k in card_kpis}, [f for f, _ in s.top], currency)
                       if s.cluster != NOISE else ())
        card.generated = _narrative(card, currency)
        cards.append(card)
    return cards
