"""2-D projections of the clustering matrix: PCA (instant) and UMAP (slow to start).

UMAP is imported only inside :func:`umap_2d`: importing it costs seconds and
its first fit in a process compiles for tens of seconds (numba), which must
never happen at app start or on a page that did not ask for it. The app runs
UMAP in a worker process warmed up in the background
(:mod:`segcore._projection_worker`).

Above ``UMAP_SAMPLE`` users, UMAP is fitted on a sample stratified by segment
(:func:`stratified_sample`) and only those users are placed; placing everyone
else (``transform``) takes minutes at a million users, so it runs on demand.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from sklearn.decomposition import PCA

from .errors import InputError

__all__ = ["pca_2d", "stratified_sample", "umap_2d", "warm_up_umap", "UMAP_SAMPLE"]

UMAP_SAMPLE = 50_000  # UMAP is fitted on at most this many users
MIN_PER_SEGMENT = 500  # a small segment still gets this many users in the sample (or all of them)
PLACE_BLOCK = 100_000  # users placed per transform() call: bounds the worker's memory


def stratified_sample(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Sorted row numbers of a seeded sample of ``size`` rows, every segment in proportion.

    A segment too small for its proportional share still gets ``MIN_PER_SEGMENT`` rows (or all of
    its rows), so that it shows on the map; the large segments give up the difference.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if n <= size:
        return np.arange(n)
    ids, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
    floor = np.minimum(counts, MIN_PER_SEGMENT)
    exact = counts * size / n
    quota = np.maximum(np.floor(exact).astype(int), floor)
    short = size - int(quota.sum())
    if short > 0:  # rounding down left rows over: to the largest remainders (still within each segment)
        room = np.where(quota < counts, exact - quota, -np.inf)
        quota[np.argsort(-room, kind="stable")[:short]] += 1
    extra = quota.sum() - size
    while extra > 0:  # take the excess from the segments furthest above their floor
        i = int(np.argmax(quota - floor))
        give = min(extra, int(quota[i] - floor[i]))
        quota[i] -= give
        extra -= give
        if give == 0:
            break
    rng = np.random.default_rng(seed)
    order = np.argsort(codes, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    parts = [rng.choice(order[s:s + c], size=q, replace=False) for s, c, q in zip(starts, counts, quota)]
    return np.sort(np.concatenate(parts))


AXIS_FEATURES = 3  # features named per PCA axis


def pca_2d(X: np.ndarray, seed: int = 0, names: list[str] | None = None) -> tuple[np.ndarray, dict]:
    """First two principal components (float32) and the explained variance of each.

    With ``names`` (of ``X``'s columns), the description also gives, per axis, the ``AXIS_FEATURES``
    columns that load most on it, as ``[name, loading]`` pairs, strongest first: what moving along
    the axis means.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise InputError("PCA needs at least 2 users and 1 feature")
    n = min(2, X.shape[1])
    pca = PCA(n_components=n, random_state=seed)
    coords = pca.fit_transform(X)
    if n == 1:
        coords = np.column_stack([coords[:, 0], np.zeros(len(coords))])
    ratio = [float(r) for r in pca.explained_variance_ratio_] + [0.0] * (2 - n)
    info: dict = {"method": "pca", "explained_variance_ratio": ratio}
    if names is not None:
        if len(names) != X.shape[1]:
            raise InputError(f"{len(names)} column names for {X.shape[1]} columns")
        info["loadings"] = [[[str(names[j]), round(float(axis[j]), 4)]
                             for j in np.argsort(-np.abs(axis), kind="stable")[:AXIS_FEATURES]]
                            for axis in pca.components_]
    return coords.astype(np.float32), info


def _import_umap():
    """Import umap-learn with numba's on-disk cache switched on for its functions.

    umap-learn compiles its numba functions anew in every process (about 40 s on two cores) because
    it does not ask numba to cache them. Asking for it while umap's modules are first imported lets
    numba keep the compiled code on disk (``__pycache__``, or ``NUMBA_CACHE_DIR``), so later
    processes load it in seconds. The decorators are restored right after the import. NN-descent
    cannot be cached (numba refuses: "dynamic globals"), so :func:`umap_2d` finds neighbours itself.
    """
    import sys
    import warnings

    if "umap" in sys.modules:
        return sys.modules["umap"]
    import numba

    njit, jit = numba.njit, numba.jit

    def cached(decorator):
        def wrapper(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:  # bare @numba.njit
                return decorator(cache=True)(args[0])
            kwargs.setdefault("cache", True)
            return decorator(*args, **kwargs)
        return wrapper

    numba.njit, numba.jit = cached(njit), cached(jit)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "cannot cache nn_descent": known, see above
            import umap
    finally:
        numba.njit, numba.jit = njit, jit
    return umap


NEIGHBOUR_BLOCK = 5_000  # rows per neighbour query: progress between blocks


def _exact_neighbours(X: np.ndarray, k: int, say=None) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest rows (itself first) and their distances, by brute force in blocks.

    For up to ``UMAP_SAMPLE`` rows this takes seconds (one matrix product per block), needs no
    compilation, and is exact where NN-descent is approximate. ``say(done, total)`` after each block.
    """
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X)
    dists, idxs = [], []
    for start in range(0, len(X), NEIGHBOUR_BLOCK):
        dist, idx = index.kneighbors(X[start:start + NEIGHBOUR_BLOCK])
        dists.append(dist.astype(np.float32))
        idxs.append(idx.astype(np.int32))
        if say:
            say(min(start + NEIGHBOUR_BLOCK, len(X)), len(X))
    return np.vstack(idxs), np.vstack(dists)


class _EpochCounter:
    """A file for tqdm that turns umap-learn's epoch bar (``bar_format="{n}/{total}"``) into calls of
    ``say(done, total)``: umap-learn reports its layout's progress only through tqdm."""

    def __init__(self, say) -> None:
        self.say = say

    def write(self, text: str) -> int:
        found = re.findall(r"(\d+)/(\d+)", text)
        if found:
            done, total = found[-1]
            self.say(int(done), int(total))
        return len(text)

    def flush(self) -> None:
        pass


def umap_2d(X: np.ndarray, seed: int = 0, *, n_neighbors: int = 15, min_dist: float = 0.1,
            place: np.ndarray | None = None,
            progress: Callable[[float, str], None] | None = None) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """UMAP to 2-D, fitted on ``X``; the rows of ``place`` (optional) are then placed on the same map.

    Neighbours are exact (:func:`_exact_neighbours`), so the map of ``X`` is the same with or without
    ``place``; placing needs a search index, built (NN-descent) only then.
    Returns the positions of ``X``'s rows, those of ``place`` (or None) and a description.
    ``progress(fraction, message)`` is called as neighbours are found, epochs laid out and users placed.
    """
    try:
        umap = _import_umap()  # heavy: numba compiles (or loads its cache) on first use
    except ImportError as exc:  # pragma: no cover - umap-learn is a dependency
        raise InputError("UMAP needs the umap-learn package: pip install umap-learn") from exc
    import warnings

    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    if n <= n_neighbors:
        raise InputError(f"UMAP needs more than n_neighbors={n_neighbors} users; this run has {n}")
    to_place = 0 if place is None else len(place)
    placing = to_place > 0
    # shares of the bar: neighbours, layout, then placing the others (when asked)
    layout_end = 0.3 if placing else 0.95
    report = progress or (lambda fraction, message: None)
    report(0.0, f"Finding the {n_neighbors} nearest neighbours of each of {n:,} users.")
    idx, dist = _exact_neighbours(X, n_neighbors, lambda done, total: report(
        0.15 * done / total, f"Finding nearest neighbours: {done:,} of {total:,} users."))
    block: list[int] = []  # while placing: the block's first row and its size

    def epochs(done: int, total: int) -> None:
        if not block:
            report(0.15 + (layout_end - 0.15) * done / total, f"Laying out the map: epoch {done} of {total}.")
        else:  # placing a block: its own, shorter, epochs
            seen = block[0] + block[1] * done / total
            report(0.35 + 0.65 * seen / to_place, f"Placing the other users: {int(seen):,} of {to_place:,}.")

    tqdm_kwds = {"disable": False, "file": _EpochCounter(epochs), "bar_format": "{n}/{total}", "mininterval": 0.5}
    placed = None
    # Known and intended: "transform will be unavailable" without an index, "cannot cache nn_descent".
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = None
        if placing:
            from pynndescent import NNDescent

            index = NNDescent(X, n_neighbors=n_neighbors, metric="euclidean", random_state=seed, n_jobs=1)
        # random_state makes UMAP single-threaded (reproducible); say so rather than let it warn.
        reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed,
                            n_jobs=1, precomputed_knn=(idx, dist, index), tqdm_kwds=tqdm_kwds)
        coords = reducer.fit_transform(X)
        if placing:
            # in blocks: transform's neighbour graph for a million users at once peaked above 2 GB
            place = np.asarray(place, dtype=np.float32)
            blocks: list[np.ndarray] = []
            for i in range(0, to_place, PLACE_BLOCK):
                rows = place[i:i + PLACE_BLOCK]
                block[:] = [i, len(rows)]
                epochs(0, 1)
                blocks.append(reducer.transform(rows))
            placed = np.vstack(blocks).astype(np.float32, copy=False)
    report(1.0, "Map ready.")
    return np.asarray(coords, dtype=np.float32), placed, {"method": "umap", "n_neighbors": n_neighbors,
                                                         "min_dist": min_dist, "fitted_on": n,
                                                         "neighbours": "exact"}


def warm_up_umap() -> float:
    """Import UMAP and compile (or load from numba's cache) what a fit uses; returns the seconds.

    numba compiles per process, and some paths only above 4,096 rows, so the warm-up fits 4,500
    random points (few epochs: the result is thrown away).
    """
    import time

    start = time.perf_counter()
    X = np.random.default_rng(0).normal(size=(4_500, 8)).astype(np.float32)
    umap = _import_umap()
    idx, dist = _exact_neighbours(X, 15)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        umap.UMAP(n_components=2, random_state=0, n_jobs=1, n_epochs=10, precomputed_knn=(idx, dist, None)).fit(X)
    return time.perf_counter() - start
