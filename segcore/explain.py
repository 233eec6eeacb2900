"""Explain segments in the marketer's own units: plain rules per segment and the features that separate them.

Rules come from a surrogate: for each segment, a shallow decision tree learns
"this segment or not" from the raw feature values (so thresholds read as
"orders >= 5", not in standard deviations). Each leaf that predicts the segment
is a rule; a rule is reported with its precision (of the users it matches, the
share that are in the segment) and its coverage (of the segment's users, the
share it matches).

Feature separation is scikit-learn's ANOVA F statistic (``f_classif``): the
ratio of between-segment to within-segment variance of each feature.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_selection import f_classif
from sklearn.tree import DecisionTreeClassifier

from ._common import finite_numbers, seeded_rows
from ._methods import NOISE
from .errors import InputError
from .features import describe_feature

__all__ = ["segment_rules", "feature_separation", "format_rule"]


def _label(feature: str) -> str:
    return feature if "=" in feature else describe_feature(feature).label


def _fmt(v: float) -> str:
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.3g}"
    return f"{v:.2g}"


def format_rule(conditions: list[tuple[str, str, float]]) -> str:
    """``[("revenue", ">", 120.5), ...]`` as "Revenue > 121 and ..."; indicator columns read as yes/no."""
    parts = []
    for feature, op, value in conditions:
        if "=" in feature and 0 < value < 1:  # a 0/1 indicator split at 0.5
            col, val = feature.split("=", 1)
            parts.append(f"{col.replace('_', ' ')} is {'' if op == '>' else 'not '}{val}")
        else:
            parts.append(f"{_label(feature)} {'≤' if op == '<=' else '>'} {_fmt(value)}")
    return " and ".join(parts)


def _leaf_paths(tree) -> dict[int, list[tuple[int, str, float]]]:
    t = tree.tree_
    paths: dict[int, list[tuple[int, str, float]]] = {}
    stack: list[tuple[int, list[tuple[int, str, float]]]] = [(0, [])]
    while stack:
        node, conds = stack.pop()
        if t.children_left[node] == -1:
            paths[node] = conds
            continue
        f, thr = int(t.feature[node]), float(t.threshold[node])
        stack.append((t.children_left[node], conds + [(f, "<=", thr)]))
        stack.append((t.children_right[node], conds + [(f, ">", thr)]))
    return paths


def _simplify(conds: list[tuple[int, str, float]]) -> list[tuple[int, str, float]]:
    """Keep the tightest bound per feature and direction."""
    best: dict[tuple[int, str], float] = {}
    for f, op, thr in conds:
        key = (f, op)
        if key not in best:
            best[key] = thr
        else:
            best[key] = min(best[key], thr) if op == "<=" else max(best[key], thr)
    order = {k: i for i, k in enumerate(dict.fromkeys((f, op) for f, op, _ in conds))}
    return sorted([(f, op, thr) for (f, op), thr in best.items()], key=lambda c: order[(c[0], c[1])])


def segment_rules(values: pd.DataFrame, labels, *, max_rules: int = 3, max_depth: int = 3,
                  seed: int = 0, fit_sample: int = 50_000) -> pd.DataFrame:
    """Plain rules per segment, learnt by a surrogate tree on raw values.

    Parameters
    ----------
    values : DataFrame
        Raw feature values per user (numeric; categorical as 0/1 indicators).
        Missing values are filled with the column median for the surrogate.
    labels : array-like of int
        Segment of each row; -1 (unassigned) gets no rules.
    max_rules : int, default=3
        Rules kept per segment, best first (by precision x coverage).
    max_depth : int, default=3
        Conditions per rule at most.
    fit_sample : int, default=50000
        The trees learn on a seeded sample of at most this many users (fitting six trees on a
        million users took 38 s); precision, coverage and counts are measured on everyone.

    Returns
    -------
    DataFrame
        cluster, rule (text), conditions (list of (feature, op, value)),
        precision, coverage, users (matched).
    """
    labels = np.asarray(labels)
    if len(labels) != len(values):
        raise InputError(f"{len(labels)} labels for {len(values)} users")
    X = finite_numbers(values)
    X = X.fillna(X.median()).fillna(0.0).to_numpy()
    names = list(values.columns)
    fit_rows = seeded_rows(len(X), fit_sample, seed)
    min_leaf = max(5, len(fit_rows) // 200)  # a rule must describe at least 0.5 % of users
    rows = []
    for c in sorted(set(labels.tolist()) - {NOISE}):
        y = labels == c
        tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_leaf, class_weight="balanced",
                                      random_state=seed).fit(X[fit_rows], y[fit_rows])
        leaf_of = tree.apply(X)
        found: list[dict[str, Any]] = []
        for leaf, conds in _leaf_paths(tree).items():
            members = leaf_of == leaf
            n = int(members.sum())
            if n == 0 or not conds:
                continue
            precision = float(y[members].mean())
            if precision <= 0.5:
                continue
            coverage = float(y[members].sum() / y.sum())
            simple = [(names[f], op, thr) for f, op, thr in _simplify(conds)]
            found.append({"cluster": int(c), "rule": format_rule(simple), "conditions": simple,
                          "precision": precision, "coverage": coverage, "users": n})
        found.sort(key=lambda r: -r["precision"] * r["coverage"])
        rows += found[:max_rules]
    return pd.DataFrame(rows, columns=["cluster", "rule", "conditions", "precision", "coverage", "users"])


def feature_separation(values: pd.DataFrame, labels) -> pd.DataFrame:
    """Features ranked by how strongly they separate the segments (ANOVA F; unassigned users left out)."""
    labels = np.asarray(labels)
    keep = labels != NOISE
    X = finite_numbers(values)
    X = X.fillna(X.median()).fillna(0.0)
    usable = X.columns[X[keep].std() > 0]
    with warnings.catch_warnings():
        # a feature constant within every segment separates them perfectly: F is infinite and p 0, as meant
        warnings.simplefilter("ignore", RuntimeWarning)
        f, p = f_classif(X.loc[keep, usable].to_numpy(), labels[keep])
    out = pd.DataFrame({"feature": usable, "f_statistic": f, "p_value": p})
    return out.sort_values("f_statistic", ascending=False, kind="stable").reset_index(drop=True)
