"""Fairness: how each segment is composed against the population, by sensitive attribute.

A segment used for targeting "selects" its users. For an attribute such as age
band, the selection rate of group g in segment s is the share of g's users that
land in s. The four-fifths rule (US EEOC Uniform Guidelines, 29 CFR 1607.4 D)
flags a group whose rate is below 0.8 of the highest group's rate: that is the
**impact ratio** reported here. The **representation** of g in s is s's share
of g divided by the population's share of g (1 = as in the population).

Groups with fewer than ``min_group`` users are reported but not flagged: a
ratio over a handful of people says nothing. A ratio below the rule is flagged
only when the group's selection rate differs from the most-selected group's
beyond chance: a two-proportion score test per comparison, the p-values of all
comparisons corrected together (Benjamini-Hochberg by default, Holm on request;
the same machinery as the KPIs, :mod:`segcore.significance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._common import normalise_name
from .errors import InputError

__all__ = ["FairnessReport", "FOUR_FIFTHS", "fairness_report", "suggest_sensitive"]

FOUR_FIFTHS = 0.8
_HINTS = ("age", "age_band", "age_group", "gender", "sex", "country", "region", "nationality", "ethnicity",
          "race", "religion", "disability", "marital_status", "language", "sexual_orientation", "pregnancy")
_MAX_GROUPS = 50


def suggest_sensitive(columns: list[str]) -> list[str]:
    """Columns whose names suggest a protected or sensitive attribute."""
    out = []
    for c in columns:
        norm = normalise_name(c)
        if norm in _HINTS or any(norm.startswith(h + "_") or norm.endswith("_" + h) for h in _HINTS):
            out.append(c)
    return out


# A ratio on the rule's boundary stays on it: (4/100) / (5/100) is 0.8 exactly, 0.7999999999999999 in floating point.
_ROUNDING = 1e-9


@dataclass
class FairnessReport:
    """Per segment, attribute and group: shares, rates, ratios and flags."""

    table: pd.DataFrame
    threshold: float
    min_group: int
    withheld: list[str]  # segments below the minimum size, not shown
    correction: str = "bh"

    @property
    def flags(self) -> pd.DataFrame:
        return self.table[self.table["flagged"]]

    def lines(self) -> list[str]:
        out = []
        for r in self.flags.itertuples():
            out.append(f"{r.segment}: {r.attribute}={r.group} is selected at {r.impact_ratio:.2f} of the "
                       f"most-selected group's rate ({r.selection_rate:.1%} vs {r.max_rate:.1%}, q = {r.q:.2g}); "
                       f"segment share {r.segment_share:.1%}, population {r.population_share:.1%}")
        chance = self.table[self.table["below_rule"] & ~self.table["flagged"]]
        if len(chance):
            out.append(f"{len(chance)} ratio(s) below {self.threshold:g} are not flagged: their difference from the "
                       "most-selected group could be chance after correction")
        out += [f"withheld: {s} is below the minimum segment size" for s in self.withheld]
        if self.flags.empty:
            out.append(f"no group falls below {self.threshold:g} of the most-selected group's rate in any segment "
                       f"(groups of at least {self.min_group} users)")
        return out


def fairness_report(attributes: pd.DataFrame, segments: pd.Series, *, threshold: float = FOUR_FIFTHS,
                    min_group: int = 30, min_segment_size: int = 1, correction: str = "bh",
                    alpha: float = 0.05) -> FairnessReport:
    """Composition of each segment by each sensitive attribute, with four-fifths flags.

    Parameters
    ----------
    attributes : DataFrame
        One row per user, one column per sensitive attribute (any type;
        missing values form their own group, "missing").
    segments : Series
        The segment (persona name or cluster) of each user, aligned with ``attributes``.
    threshold : float, default=0.8
        Flag impact ratios below this.
    min_group : int, default=30
        Groups smaller than this in the population are not flagged.
    min_segment_size : int, default=1
        Segments smaller than this are left out, and so are their users: the
        population compared with is the users of the segments shown (otherwise
        the population minus the shown segments gives their make-up away).
    correction : {'bh', 'holm'}, default='bh'
        How the p-values of every comparison with the most-selected group are corrected together.
    alpha : float, default=0.05
        A ratio below the rule is flagged when its corrected ``q`` is below this.

    Returns
    -------
    FairnessReport
        ``table`` columns: segment, attribute, group, group_users, in_segment,
        segment_share, population_share, representation, selection_rate,
        max_rate, impact_ratio, judged, below_rule, p, q, flagged.
    """
    from .significance import CORRECTIONS

    if correction not in CORRECTIONS:
        raise InputError(f"correction={correction!r} should be one of {', '.join(CORRECTIONS)}")
    if not 0 < threshold <= 1:
        raise InputError(f"threshold={threshold} should be in (0, 1]")
    if min_group < 1:
        raise InputError(f"min_group={min_group} should be at least 1")
    if attributes.shape[1] == 0:
        raise InputError("mark at least one sensitive attribute (age band, gender, country, ...)")
    if len(attributes) != len(segments):
        raise InputError("attributes and segments must have one row per user")
    if len(segments) == 0:
        raise InputError("no users to assess")
    seg = pd.Series(np.asarray(segments), name="segment").astype(str)
    sizes = seg.value_counts()
    withheld = sorted(sizes[sizes < min_segment_size].index)
    shown = ~seg.isin(withheld).to_numpy()
    if not shown.any():
        raise InputError(f"every segment has fewer than {min_segment_size} users: nothing can be shown")
    seg = seg[shown].reset_index(drop=True)
    rows = []
    for attr in attributes.columns:
        groups = attributes[attr].reset_index(drop=True)[shown].reset_index(drop=True)
        groups = groups.astype("string").fillna("missing")
        if groups.nunique() > _MAX_GROUPS:
            raise InputError(f"attribute {attr!r} has {groups.nunique():,} distinct values: pick a grouped "
                             f"attribute (at most {_MAX_GROUPS} groups), e.g. an age band rather than an age")
        counts = pd.crosstab(seg, groups)  # segment x group
        group_sizes = counts.sum(axis=0)
        rates = counts / group_sizes  # share of each group's users in each segment
        judged = group_sizes >= min_group
        for s in counts.index:
            max_rate = rates.loc[s, judged].max() if judged.any() else np.nan
            top = rates.loc[s, judged].idxmax() if judged.any() else None
            for g in counts.columns:
                rate = rates.loc[s, g]
                ratio = rate / max_rate if max_rate and max_rate > 0 else np.nan
                seg_share = counts.loc[s, g] / counts.loc[s].sum()
                pop_share = group_sizes[g] / group_sizes.sum()
                rows.append({
                    "segment": s, "attribute": attr, "group": str(g), "group_users": int(group_sizes[g]),
                    "in_segment": int(counts.loc[s, g]), "segment_share": seg_share, "population_share": pop_share,
                    "representation": seg_share / pop_share if pop_share else np.nan,
                    "selection_rate": rate, "max_rate": max_rate, "impact_ratio": ratio,
                    "judged": bool(judged[g]),
                    "below_rule": bool(judged[g] and pd.notna(ratio) and ratio < threshold - _ROUNDING),
                    "p": _against_top(counts.loc[s, g], group_sizes[g], counts.loc[s, top], group_sizes[top])
                    if judged[g] and top is not None and g != top else np.nan,
                })
    table = pd.DataFrame(rows)
    table["q"] = np.nan
    tested = table["p"].notna().to_numpy()
    if tested.any():
        from statsmodels.stats.multitest import multipletests

        table.loc[tested, "q"] = multipletests(table.loc[tested, "p"].to_numpy(), alpha=alpha,
                                               method=CORRECTIONS[correction])[1]
    table["flagged"] = table["below_rule"] & (table["q"] < alpha)
    return FairnessReport(table, threshold, min_group, withheld, correction)


def _against_top(selected: int, users: int, top_selected: int, top_users: int) -> float:
    """The two-proportion score test's p-value of a group's selection rate against the top group's."""
    from statsmodels.stats.proportion import test_proportions_2indep

    if selected == top_selected == 0 or (selected == users and top_selected == top_users):
        return 1.0  # the same rate at an end of the scale: nothing to test
    return float(test_proportions_2indep(int(selected), int(users), int(top_selected), int(top_users),
                                         method="score", compare="diff").pvalue)
