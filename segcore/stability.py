"""Stability: would the same segments come back from slightly different users?

- For a value of k: fit on two random 80 % subsamples and compare the labels
  of the users both contain with the adjusted Rand index; repeat and report
  the mean and spread (in the manner of Ben-Hur, Elisseeff and Guyon, 2002).
  k-means, whose sweep fits resampled users anyway, is checked by
  :mod:`segcore._resampled`: the same fits, compared on common users through
  their nearest centres.
- For a fitted run: per segment, the mean Jaccard similarity between the
  segment and its best match when refitting on bootstrap resamples (Hennig's
  clusterboot, 2007). Below 0.6 a segment is "unstable": it would not reliably
  come back.

Both work on a seeded subsample of at most ``max_users`` users, so their cost
does not grow with the dataset, and are deterministic for a fixed seed.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from ._common import seeded_rows
from ._methods import NOISE, _fit_one, _mixed, get_method, resolve_params
from ._resampled import RESAMPLED_FITS, describe, resampled_stability

__all__ = ["STABILITY_SAMPLE", "UNSTABLE_BELOW", "describe_k_stability", "k_stability", "segment_jaccard"]

STABILITY_SAMPLE = 3000
UNSTABLE_BELOW = 0.6


def _subset(mixed, idx):
    return None if mixed is None else (mixed[0][idx], mixed[1][idx])


def _labels(X, k, method, seed, params, mixed):
    labels, _, _ = _fit_one(X, k, method, seed, params, _mixed(X, mixed))
    return np.asarray(labels)


def k_stability(X: np.ndarray, k: int | None, *, algo: str = "kmeans", params: dict | None = None, mixed=None,
                seed: int = 0, n_pairs: int = 5, fraction: float = 0.8,
                max_users: int = STABILITY_SAMPLE) -> tuple[float, float]:
    """Mean and standard deviation of the ARI between fits on pairs of subsamples.

    For k-means, the check a sweep makes (:func:`segcore._resampled.resampled_stability`): fits on
    independent subsamples, compared on common users through their nearest centres.
    """
    method = get_method(algo)
    params = resolve_params(method, params)
    if method.name == "kmeans" and k is not None:
        return resampled_stability(X, k, seed=seed)
    rng = np.random.default_rng(seed)
    base = seeded_rows(len(X), max_users, rng)
    m = int(round(fraction * len(base)))
    scores = []
    for b in range(n_pairs):
        a_idx, b_idx = seeded_rows(base, m, rng), seeded_rows(base, m, rng)
        la = _labels(X[a_idx], k, method, seed + 2 * b + 1, params, _subset(mixed, a_idx))
        lb = _labels(X[b_idx], k, method, seed + 2 * b + 2, params, _subset(mixed, b_idx))
        _, pa, pb = np.intersect1d(a_idx, b_idx, return_indices=True)
        scores.append(adjusted_rand_score(la[pa], lb[pb]))
    return float(np.mean(scores)), float(np.std(scores))


def describe_k_stability(algo: str, n: int, k: int, fits: int = RESAMPLED_FITS) -> str:
    """How :func:`k_stability` (or a k-means sweep with ``fits`` resampled fits) checks a value of k, in words."""
    if algo == "kmeans":
        return describe(n, k, fits)
    return (f"adjusted Rand index (1 = identical) between refits on 5 pairs of 80% subsamples of "
            f"{min(n, STABILITY_SAMPLE):,} users, compared on the users both contain")


def segment_jaccard(X: np.ndarray, labels: np.ndarray, k: int | None, *, algo: str = "kmeans",
                    params: dict | None = None, mixed=None, seed: int = 0, n_boot: int = 8,
                    max_users: int = STABILITY_SAMPLE) -> dict[int, float]:
    """Per segment, the mean best-match Jaccard similarity over bootstrap refits (unassigned users excluded)."""
    method = get_method(algo)
    params = resolve_params(method, params)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    base = seeded_rows(len(X), max_users, rng)
    clusters = sorted(set(labels[base].tolist()) - {NOISE})
    totals = {c: 0.0 for c in clusters}
    for b in range(n_boot):
        idx = rng.choice(base, size=len(base), replace=True)
        refit = _labels(X[idx], k, method, seed + b + 1, params, _subset(mixed, idx))
        users = np.unique(idx)
        # each resampled user counts once: take the label of its first draw
        first = np.unique(idx, return_index=True)[1]
        refit_by_user = refit[first]
        orig = labels[users]
        for c in clusters:
            in_c = orig == c
            if not in_c.any():
                continue
            best = 0.0
            for d in set(refit_by_user.tolist()) - {NOISE}:
                in_d = refit_by_user == d
                best = max(best, (in_c & in_d).sum() / (in_c | in_d).sum())
            totals[c] += best
    return {int(c): totals[c] / n_boot for c in clusters}
