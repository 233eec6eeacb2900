"""The merge tree of Ward clustering, on a sample, as plain coordinates for a chart to draw.

scipy builds the linkage and lays the tree out; only the top ``leaves`` merges are kept (scipy's
``truncate_mode="lastp"``), so the tree stays readable at any dataset size.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import dendrogram, linkage

from ._common import seeded_rows

__all__ = ["ward_dendrogram"]


def ward_dendrogram(X: np.ndarray, *, sample: int = 2000, leaves: int = 30, seed: int = 0) -> dict:
    """Ward linkage on a seeded sample; returns scipy's layout (icoord, dcoord, leaf labels, leaf sizes)."""
    X = np.asarray(X, dtype=np.float64)
    idx = seeded_rows(len(X), sample, seed)
    Z = linkage(X[idx], method="ward")
    tree = dendrogram(Z, truncate_mode="lastp", p=leaves, no_plot=True, show_leaf_counts=True)
    return {"icoord": tree["icoord"], "dcoord": tree["dcoord"], "leaves": tree["ivl"], "sample": int(len(idx)),
            "heights": Z[:, 2].tolist()}
