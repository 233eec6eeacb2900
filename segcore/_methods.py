"""Clustering methods: what each is, which parameters it takes, and how it is fitted.

Parameters are declared as data (type, range, default) and validated once by
:func:`resolve_params`; the fit functions assume clean input. Every fit function
returns labels for every row of ``X`` (``-1`` = left unassigned, HDBSCAN only),
per-row membership probabilities or None, and a dict of facts worth recording
with the run (sample sizes, BIC, ...).

Methods whose cost grows with the square of the number of users (Ward,
k-prototypes, HDBSCAN) are fitted on a seeded sample of at most ``max_fit``
users; the others are placed afterwards (nearest centroid, the model's own
predict, or the label of the nearest sampled user).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ._common import seeded_rows
from .errors import InputError

NOISE = -1


@dataclass(frozen=True)
class Param:
    name: str
    kind: type  # int, float or str
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    help: str = ""
    label: str = ""  # what the app shows; the name is what the CLI takes

    @property
    def title(self) -> str:
        return self.label or self.name

    def check(self, value):
        try:
            value = self.kind(value)
        except (TypeError, ValueError):
            kind = {int: "a whole number", float: "a number"}.get(self.kind, "text")
            raise InputError(f"{self.name}={value!r} should be {kind}") from None
        if self.choices and value not in self.choices:
            raise InputError(f"{self.name}={value!r} should be one of {', '.join(map(str, self.choices))}")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise InputError(f"{self.name}={value} should be between {self.low:g} and {self.high:g}")
        return value


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    needs_k: bool
    params: tuple[Param, ...]
    fit: Callable
    summary: str


def _sample(n: int, max_fit: int, seed: int) -> np.ndarray | None:
    """Sorted row numbers of a seeded sample of ``max_fit`` of ``n`` rows (O(max_fit), no permutation
    of n), or None when every row fits."""
    return None if n <= max_fit else seeded_rows(n, max_fit, seed)


def _nearest_centroid(X: np.ndarray, fitted_idx: np.ndarray, fitted_labels: np.ndarray) -> np.ndarray:
    ids = np.unique(fitted_labels)
    centres = np.vstack([X[fitted_idx][fitted_labels == c].mean(axis=0) for c in ids])
    # squared distances in chunks: bounded memory for millions of users
    out = np.empty(len(X), dtype=np.int64)
    for start in range(0, len(X), 100_000):
        block = X[start:start + 100_000]
        d = (block ** 2).sum(1)[:, None] - 2 * block @ centres.T + (centres ** 2).sum(1)[None]
        out[start:start + 100_000] = ids[d.argmin(axis=1)]
    return out


def _fit_kmeans(X, k, seed, p, mixed):
    """k-means; above ``fit_sample`` users, the restarts run on a seeded sample and Lloyd's
    iterations then finish on everyone from the best sample solution (float32, warm start).

    Lloyd's algorithm only descends, so the refined solution's inertia is at most that of the sample's
    centres applied to everyone, and the restarts, the costly part, see a fraction of the rows.
    """
    from sklearn.cluster import KMeans

    idx = _sample(len(X), p["fit_sample"], seed) if p["fit_sample"] else None
    if idx is None:
        m = KMeans(n_clusters=k, n_init=p["n_init"], random_state=seed).fit(X)
        return m.labels_, None, {}
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    start = KMeans(n_clusters=k, n_init=p["n_init"], random_state=seed).fit(X32[idx])
    m = KMeans(n_clusters=k, init=start.cluster_centers_, n_init=1, random_state=seed).fit(X32)
    return m.labels_, None, {"fit_sample": int(len(idx)),
                             "lloyd_iterations_on_all": int(m.n_iter_)}


def _fit_minibatch(X, k, seed, p, mixed):
    from sklearn.cluster import MiniBatchKMeans

    m = MiniBatchKMeans(n_clusters=k, n_init=p["n_init"], batch_size=p["batch_size"], random_state=seed).fit(X)
    return m.labels_, None, {}


def _fit_gmm(X, k, seed, p, mixed):
    from sklearn.mixture import GaussianMixture

    # reg_covar above scikit-learn's 1e-6: one-hot and capped columns make covariances near-singular.
    m = GaussianMixture(n_components=k, covariance_type=p["covariance_type"], reg_covar=p["reg_covar"],
                        n_init=p["n_init"], random_state=seed).fit(X)
    proba = m.predict_proba(X)
    return proba.argmax(axis=1), proba.max(axis=1), {"bic": float(m.bic(X)), "aic": float(m.aic(X)),
                                                     "converged": bool(m.converged_)}


def _fit_ward(X, k, seed, p, mixed):
    from sklearn.cluster import AgglomerativeClustering

    idx = _sample(len(X), p["max_fit"], seed)
    fit_X = X if idx is None else X[idx]
    labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(fit_X).labels_
    if idx is not None:
        labels = _nearest_centroid(X, idx, labels)
    return labels, None, {"fitted_on": int(len(fit_X))}


def _fit_hdbscan(X, k, seed, p, mixed):
    from sklearn.cluster import HDBSCAN
    from sklearn.neighbors import KNeighborsClassifier

    idx = _sample(len(X), p["max_fit"], seed)
    fit_X = X if idx is None else X[idx]
    min_size = p["min_cluster_size"] or max(10, len(fit_X) // 100)
    m = HDBSCAN(min_cluster_size=min_size, min_samples=p["min_samples"], copy=True).fit(fit_X)
    labels, proba = m.labels_, m.probabilities_
    if idx is not None:
        # everyone else takes the label of the nearest sampled user (noise stays noise)
        knn = KNeighborsClassifier(n_neighbors=1).fit(fit_X, labels)
        full = knn.predict(X)
        full[idx] = labels
        full_p = np.full(len(X), np.nan)
        full_p[idx] = proba
        labels, proba = full, full_p
    return labels, proba, {"fitted_on": int(len(fit_X)), "min_cluster_size": int(min_size),
                           "unassigned_share": float(np.mean(labels == NOISE))}


def _fit_kprototypes(X, k, seed, p, mixed):
    from kmodes.kprototypes import KPrototypes

    num, cats = mixed
    if cats.shape[1] == 0:
        raise InputError("k-prototypes is for mixed data: choose at least one categorical feature "
                         "(attributes such as country or device), or use k-means")
    table = np.concatenate([num, cats.astype(object)], axis=1).astype(object)
    cat_idx = list(range(num.shape[1], table.shape[1]))
    idx = _sample(len(X), p["max_fit"], seed)
    fit_M = table if idx is None else table[idx]
    m = KPrototypes(n_clusters=k, n_init=p["n_init"], random_state=seed, n_jobs=1)
    m.fit(fit_M, categorical=cat_idx)
    labels = m.labels_ if idx is None else m.predict(table, categorical=cat_idx)
    return np.asarray(labels), None, {"fitted_on": int(len(fit_M)), "gamma": float(m.gamma)}


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("kmeans", "k-means", True,
           (Param("n_init", int, 4, 1, 50, help="fits from different starts; the best is kept", label="Restarts"),
            Param("fit_sample", int, 100_000, 0, 100_000_000, label="Restarts on a sample of",
                  help="above this many users, restarts run on a sample and the best "
                       "is refined on everyone (0 = always all users)")),
           _fit_kmeans, "Round segments of similar size; the default."),
    Method("minibatch", "Mini-batch k-means", True,
           (Param("n_init", int, 3, 1, 50, label="Restarts"),
            Param("batch_size", int, 4096, 256, 1_000_000, label="Batch size")),
           _fit_minibatch, "k-means on batches: faster on very large data, usually a looser fit."),
    Method("gmm", "Gaussian mixture", True,
           (Param("covariance_type", str, "full", choices=("full", "diag", "tied", "spherical"), label="Segment shape"),
            Param("reg_covar", float, 1e-4, 1e-9, 1.0, label="Regularisation",
                  help="added to covariances; raise it if fitting fails"),
            Param("n_init", int, 1, 1, 20, label="Restarts")),
           _fit_gmm, "Soft segments with membership probabilities; BIC and AIC help choose k."),
    Method("ward", "Ward hierarchical", True, (Param("max_fit", int, 5000, 100, 20000, label="Users to build on",
                                                       help="users the hierarchy is built on"),),
           _fit_ward, "Merges users bottom-up; built on a sample, everyone else joins the nearest segment."),
    Method("hdbscan", "HDBSCAN (density)", False,
           (Param("min_cluster_size", int, 0, 0, 1_000_000, help="0 = 1% of the fitted users (at least 10)",
                  label="Smallest segment"),
            Param("min_samples", int, 10, 1, 1000, label="Density (min samples)",
                  help="higher leaves more users unassigned"),
            Param("max_fit", int, 20000, 100, 200000, label="Users to fit on")),
           _fit_hdbscan, "Finds dense groups by itself (no k); users in no dense group stay unassigned. "
                         "Works best after PCA to a few dimensions."),
    Method("kprototypes", "k-prototypes (mixed)", True,
           (Param("n_init", int, 2, 1, 20, label="Restarts"),
            Param("max_fit", int, 5000, 100, 50000, label="Users to fit on")),
           _fit_kprototypes, "For numbers and categories together: categories are matched, not one-hot encoded."),
)}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise InputError(f"algo={name!r} is not available; choose one of {', '.join(METHODS)}")
    return METHODS[name]


def resolve_params(method: Method, given: dict | None) -> dict:
    """Defaults overlaid with ``given``, every value checked; unknown names are refused."""
    given = dict(given or {})
    known = {p.name: p for p in method.params}
    unknown = [k for k in given if k not in known]
    if unknown:
        allowed = ", ".join(known) or "none"
        raise InputError(f"the method {method.name} has no parameter {unknown[0]!r} (parameters: {allowed})")
    return {name: p.check(given.get(name, p.default)) for name, p in known.items()}


@contextmanager
def quiet_convergence():
    """scikit-learn's ConvergenceWarning silenced: too few distinct users for k is refused in words by
    :func:`check_found` instead."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _fit_one(X: np.ndarray, k: int | None, method: Method, seed: int, params: dict, mixed):
    """Fit one model; refuse a result with fewer clusters than asked (too few distinct users)."""
    with quiet_convergence():
        labels, proba, facts = method.fit(X, k, seed, params, mixed)
    labels = np.asarray(labels, dtype=np.int64)
    check_found(labels, k, method)
    return labels, proba, facts


def check_found(labels: np.ndarray, k: int | None, method: Method) -> None:
    """Refuse a labelling with fewer segments than asked (too few distinct users), or a density method's
    that found fewer than two."""
    found = len(np.unique(labels[labels != NOISE]))
    if method.needs_k and k is not None and found < k:
        raise InputError(f"k={k} asks for more segments than the data can form: only {found} groups of "
                         "distinct users exist; choose a smaller k")
    if not method.needs_k and found < 2:
        raise InputError(f"{method.label} found {found} dense group(s) with these settings: lower "
                         "min_cluster_size, or reduce dimensions with PCA first")


def _mixed(X: np.ndarray, mixed):
    """k-prototypes needs the numeric columns and the raw categories; other methods ignore it."""
    if mixed is None:
        return (X, np.empty((len(X), 0)))
    return mixed
