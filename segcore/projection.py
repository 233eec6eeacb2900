"""2-D projections of the clustering matrix: PCA (instant) and UMAP (slow to start).

UMAP is imported only inside :func:`umap_2d`: importing it costs seconds and
its first fit in a process compiles for tens of seconds (numba), which must
never happen at app start or on a page that did not ask for it.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from .errors import InputError

__all__ = ["pca_2d", "umap_2d", "UMAP_MAX_FIT"]

UMAP_MAX_FIT = 20_000  # fit on at most this many users; the rest are placed with transform()


def pca_2d(X: np.ndarray, seed: int = 0) -> tuple[np.ndarray, dict]:
    """First two principal components (float32) and the explained variance of each."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise InputError("PCA needs at least 2 users and 1 feature")
    n = min(2, X.shape[1])
    pca = PCA(n_components=n, random_state=seed)
    coords = pca.fit_transform(X)
    if n == 1:
        coords = np.column_stack([coords[:, 0], np.zeros(len(coords))])
    ratio = [float(r) for r in pca.explained_variance_ratio_] + [0.0] * (2 - n)
    return coords.astype(np.float32), {"method": "pca", "explained_variance_ratio": ratio}


def umap_2d(X: np.ndarray, seed: int = 0, *, n_neighbors: int = 15, min_dist: float = 0.1,
            max_fit: int = UMAP_MAX_FIT) -> tuple[np.ndarray, dict]:
    """UMAP to 2-D; fitted on a seeded sample of at most ``max_fit`` users, the rest transformed."""
    try:
        import umap  # heavy: numba compiles on first use
    except ImportError as exc:  # pragma: no cover - umap-learn is a dependency
        raise InputError("UMAP needs the umap-learn package: pip install umap-learn") from exc
    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    if n <= n_neighbors:
        raise InputError(f"UMAP needs more than n_neighbors={n_neighbors} users; this run has {n}")
    # random_state makes UMAP single-threaded (reproducible); say so rather than let it warn.
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed, n_jobs=1)
    if n <= max_fit:
        coords = reducer.fit_transform(X)
        fitted = n
    else:
        rng = np.random.default_rng(seed)
        idx = rng.choice(n, size=max_fit, replace=False)
        reducer.fit(X[idx])
        coords = reducer.transform(X)
        coords[idx] = reducer.embedding_
        fitted = max_fit
    return np.asarray(coords, dtype=np.float32), {"method": "umap", "n_neighbors": n_neighbors,
                                                  "min_dist": min_dist, "fitted_on": fitted}
