"""Clustering: fit one k, sweep a range of k, and recommend k in words.

Every figure equals scikit-learn's (``inertia_``, ``silhouette_score``,
``calinski_harabasz_score``, ``davies_bouldin_score``) on the same matrix, so a
sweep can be checked against a plain scikit-learn loop; the separation metrics
are computed by :mod:`segcore._separation` in a few matrix products, which the
tests compare with scikit-learn's. Silhouette is exact up to ``silhouette_sample``
users and estimated on seeded samples beyond it; the method is reported with the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._methods import METHODS, NOISE, _fit_one, _mixed, _sample, get_method, resolve_params
from ._separation import calinski_davies, silhouette
from .errors import InputError
from .stability import k_stability

__all__ = ["ALGORITHMS", "NOISE", "FitResult", "SweepResult", "fit", "sweep", "recommend_k", "parse_k_range",
           "SILHOUETTE_SAMPLE", "silhouette_estimate", "silhouette_method"]

SILHOUETTE_SAMPLE = 10_000  # exact up to this many users
SILHOUETTE_REPEATS = 4  # beyond: the mean of this many samples of half that size
WEAK_SILHOUETTE = 0.10
STABLE_ARI = 0.75  # refits agreeing at least this much count as the same segmentation
Progress = Callable[[float, str], None]


ALGORITHMS = METHODS  # name -> Method (label, parameters, whether it needs k)


MAX_SEED = 2**31 - 1  # what NumPy, scikit-learn and the store's INTEGER column all take


def check_seed(seed) -> int:
    """The seed as an int, or a clear message: 0 to 2,147,483,647."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise InputError(f"seed={seed!r} should be a whole number from 0 to {MAX_SEED:,}")
    return int(seed)


def _check(X: np.ndarray, ks: list[int]) -> None:
    n = X.shape[0]
    if not np.isfinite(X).all():
        raise InputError("the feature matrix has missing or infinite values after preprocessing")
    for k in ks:
        if k < 2:
            raise InputError(f"k={k} should be >= 2")
        if k >= n:
            raise InputError(f"k={k} should be < the number of users ({n:,})")


def parse_k_range(text: str) -> list[int]:
    """``"2-10"`` or ``"3,5,8"`` (or one number) to a sorted list of k."""
    text = str(text).strip()
    try:
        if "-" in text:
            lo, hi = (int(p) for p in text.split("-", 1))
            ks = list(range(lo, hi + 1))
        else:
            ks = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        raise InputError(f"k range {text!r} should look like 2-10 or 3,5,8") from None
    if not ks:
        raise InputError(f"k range {text!r} is empty")
    if ks[0] < 2:
        raise InputError(f"k range {text!r} should start at 2 or more")
    if len(ks) > 40:
        raise InputError(f"k range {text!r} has {len(ks)} values; sweep at most 40")
    return ks


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster 0 is the largest, then 1, ...; unassigned users (-1) stay -1."""
    out = labels.copy()
    assigned = labels != NOISE
    if assigned.any():
        ids, counts = np.unique(labels[assigned], return_counts=True)
        order = ids[np.lexsort((ids, -counts))]
        lookup = np.empty(ids.max() + 1, dtype=np.int64)
        lookup[order] = np.arange(len(order))
        out[assigned] = lookup[labels[assigned]]
    return out


def _wcss(X: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squares (k-means' inertia) for any labelling, unassigned users left out."""
    total = 0.0
    for c in np.unique(labels[labels != NOISE]):
        part = X[labels == c]
        total += float(((part - part.mean(axis=0)) ** 2).sum())
    return total


def silhouette_estimate(X: np.ndarray, labels: np.ndarray, seed: int,
                        silhouette_sample: int = SILHOUETTE_SAMPLE) -> tuple[float, float]:
    """Silhouette and the half-width of its 95 % confidence interval.

    Exact (half-width 0) up to ``silhouette_sample`` users. Beyond, the mean of
    ``SILHOUETTE_REPEATS`` seeded samples of ``silhouette_sample // 2`` users
    (``_methods._sample`` with seeds ``seed``, ``seed + 1``, ...),
    with a Student-t interval: the same cost as one sample of ``silhouette_sample``,
    because silhouette grows with the square of the sample.
    """
    n = len(labels)
    if n <= silhouette_sample:
        return silhouette(X, labels), 0.0
    size = silhouette_sample // 2
    scores = []
    for i in range(SILHOUETTE_REPEATS):
        idx = _sample(n, size, seed + i)
        # a sample may miss small segments; with fewer than two left, silhouette is undefined
        scores.append(silhouette(X[idx], labels[idx], dtype=np.float32) if len(np.unique(labels[idx])) > 1 else np.nan)
    values = np.array(scores)
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return float(values.mean()), half


def _metrics(X: np.ndarray, labels: np.ndarray, seed: int, silhouette_sample: int) -> dict:
    """Separation metrics over the assigned users (unassigned ones belong to no segment)."""
    assigned = labels != NOISE
    Xa, la = (X, labels) if assigned.all() else (X[assigned], labels[assigned])
    n = len(la)
    if len(np.unique(la)) < 2 or n <= len(np.unique(la)):
        return {"silhouette": np.nan, "silhouette_ci": np.nan, "calinski_harabasz": np.nan, "davies_bouldin": np.nan}
    sil, half = silhouette_estimate(Xa, la, seed, silhouette_sample)
    ch, db = calinski_davies(Xa, la)
    return {"silhouette": sil, "silhouette_ci": half, "calinski_harabasz": ch, "davies_bouldin": db}


def separation_metrics(X: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict:
    """Silhouette (estimated on samples beyond ``SILHOUETTE_SAMPLE`` users), Calinski-Harabasz and
    Davies-Bouldin of a labelling that no method here fitted (an RFM scoring, say)."""
    return _metrics(X, np.asarray(labels), seed, SILHOUETTE_SAMPLE)


def silhouette_method(n: int, silhouette_sample: int = SILHOUETTE_SAMPLE) -> str:
    """How silhouette was computed for n users, in words."""
    if n <= silhouette_sample:
        return f"exact on all {n:,} users"
    return (f"mean of {SILHOUETTE_REPEATS} seeded samples of {silhouette_sample // 2:,} of {n:,} users, "
            "with a 95% confidence interval")


@dataclass
class FitResult:
    """One fitted clustering."""

    labels: np.ndarray  # -1 = unassigned (density methods only)
    probability: np.ndarray | None  # membership probability of the assigned segment, where the method has one
    k: int  # segments found (unassigned users not counted)
    metrics: dict
    params: dict


def fit(X: np.ndarray, k: int | None = None, *, algo: str = "kmeans", seed: int = 0, params: dict | None = None,
        mixed: tuple | None = None, silhouette_sample: int = SILHOUETTE_SAMPLE) -> FitResult:
    """Fit a clustering method; segments are numbered by size, largest first.

    Parameters
    ----------
    X : ndarray of shape (n_users, n_features)
        The preprocessed matrix.
    k : int, optional
        Number of segments, 2 <= k < n_users; required unless the method finds
        k itself (HDBSCAN).
    algo : str, default='kmeans'
        A key of :data:`ALGORITHMS`.
    seed : int, default=0
        Random state of the method and of the silhouette sample.
    params : dict, optional
        Method parameters (see ``ALGORITHMS[algo].params``); validated here.
    mixed : (ndarray, ndarray), optional
        Scaled numeric columns and categorical codes, for k-prototypes.
    silhouette_sample : int, default=10000
        Silhouette is exact up to this many users and sampled beyond.
    """
    seed = check_seed(seed)
    X = np.asarray(X, dtype=np.float64)
    method = get_method(algo)
    params = resolve_params(method, params)
    if method.needs_k:
        if k is None:
            raise InputError(f"{method.label} needs k, the number of segments")
        k = int(k)
        _check(X, [k])
    else:
        k = None
        _check(X, [])
    start = time.perf_counter()
    labels, proba, facts = _fit_one(X, k, method, int(seed), params, _mixed(X, mixed))
    labels = _relabel_by_size(labels)
    found = int(len(np.unique(labels[labels != NOISE])))
    metrics = {"inertia": facts.pop("inertia", None) or _wcss(X, labels),
               **_metrics(X, labels, seed, silhouette_sample),
               "silhouette_method": silhouette_method(int((labels != NOISE).sum()), silhouette_sample),
               "unassigned": int((labels == NOISE).sum()), **facts,
               "fit_seconds": time.perf_counter() - start}
    return FitResult(labels, proba, found, metrics, params)


@dataclass
class SweepResult:
    """Metrics per k and the recommended k with its reason."""

    table: pd.DataFrame  # k, inertia, silhouette, calinski_harabasz, davies_bouldin, seconds
    recommended_k: int
    reason: str
    knee_k: int | None
    confidence: str  # "clear" | "weak"
    silhouette_method: str
    n_users: int
    algo: str = "kmeans"
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    sizes: dict[int, list[int]] = field(default_factory=dict)  # k -> the segments' sizes, largest first

    def to_dict(self) -> dict:
        return {"algo": self.algo, "recommended_k": self.recommended_k, "reason": self.reason,
                "knee_k": self.knee_k, "confidence": self.confidence, "n_users": self.n_users,
                "silhouette_method": self.silhouette_method, "seconds": round(self.seconds, 3),
                "metrics": self.table.round(6).to_dict(orient="records"),
                "sizes": {str(k): v for k, v in self.sizes.items()}}


def sweep(X: np.ndarray, ks: list[int], *, algo: str = "kmeans", seed: int = 0, params: dict | None = None,
          mixed: tuple | None = None, silhouette_sample: int = SILHOUETTE_SAMPLE, stability: bool = True,
          progress: Progress | None = None) -> SweepResult:
    """Fit each k and report inertia, silhouette, Calinski-Harabasz and Davies-Bouldin (and BIC, AIC
    for mixtures), and with ``stability`` the ARI between refits on subsamples (mean and spread; see
    :mod:`segcore.stability`). ``progress(fraction, message)`` is called after each k.
    """

    seed = check_seed(seed)
    X = np.asarray(X, dtype=np.float64)
    method = get_method(algo)
    if not method.needs_k:
        raise InputError(f"{method.label} finds the number of segments itself: fit it directly instead of "
                         "sweeping k", cli="segcore run --algo hdbscan", app="Fit, with the method HDBSCAN")
    params = resolve_params(method, params)
    ks = sorted({int(k) for k in ks})
    if len(ks) < 2:
        raise InputError("a sweep needs at least two values of k")
    _check(X, ks)
    rows, sizes, start = [], {}, time.perf_counter()
    for i, k in enumerate(ks):
        t0 = time.perf_counter()
        labels, _, facts = _fit_one(X, k, method, seed, params, _mixed(X, mixed))
        counts = np.bincount(np.asarray(labels)[np.asarray(labels) != NOISE])
        sizes[int(k)] = sorted((int(n) for n in counts if n), reverse=True)
        row = {"k": k, "inertia": facts.pop("inertia", None) or _wcss(X, labels),
               **_metrics(X, labels, seed, silhouette_sample), **{f: facts[f] for f in ("bic", "aic") if f in facts}}
        if stability:
            row["stability"], row["stability_std"] = k_stability(X, k, algo=algo, params=params, mixed=mixed,
                                                                 seed=seed)
        rows.append({**row, "seconds": time.perf_counter() - t0})
        if progress:
            progress((i + 1) / len(ks), f"k={k} done ({i + 1}/{len(ks)})")
    table = pd.DataFrame(rows)
    rec, reason, knee, confidence = recommend_k(table)
    return SweepResult(table, rec, reason, knee, confidence, silhouette_method(X.shape[0], silhouette_sample),
                       int(X.shape[0]), algo, time.perf_counter() - start, sizes=sizes)


def _knee(table: pd.DataFrame) -> int | None:
    from kneed import KneeLocator

    if len(table) < 3:
        return None
    kl = KneeLocator(table["k"], table["inertia"], curve="convex", direction="decreasing")
    return int(kl.knee) if kl.knee is not None else None


def recommend_k(table: pd.DataFrame) -> tuple[int, str, int | None, str]:
    """Recommend k from a sweep table: the best-separated k among the stable ones, checked against the elbow.

    Separation is the silhouette; stability (when the table has it) is the ARI between refits on
    subsamples, and a k counts as stable at 0.75 or more. Returns ``(k, reason, knee_k, confidence)``;
    confidence is ``weak`` when the best silhouette is below 0.10 (users sit about as close to other
    segments as to their own) or when no k is stable.
    """
    has_stability = "stability" in table and table["stability"].notna().any()
    stable = table[table["stability"] >= STABLE_ARI] if has_stability else table
    pool = stable if not stable.empty else table
    best = pool.loc[pool["silhouette"].idxmax()]
    k, sil = int(best["k"]), float(best["silhouette"])
    knee = _knee(table)
    others = pool.loc[pool["k"] != k, ["k", "silhouette"]].sort_values("silhouette", ascending=False)
    runner = others.iloc[0] if len(others) else None
    parts = [f"k={k}: users fit their own segment best here (silhouette {sil:.2f}"
             + (f", next best k={int(runner['k'])} at {runner['silhouette']:.2f})." if runner is not None else ").")]
    confidence = "clear"
    if has_stability:
        if stable.empty:
            top = table.loc[table["stability"].idxmax()]
            parts.append(f"No k gives stable segments: refits on resampled users agree at most ARI "
                         f"{top['stability']:.2f} (k={int(top['k'])}), so any split should be treated with caution.")
            confidence = "weak"
        else:
            parts.append(f"Its segments are stable: refits on resampled users agree (ARI {best['stability']:.2f} "
                         f"± {best['stability_std']:.2f}).")
            overall = table.loc[table["silhouette"].idxmax()]
            if int(overall["k"]) != k:
                parts.append(f"k={int(overall['k'])} separates slightly better "
                             f"(silhouette {overall['silhouette']:.2f}) "
                             f"but does not come back reliably (ARI {overall['stability']:.2f}).")
    if knee is None:
        parts.append("The inertia curve has no clear elbow.")
    elif knee == k:
        parts.append(f"The elbow of the inertia curve agrees (k={knee}).")
    else:
        parts.append(f"The elbow of the inertia curve is at k={knee}, so k={min(k, knee)}-{max(k, knee)} "
                     "are all defensible.")
    if "bic" in table and table["bic"].notna().any():
        bic_k = int(table.loc[table["bic"].idxmin(), "k"])
        parts.append(f"BIC, which weighs fit against the mixture's size, is lowest at k={bic_k}.")
    if sil < WEAK_SILHOUETTE:
        confidence = "weak"
        parts.insert(0, f"No clear structure: at best, users sit barely closer to their own segment than to the "
                        f"next (silhouette below {WEAK_SILHOUETTE:.2f}).")
        parts.append("Treat any split as a convenient division, not natural groups.")
    return k, " ".join(parts), knee, confidence
