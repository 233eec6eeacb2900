"""Projections: PCA against scikit-learn, UMAP keeps neighbourhoods (scikit-learn's trustworthiness)."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from segcore.projection import pca_2d, umap_2d


def test_pca_matches_scikit_learn():
    X, _ = make_blobs(n_samples=300, n_features=6, centers=3, random_state=0)
    coords, info = pca_2d(X)
    ref = PCA(n_components=2, random_state=0).fit(X)
    assert np.allclose(np.abs(coords), np.abs(ref.transform(X)), atol=1e-4)
    assert info["explained_variance_ratio"] == pytest.approx(list(ref.explained_variance_ratio_))
    assert coords.dtype == np.float32


@pytest.mark.slow
def test_umap_keeps_neighbourhoods_and_places_everyone():
    X, _ = make_blobs(n_samples=600, n_features=10, centers=4, random_state=1)
    coords, info = umap_2d(X, seed=0, max_fit=400)  # 400 fitted, 200 placed by transform
    assert coords.shape == (600, 2) and np.isfinite(coords).all()
    assert info["fitted_on"] == 400
    assert trustworthiness(X, coords, n_neighbors=10) > 0.9
