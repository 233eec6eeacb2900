"""k-means on resampled users: a sweep's restarts that double as its stability check.

For one k:

1. ``fits`` k-means fits (each the better of ``STARTS`` k-means++ starts) on independent seeded subsamples of
   ``fit_users`` users (at most 80 % of everyone, so two subsamples always differ);
2. each fit labels the same seeded evaluation users by nearest centre; the adjusted Rand index
   between every pair of those labellings is the stability (Lange, Roth, Braun and Buhmann, 2004:
   fits on resampled data, transferred to common users by the nearest centroid);
3. the fit whose centres leave the evaluation users closest (lowest inertia there) starts Lloyd's
   iterations on everyone (through a ``refine_sample`` of users first when there are more), so the
   restarts see a few thousand users and only one descent sees them all.

Lloyd's algorithm only descends, so the result is at least as good as the best subsample solution
applied to everyone. Every fit is scikit-learn's ``KMeans``, in float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import seeded_rows
from ._methods import quiet_convergence

__all__ = ["FIT_USERS", "RESAMPLED_FITS", "EVAL_USERS", "ResampledFit", "adjusted_rand", "describe",
           "resampled_kmeans", "resampled_stability", "users_per_fit"]

RESAMPLED_FITS = 4  # 6 pairs to compare
FIT_USERS = 2400  # users per fit: 80 % of EVAL_USERS, as the refits of the older pairwise check
EVAL_USERS = 3000  # the common users every fit labels
# starts per resampled fit: with one, a fit's luck in its start shows as instability, which the app's fit
# (the best of several starts) does not have (docs/PERFORMANCE.md has the figures at 1M users)
STARTS = 2


@dataclass(frozen=True)
class ResampledFit:
    """The refined fit on everyone and the agreement of the resampled fits."""

    labels: np.ndarray  # everyone's segment (0..k-1, not yet ordered by size)
    centres: np.ndarray  # k x n_features, float64
    stability: float  # mean adjusted Rand index over pairs of resampled fits
    stability_std: float
    facts: dict


def adjusted_rand(a: np.ndarray, b: np.ndarray) -> float:
    """scikit-learn's ``adjusted_rand_score`` of two labellings of the same users (codes >= 0),
    from one contingency count: the stability check compares 10 pairs per k."""
    a = np.unique(a, return_inverse=True)[1]
    b = np.unique(b, return_inverse=True)[1]
    n = len(a)
    table = np.bincount(a * (b.max() + 1) + b).astype(np.float64)
    rows = np.bincount(a).astype(np.float64)
    cols = np.bincount(b).astype(np.float64)
    # pair counts as scikit-learn's pair_confusion_matrix: same in both, same in one only, in neither
    same_both = (table * (table - 1)).sum()
    same_a = (rows * (rows - 1)).sum() - same_both
    same_b = (cols * (cols - 1)).sum() - same_both
    neither = n * (n - 1) - same_both - same_a - same_b
    if same_a == 0 and same_b == 0:
        return 1.0  # identical partitions, or both putting every user apart / together
    return float(2.0 * (same_both * neither - same_a * same_b)
                 / ((same_both + same_b) * (same_b + neither) + (same_both + same_a) * (same_a + neither)))


def users_per_fit(n: int, k: int, fit_users: int = FIT_USERS) -> int:
    """Users in each resampled fit: ``fit_users``, at most 80 % of everyone; everyone when that leaves
    no more than k (the fits then differ only by their start)."""
    size = min(fit_users, int(round(0.8 * n)))
    return n if size <= k else size


def describe(n: int, k: int, fits: int = RESAMPLED_FITS) -> str:
    """The stability check in words, for n users."""
    return (f"agreement (adjusted Rand index; 1 = identical) of {fits} k-means fits (each the best of {STARTS} "
            f"starts) on independent samples of {users_per_fit(n, k):,} users, compared on "
            f"{min(n, EVAL_USERS):,} common users through their nearest centres ({fits * (fits - 1) // 2} pairs)")


def _nearest(X: np.ndarray, centres: np.ndarray, norms: np.ndarray) -> tuple[np.ndarray, float]:
    """Each row's nearest centre, and the sum of squared distances to them (``norms``: the rows' squared norms)."""
    d = X @ centres.T
    d *= -2.0
    d += np.einsum("ij,ij->i", centres, centres)[None]
    best = d.argmin(axis=1)
    return best, float(np.maximum(d[np.arange(len(X)), best] + norms, 0.0).sum(dtype=np.float64))


def _subsample_fits(X32: np.ndarray, k: int, seed: int, fits: int, fit_users: int):
    """The resampled fits' centres and their labels of the evaluation users."""
    from sklearn.cluster import KMeans

    n = len(X32)
    rng = np.random.default_rng(seed)  # the same users for every k: comparisons across k share their noise
    evaluation = X32[seeded_rows(n, EVAL_USERS, rng)]
    norms = np.einsum("ij,ij->i", evaluation, evaluation)
    size = users_per_fit(n, k, fit_users)
    centres, labels, costs = [], [], []
    for r in range(fits):
        rows = seeded_rows(n, size, rng)
        with quiet_convergence():
            c = KMeans(n_clusters=k, n_init=STARTS, random_state=seed + r).fit(X32[rows]).cluster_centers_
        lab, cost = _nearest(evaluation, c, norms)
        centres.append(c)
        labels.append(lab)
        costs.append(cost)
    return centres, labels, costs, size


def _agreement(labels: list[np.ndarray]) -> tuple[float, float]:
    scores = [adjusted_rand(labels[i], labels[j]) for i in range(len(labels)) for j in range(i + 1, len(labels))]
    return float(np.mean(scores)), float(np.std(scores))


def resampled_stability(X: np.ndarray, k: int, *, seed: int = 0, fits: int = RESAMPLED_FITS,
                        fit_users: int = FIT_USERS) -> tuple[float, float]:
    """Mean and standard deviation of the adjusted Rand index between k-means fits on resampled users."""
    _, labels, _, _ = _subsample_fits(np.ascontiguousarray(X, dtype=np.float32), k, seed, fits, fit_users)
    return _agreement(labels)


def resampled_kmeans(X: np.ndarray, k: int, *, seed: int = 0, fits: int = RESAMPLED_FITS,
                     fit_users: int = FIT_USERS, refine_sample: int = 100_000) -> ResampledFit:
    """k-means for one k of a sweep: the best of ``fits`` resampled fits, refined on everyone.

    Parameters
    ----------
    X : ndarray of shape (n_users, n_features)
    k : int
    seed : int, default=0
        Seeds the subsamples, the evaluation users and each fit's start.
    fits : int, default=4
        Resampled fits: the restarts, and (with two or more) the stability check.
    fit_users : int, default=2400
        Users per resampled fit (at most 80 % of everyone).
    refine_sample : int, default=100000
        With more users than this, Lloyd's iterations first run on a seeded sample of this many
        (0: straight on everyone).
    """
    from sklearn.cluster import KMeans

    X32 = np.ascontiguousarray(X, dtype=np.float32)
    centres, labels, costs, size = _subsample_fits(X32, k, seed, fits, fit_users)
    start = centres[int(np.argmin(costs))]
    facts = {"resampled_fits": fits, "users_per_fit": int(size)}
    with quiet_convergence():
        if refine_sample and len(X32) > refine_sample:
            rows = seeded_rows(len(X32), refine_sample, seed)
            start = KMeans(n_clusters=k, init=start, n_init=1, random_state=seed).fit(X32[rows]).cluster_centers_
            facts["refined_first_on"] = int(refine_sample)
        final = KMeans(n_clusters=k, init=start, n_init=1, random_state=seed).fit(X32)
    facts["lloyd_iterations_on_all"] = int(final.n_iter_)
    mean, std = _agreement(labels) if fits > 1 else (np.nan, np.nan)
    return ResampledFit(np.asarray(final.labels_, dtype=np.int64), final.cluster_centers_.astype(np.float64),
                        mean, std, facts)
