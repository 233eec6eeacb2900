"""The fast separation metrics give scikit-learn's values."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from segcore._separation import calinski_davies, silhouette


@pytest.mark.parametrize("k", [2, 3, 7])
@pytest.mark.parametrize("n", [50, 3000])
def test_metrics_match_scikit_learn_on_blobs(n, k):
    X, y = make_blobs(n_samples=n, centers=k, n_features=5, cluster_std=2.0, random_state=n + k)
    assert silhouette(X, y) == pytest.approx(silhouette_score(X, y), rel=1e-9, abs=1e-12)
    ch, db = calinski_davies(X, y)
    assert ch == pytest.approx(calinski_harabasz_score(X, y), rel=1e-9)
    assert db == pytest.approx(davies_bouldin_score(X, y), rel=1e-9)


def test_large_input_uses_the_blocked_sums_and_float32_input():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40_000, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0.5)
    ch, db = calinski_davies(X, y)
    assert ch == pytest.approx(calinski_harabasz_score(X, y), rel=1e-5)
    assert db == pytest.approx(davies_bouldin_score(X, y), rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 40).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=2), min_size=n, max_size=n),
    st.lists(st.integers(0, 3), min_size=n, max_size=n))))
def test_metrics_match_scikit_learn_on_awkward_data(data):
    """Duplicate points, singletons and tiny segments included."""
    rows, labels = data
    X, y = np.array(rows), np.array(labels)
    assume(2 <= len(np.unique(y)) <= len(y) - 1)
    assert silhouette(X, y) == pytest.approx(silhouette_score(X, y), rel=1e-6, abs=1e-6)
    ch, db = calinski_davies(X, y)
    assert ch == pytest.approx(calinski_harabasz_score(X, y), rel=1e-6, abs=1e-6)
    assert db == pytest.approx(davies_bouldin_score(X, y), rel=1e-6, abs=1e-6)
