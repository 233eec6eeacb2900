"""Experiment readouts per persona: the effect of each variant on each KPI, overall and within each persona.

Each user is in one variant (a column of the dataset: a users-table column, or an event column kept per
user at import). For every KPI the data supports, every variant is compared with the control, over
everyone and within each persona, with the same intervals and tests as the KPIs against the rest
(:mod:`segcore.significance`: score tests for shares, Welch for means per user, the delta method over
users for ratios of events); every variant x KPI x scope cell is one test, and they are corrected
together (Benjamini-Hochberg by default, Holm on request).

Heterogeneity: whether a variant's effect on a KPI differs between personas is Cochran's Q over the
personas' effects, weighted by their inverse variances (statsmodels' ``combine_effects``), with I²
(the share of the spread between personas beyond chance). A small p says the personas respond
differently: target the variant where it works.

Personas below the minimum segment size are left out, and their users from the overall readout too:
their effect would otherwise be recoverable by subtraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._common import json_value
from .disclosure import shown_users
from .errors import InputError
from .kpi import CHURN_DAYS, KpiSpec, _churn_rule, kpi_availability
from .significance import CORRECTIONS, LEVEL, _cell, _correct, _per_user

__all__ = ["MAX_VARIANTS", "ExperimentReadout", "experiment_readout", "pick_control"]

MAX_VARIANTS = 10  # a column with more values is not an experiment's assignment
_CONTROL_NAMES = ("control", "ctrl", "baseline", "holdout", "a")


def pick_control(variants: list[str]) -> str:
    """The control among the variants: one named like a control (control, baseline, holdout, A), else the first."""
    for name in _CONTROL_NAMES:
        for v in variants:
            if str(v).strip().casefold() == name:
                return v
    return variants[0]


@dataclass
class ExperimentReadout:
    """Per scope (``All users`` then each persona), KPI and variant: the effect against the control, and per
    KPI and variant the heterogeneity between personas."""

    effects: pd.DataFrame
    heterogeneity: pd.DataFrame
    variant_column: str
    variants: list[str]
    control: str
    shown: list[KpiSpec]
    correction: str
    withheld: list[str]
    users: dict[str, int]  # variant -> users in the readout

    def to_dict(self) -> dict:
        return {"variant_column": self.variant_column, "variants": self.variants, "control": self.control,
                "users": self.users, "correction": {"bh": "Benjamini-Hochberg", "holm": "Holm"}[self.correction],
                "kpis": [{"name": k.name, "label": k.label, "unit": k.unit} for k in self.shown],
                "withheld": self.withheld,
                "effects": [{k: json_value(v) for k, v in r.items()} for r in self.effects.to_dict("records")],
                "heterogeneity": [{k: json_value(v) for k, v in r.items()}
                                  for r in self.heterogeneity.to_dict("records")]}


def _variants(values: pd.Series, column: str) -> list[str]:
    found = sorted(values.dropna().astype(str).unique().tolist())
    if len(found) < 2:
        raise InputError(f"column {column!r} holds {len(found)} variant(s): an experiment needs at least two")
    if len(found) > MAX_VARIANTS:
        raise InputError(f"column {column!r} holds {len(found)} different values: an experiment's assignment has "
                         f"at most {MAX_VARIANTS} variants (is it the right column?)")
    return found


def _heterogeneity(effects: pd.DataFrame) -> pd.DataFrame:
    """Cochran's Q and I² of each KPI x variant over the personas with an effect and its interval."""
    from statsmodels.stats.meta_analysis import combine_effects

    z = float(stats.norm.ppf(0.5 + LEVEL / 2))
    rows = []
    personas = effects[(effects["scope"] != "All users") & effects["effect"].notna()
                       & effects["effect_low"].notna()]
    for (kpi, variant), part in personas.groupby(["kpi", "variant"], sort=False):
        se = (part["effect_high"] - part["effect_low"]).to_numpy(dtype=float) / (2 * z)
        keep = se > 0
        row = {"kpi": kpi, "variant": variant, "personas": int(keep.sum())}
        if keep.sum() < 2:
            rows.append(row | {"reason": "fewer than two personas with an effect to compare"})
            continue
        res = combine_effects(part["effect"].to_numpy(dtype=float)[keep], se[keep] ** 2)
        test = res.test_homogeneity()
        rows.append(row | {"q_statistic": float(test.statistic), "df": int(test.df), "p": float(test.pvalue),
                           "i2": float(max(res.i2, 0.0))})
    out = pd.DataFrame(rows, columns=["kpi", "variant", "personas", "q_statistic", "df", "p", "i2", "reason"])
    return out


def experiment_readout(frame: pd.DataFrame, variant: str, *, by: str = "persona", control: str | None = None,
                       churn_days: float = CHURN_DAYS, min_segment_size: int = 1, correction: str = "bh",
                       alpha: float = 0.05, shape: str | None = None) -> ExperimentReadout:
    """The effect of each variant on each KPI, overall and per persona.

    Parameters
    ----------
    frame : DataFrame
        One row per user: ``by``, ``variant`` and the KPIs' inputs (:data:`segcore.kpi.KPI_INPUTS`).
    variant : str
        The column naming each user's variant (users without one are left out).
    control : str, optional
        The variant the others are compared with (default: :func:`pick_control`).
    min_segment_size : int, default=1
        Smaller personas are left out, and their users count nowhere.
    correction : {'bh', 'holm'}, default='bh'
    alpha : float, default=0.05
    shape : str, optional
        The log's shape, for the KPIs a transaction log cannot support.

    Returns
    -------
    ExperimentReadout
        ``effects``: scope, kpi, variant, control, users and control_users (behind the KPI), value and
        control_value, effect (variant minus control) with effect_low and effect_high (95 %), relative
        effect, p, q, significant, method and reason; ``heterogeneity``: kpi, variant, personas,
        q_statistic, df, p, i2.
    """
    if correction not in CORRECTIONS:
        raise InputError(f"correction={correction!r} should be one of {', '.join(CORRECTIONS)}")
    if variant not in frame:
        raise InputError(f"no column {variant!r} to read the variants from")
    if variant == by:
        raise InputError("the variant column cannot be the persona")
    assigned = frame[frame[variant].notna()].reset_index(drop=True)
    variants = _variants(assigned[variant], variant)
    control = control if control is not None else pick_control(variants)
    if control not in variants:
        raise InputError(f"control {control!r} is not a variant of {variant!r}: {', '.join(variants)}")
    specs = kpi_availability([c for c in frame.columns if c != variant], shape)[0]
    if not specs:
        raise InputError("the data supports none of the KPIs to read an experiment on")
    shown_mask = np.asarray(shown_users(assigned[by], min_segment_size), dtype=bool)
    withheld = sorted({str(s) for s in assigned.loc[~shown_mask, by].dropna()})
    data = assigned[shown_mask].reset_index(drop=True)
    if data.empty:
        raise InputError(f"every persona has fewer than {int(min_segment_size)} users in the experiment")
    rule, window = _churn_rule(frame, churn_days)
    arm = data[variant].astype(str).to_numpy()
    personas = data[by].astype(str).to_numpy()
    scopes = [("All users", np.ones(len(data), dtype=bool))] + \
        [(p, personas == p) for p in sorted(pd.unique(personas))]
    rows = []
    for spec in specs:
        y, x = _per_user(data, spec.name, rule, window)
        for scope, mine in scopes:
            base = mine & (arm == control)
            for v in variants:
                if v == control:
                    continue
                treated = mine & (arm == v)
                cell = _cell(spec.name, y[treated], x[treated], (y[base], x[base]))
                rows.append({"scope": scope, "kpi": spec.name, "variant": v, "control": control,
                             "users": int((x[treated] > 0).sum()), "control_users": int((x[base] > 0).sum()),
                             "value": cell.get("value"), "control_value": cell.get("rest"),
                             "effect": cell.get("diff_vs_rest"), "effect_low": cell.get("diff_low"),
                             "effect_high": cell.get("diff_high"), "p": cell.get("p"), "method": cell.get("method"),
                             "reason": cell.get("reason")})
    effects = pd.DataFrame(rows)
    for col in ("value", "control_value", "effect", "effect_low", "effect_high", "p"):
        effects[col] = pd.to_numeric(effects[col], errors="coerce")
    with np.errstate(invalid="ignore", divide="ignore"):
        effects["relative"] = np.where(effects["control_value"] > 0, effects["effect"] / effects["control_value"],
                                       np.nan)
    effects["q"] = _correct(effects["p"], correction, alpha)
    effects["significant"] = effects["q"] < alpha
    users = {v: int((data[variant].astype(str) == v).sum()) for v in variants}
    return ExperimentReadout(effects, _heterogeneity(effects), variant, variants, control, specs, correction,
                             withheld, users)
