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

from ._methods import METHODS, NOISE, _fit_one, _mixed, _sample, check_found, get_method, resolve_params
from ._resampled import RESAMPLED_FITS, resampled_kmeans
from ._separation import calinski_davies, silhouettes
from .errors import InputError
from .stability import describe_k_stability, k_stability

__all__ = ["ALGORITHMS", "NOISE", "FitResult", "SweepResult", "fit", "sweep", "recommend_k", "parse_k_range",
           "SILHOUETTE_SAMPLE", "SWEEP_SILHOUETTE_SAMPLE", "silhouette_estimate", "silhouette_estimates",
           "silhouette_method"]

SILHOUETTE_SAMPLE = 10_000  # exact up to this many users
SILHOUETTE_REPEATS = 4  # beyond: the mean of this many samples of half that size
SWEEP_SILHOUETTE_SAMPLE = 5_000  # a sweep compares k on the same samples, so smaller ones suffice there
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


def silhouette_estimate(X: np.ndarray, labels: np.ndarray, seed: int,
                        silhouette_sample: int = SILHOUETTE_SAMPLE) -> tuple[float, float]:
    """Silhouette and the half-width of its 95 % confidence interval.

    Exact (half-width 0) up to ``silhouette_sample`` users. Beyond, the mean of
    ``SILHOUETTE_REPEATS`` seeded samples of ``silhouette_sample // 2`` users
    (``_methods._sample`` with seeds ``seed``, ``seed + 1``, ...),
    with a Student-t interval: the same cost as one sample of ``silhouette_sample``,
    because silhouette grows with the square of the sample.
    """
    values, halves = silhouette_estimates(X, np.asarray(labels)[:, None], seed, silhouette_sample)
    return float(values[0]), float(halves[0])


def silhouette_estimates(X: np.ndarray, labellings: np.ndarray, seed: int,
                         silhouette_sample: int = SILHOUETTE_SAMPLE) -> tuple[np.ndarray, np.ndarray]:
    """:func:`silhouette_estimate` of each column of ``labellings`` (n_users x n_labellings) on the same
    samples, whose distances are computed once for all of them."""
    n = len(labellings)
    if n <= silhouette_sample:
        return silhouettes(X, labellings), np.zeros(labellings.shape[1])
    size = silhouette_sample // 2
    # a sample may miss small segments; with fewer than two left, that labelling's silhouette is NaN
    scores = np.array([silhouettes(X[idx], labellings[idx], dtype=np.float32)
                       for idx in (_sample(n, size, seed + i) for i in range(SILHOUETTE_REPEATS))])
    half = stats.t.ppf(0.975, len(scores) - 1) * scores.std(axis=0, ddof=1) / np.sqrt(len(scores))
    return scores.mean(axis=0), half


def _metrics(X: np.ndarray, labels: np.ndarray, seed: int, silhouette_sample: int) -> dict:
    """Inertia and the separation metrics over the assigned users (unassigned ones belong to no segment)."""
    assigned = labels != NOISE
    Xa, la = (X, labels) if assigned.all() else (X[assigned], labels[assigned])
    n = len(la)
    if len(np.unique(la)) < 2 or n <= len(np.unique(la)):
        return {"inertia": np.nan, "silhouette": np.nan, "silhouette_ci": np.nan, "calinski_harabasz": np.nan,
                "davies_bouldin": np.nan}
    sil, half = silhouette_estimate(Xa, la, seed, silhouette_sample)
    ch, db, within = calinski_davies(Xa, la)
    return {"inertia": within, "silhouette": sil, "silhouette_ci": half, "calinski_harabasz": ch,
            "davies_bouldin": db}


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
    metrics = {**_metrics(X, labels, seed, silhouette_sample),
               "silhouette_method": silhouette_method(int((labels != NOISE).sum()), silhouette_sample),
               "unassigned": int((labels == NOISE).sum()), **facts,
               "fit_seconds": time.perf_counter() - start}
    return FitResult(labels, proba, found, metrics, params)


@dataclass
class SweepResult:
    """Metrics per k and the recommended k with its reason."""

    table: pd.DataFrame  # k, inertia, silhouette, calinski_harabasz, davies_bouldin, seconds (of each k's fits)
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
    stability_method: str = ""  # how stability was checked, in words ("" without the check)
    centres: dict[int, np.ndarray] = field(default_factory=dict)  # k -> k-means' centres (k x features)

    def to_dict(self) -> dict:
        return {"algo": self.algo, "recommended_k": self.recommended_k, "reason": self.reason,
                "knee_k": self.knee_k, "confidence": self.confidence, "n_users": self.n_users,
                "silhouette_method": self.silhouette_method, "stability_method": self.stability_method,
                "seconds": round(self.seconds, 3),
                "metrics": self.table.round(6).to_dict(orient="records"),
                "sizes": {str(k): v for k, v in self.sizes.items()}}


def sweep(X: np.ndarray, ks: list[int], *, algo: str = "kmeans", seed: int = 0, params: dict | None = None,
          mixed: tuple | None = None, silhouette_sample: int = SWEEP_SILHOUETTE_SAMPLE, stability: bool = True,
          progress: Progress | None = None) -> SweepResult:
    """Fit each k and report inertia, silhouette, Calinski-Harabasz and Davies-Bouldin (and BIC, AIC
    for mixtures), and with ``stability`` the agreement of fits on resampled users (mean and spread).

    k-means, the default, is fitted by :func:`segcore._resampled.resampled_kmeans`: its restarts are
    fits on resampled users whose agreement is the stability, and the best is refined on everyone.
    Other methods are fitted on everyone and checked by :func:`segcore.stability.k_stability`.
    The separation metrics of every k are computed after the fits, the silhouette's distances once
    for all k. ``progress(fraction, message)`` is called before each k and before the metrics.
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
    say = progress or (lambda fraction, message: None)
    rows, sizes, centres, start = [], {}, {}, time.perf_counter()
    fits = RESAMPLED_FITS
    if method.name == "kmeans":  # its restarts are the resampled fits
        fits = max(params["n_init"], RESAMPLED_FITS) if stability else params["n_init"]
    labellings = np.empty((len(X), len(ks)), dtype=np.int32)
    X32 = np.ascontiguousarray(X, dtype=np.float32) if method.name == "kmeans" else X  # k-means fits in float32
    for i, k in enumerate(ks):
        say(i / (len(ks) + 1), f"Fitting k={k} ({i + 1} of {len(ks)}).")
        t0 = time.perf_counter()
        if method.name == "kmeans":
            fitted = resampled_kmeans(X32, k, seed=seed, fits=fits, refine_sample=params["fit_sample"])
            labels, centres[k] = fitted.labels, fitted.centres
            check_found(labels, k, method)
            row = {"k": k, **({"stability": fitted.stability, "stability_std": fitted.stability_std}
                              if stability and fits > 1 else {})}
        else:
            labels, _, facts = _fit_one(X, k, method, seed, params, _mixed(X, mixed))
            row = {"k": k, **{f: facts[f] for f in ("bic", "aic") if f in facts}}
            if stability:
                row["stability"], row["stability_std"] = k_stability(X, k, algo=algo, params=params, mixed=mixed,
                                                                     seed=seed)
        labellings[:, i] = labels
        counts = np.bincount(labels[labels != NOISE])
        sizes[int(k)] = sorted((int(n) for n in counts if n), reverse=True)
        rows.append({**row, "seconds": time.perf_counter() - t0})
    say(len(ks) / (len(ks) + 1), f"Measuring how well separated the segments are at each of the {len(ks)} k.")
    sil, half = silhouette_estimates(X, labellings, seed, silhouette_sample)
    for i, row in enumerate(rows):
        ch, db, within = calinski_davies(X, labellings[:, i])
        row.update(inertia=within, silhouette=float(sil[i]), silhouette_ci=float(half[i]), calinski_harabasz=ch,
                   davies_bouldin=db)
    say(1.0, f"Compared {len(ks)} values of k.")
    order = ["k", "inertia", "silhouette", "silhouette_ci", "calinski_harabasz", "davies_bouldin", "bic", "aic",
             "stability", "stability_std", "seconds"]
    table = pd.DataFrame(rows)
    table = table[[c for c in order if c in table]]
    rec, reason, knee, confidence = recommend_k(table)
    checked = "stability" in table
    return SweepResult(table, rec, reason, knee, confidence, silhouette_method(X.shape[0], silhouette_sample),
                       int(X.shape[0]), algo, time.perf_counter() - start, sizes=sizes, centres=centres,
                       stability_method=describe_k_stability(algo, len(X), ks[-1], fits) if checked else "")


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
