"""A differentially private release of a run's segment sizes and KPIs, for people outside the team.

The privacy unit is one user: adding or removing any one user changes what is released by at most the
stated epsilon (pure differential privacy, Laplace noise). OpenDP builds and calibrates every mechanism:
for each segment, a count of its users, and for each KPI the sum of each user's clipped numerator and
denominator (:func:`segcore.significance._per_user`: a share's yes and whether the user counts; a mean's
value; a ratio's events), each through OpenDP's clamp, sum and Laplace measurement, whose scale OpenDP
finds for the query's share of the budget.

How the budget is spent: the segments are disjoint (each user is in one), so one query over every segment
costs what a query over one does (parallel composition); the queries (the count, then each KPI's
numerator and, where it is not the count of users, its denominator) share epsilon equally (sequential
composition). Each user's contribution to a sum is clipped to stated bounds: a share's to [0, 1], a count's
(orders, impressions, sessions) to a cap, money to a cap the analyst states. A cap is never read from the
data, which would itself leak; a money KPI without a stated cap is left out, saying so.

Which segments are shown is decided on the noisy counts alone (post-processing): a segment whose noisy
size is below the minimum segment size, or below :data:`SURVIVAL` times its count's noise scale, is
withheld; a KPI whose noise is more than :data:`TOO_NOISY` of its value is marked too noisy to read.
Everything else in the ordinary report (profiles, map, cards, fairness) is exact and is not part of this
release.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._common import json_value
from .errors import InputError
from .kpi import CHURN_DAYS, KpiSpec, _churn_rule
from .significance import _per_user

__all__ = ["DEFAULT_CAPS", "SURVIVAL", "TOO_NOISY", "DpRelease", "dp_release"]

# Per-user caps of counts that have a natural scale; money has none and must be stated.
DEFAULT_CAPS = {"orders": 20.0, "ad_impressions": 200.0, "ad_clicks": 200.0, "sessions": 100.0}
SURVIVAL = 20.0  # a segment is shown when its noisy size is at least this many count noise scales
TOO_NOISY = 0.5  # a figure whose noise sd is above this share of it is shown as too noisy to read
_SHARES = {"churn_rate", "repeat_rate"}  # per user: yes (0/1) over counted (0/1)
# KPI -> (cap of the per-user numerator, cap of the per-user denominator; None: the count of users)
_BOUNDS = {
    "churn_rate": ("one", "one"),
    "repeat_rate": ("one", "one"),
    "revenue_per_user": ("money", None),
    "orders_per_user": ("orders", None),
    "ctr": ("ad_clicks", "ad_impressions"),
    "conversion_rate": ("sessions", "sessions"),
    "avg_order_value": ("money", "orders"),
}


@dataclass
class DpRelease:
    """Noisy segment sizes and KPIs (see the module), with the noise behind each figure."""

    epsilon: float
    table: pd.DataFrame  # segment, users, users_noise_sd, then per KPI: <kpi>, <kpi>_noise_sd, <kpi>_too_noisy
    shown: list[KpiSpec]
    left_out: dict[str, str]  # KPI -> why it is not released
    caps: dict[str, float]
    queries: int  # how many queries share epsilon
    epsilon_per_query: float
    count_scale: float
    withheld: int  # how many segments the noisy counts withheld
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        rows = [{k: json_value(v) for k, v in r.items()} for r in self.table.to_dict("records")]
        return {"epsilon": self.epsilon, "queries": self.queries, "epsilon_per_query": self.epsilon_per_query,
                "caps": self.caps, "withheld_segments": self.withheld,
                "kpis": [{"name": k.name, "label": k.label, "unit": k.unit} for k in self.shown],
                "left_out": self.left_out, "segments": rows}


def _mechanism(kind: str, bound: float, epsilon: float):
    """OpenDP's measurement for one query (a count, or a clamped sum within [0, bound]) calibrated to
    ``epsilon`` for one user added or removed, and its Laplace scale."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()

    def make(scale):
        if kind == "count":
            return space >> dp.t.then_count() >> dp.m.then_laplace(scale)
        return space >> dp.t.then_clamp((0.0, float(bound))) >> dp.t.then_sum() >> dp.m.then_laplace(scale)

    scale = dp.binary_search_param(make, d_in=1, d_out=float(epsilon))
    meas = make(scale)
    if meas.map(1) > epsilon * (1 + 1e-9):  # OpenDP's own accounting, checked
        raise RuntimeError(f"the {kind} query would spend {meas.map(1)} > {epsilon}")
    return meas, float(scale)


def dp_release(frame: pd.DataFrame, specs: list[KpiSpec], *, epsilon: float, by: str = "persona",
               caps: dict[str, float] | None = None, min_segment_size: int = 1,
               churn_days: float = CHURN_DAYS) -> DpRelease:
    """Release segment sizes and KPIs with differential privacy (see the module).

    Parameters
    ----------
    frame : DataFrame
        One row per user: ``by`` and the KPIs' inputs.
    specs : list of KpiSpec
        The KPIs the data supports.
    epsilon : float
        The privacy budget of the whole release, above 0 and at most 10.
    caps : dict, optional
        Per-user caps: ``money`` (revenue and order value, in the data's currency; no default),
        ``orders``, ``ad_impressions``, ``ad_clicks``, ``sessions`` (defaults :data:`DEFAULT_CAPS`).
    min_segment_size : int, default=1
        A segment whose noisy size is below it is withheld.
    """
    if not (isinstance(epsilon, int | float) and 0 < float(epsilon) <= 10):
        raise InputError(f"epsilon {epsilon!r} should be above 0 and at most 10 (1 is a common choice; "
                         "smaller is more private and noisier)")
    caps = {**DEFAULT_CAPS, **{k: float(v) for k, v in (caps or {}).items()}}
    bad = {k: v for k, v in caps.items() if not (np.isfinite(v) and v > 0)}
    if bad:
        raise InputError(f"cap {next(iter(bad))}={next(iter(bad.values()))} should be a positive number")
    unknown = set(caps) - set(DEFAULT_CAPS) - {"money"}
    if unknown:
        raise InputError(f"no cap named {sorted(unknown)[0]!r}: caps are money, " + ", ".join(DEFAULT_CAPS))
    caps["one"] = 1.0
    left_out: dict[str, str] = {}
    kept = []
    for spec in specs:
        num, den = _BOUNDS[spec.name]
        if "money" in (num, den) and "money" not in caps:
            left_out[spec.name] = (f"{spec.label} needs a stated cap on money per user (--clip money=AMOUNT): a "
                                   "cap read from the data would itself leak")
            continue
        kept.append(spec)
    queries = 1 + sum(1 + (_BOUNDS[k.name][1] is not None) for k in kept)
    eps_q = float(epsilon) / queries
    count_meas, count_scale = _mechanism("count", 1.0, eps_q)
    sums = {}
    for spec in kept:
        num, den = _BOUNDS[spec.name]
        sums[spec.name] = (_mechanism("sum", caps[num], eps_q), None if den is None else
                           _mechanism("sum", caps[den], eps_q))
    rule, window = _churn_rule(frame, churn_days)
    per_user = {k.name: _per_user(frame, k.name, rule, window) for k in kept}
    segments = frame[by].astype(str).to_numpy()
    rows, withheld = [], 0
    for seg in sorted(pd.unique(segments)):
        mine = segments == seg
        users = float(count_meas([1.0] * int(mine.sum())))
        count_sd = np.sqrt(2) * count_scale
        if users < max(float(min_segment_size), SURVIVAL * count_scale):
            withheld += 1
            continue
        row: dict = {"segment": seg, "users": round(users), "users_noise_sd": count_sd}
        for spec in kept:
            (num_meas, num_scale), den_pair = sums[spec.name]
            y, x = per_user[spec.name]
            s = float(num_meas(y[mine].astype(float).tolist()))
            if den_pair is None:
                n, n_sd = users, count_sd
            else:
                den_meas, den_scale = den_pair
                n, n_sd = float(den_meas(x[mine].astype(float).tolist())), np.sqrt(2) * den_scale
            s_sd = np.sqrt(2) * num_scale
            value = s / n if n > 0 else np.nan
            # the ratio's noise, to first order, from the two sums' independent noise
            sd = float(np.sqrt(s_sd ** 2 + (value * n_sd) ** 2) / n) if n > 0 else np.nan
            # post-processing, free of privacy cost: a share within [0, 1], nothing below 0
            value = float(np.clip(value, 0.0, 1.0 if spec.unit == "rate" else np.inf)) if n > 0 else np.nan
            row[spec.name] = value
            row[f"{spec.name}_noise_sd"] = sd
            row[f"{spec.name}_too_noisy"] = not (np.isfinite(sd) and sd <= TOO_NOISY * max(value, 0.0))
        rows.append(row)
    table = pd.DataFrame(rows, columns=["segment", "users", "users_noise_sd",
                                        *[c for k in kept for c in (k.name, f"{k.name}_noise_sd",
                                                                    f"{k.name}_too_noisy")]])
    caps.pop("one")
    used = {k: v for k, v in caps.items()
            if any(k in _BOUNDS[s.name] for s in kept)}
    return DpRelease(float(epsilon), table, kept, left_out, used, queries, eps_q, count_scale, withheld)
