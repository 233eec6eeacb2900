"""The fast separation metrics give scikit-learn's values."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from segcore._separation import calinski_davies, silhouette, silhouettes


def _within_ss(X, y):
    return sum(((X[y == c] - X[y == c].mean(axis=0)) ** 2).sum() for c in np.unique(y))


@pytest.mark.parametrize("k", [2, 3, 7])
@pytest.mark.parametrize("n", [50, 3000])
def test_metrics_match_scikit_learn_on_blobs(n, k):
    X, y = make_blobs(n_samples=n, centers=k, n_features=5, cluster_std=2.0, random_state=n + k)
    assert silhouette(X, y) == pytest.approx(silhouette_score(X, y), rel=1e-9, abs=1e-12)
    ch, db, within = calinski_davies(X, y)
    assert ch == pytest.approx(calinski_harabasz_score(X, y), rel=1e-9)
    assert db == pytest.approx(davies_bouldin_score(X, y), rel=1e-9)
    assert within == pytest.approx(_within_ss(X, y), rel=1e-9)


def test_several_labellings_in_one_pass_give_each_ones_silhouette():
    X, y = make_blobs(n_samples=700, centers=5, n_features=4, random_state=1)
    other = (X[:, 0] > 0).astype(int)
    single = np.zeros(len(X), dtype=int)  # one segment: no silhouette
    got = silhouettes(X, np.column_stack([y, other, single, y % 2]))
    assert got[0] == pytest.approx(silhouette_score(X, y), rel=1e-9)
    assert got[1] == pytest.approx(silhouette_score(X, other), rel=1e-9)
    assert np.isnan(got[2])
    assert got[3] == pytest.approx(silhouette_score(X, y % 2), rel=1e-9)


def test_large_input_uses_the_blocked_sums_and_float32_input():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40_000, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0.5)
    ch, db, _ = calinski_davies(X, y)
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
    # shared with a second labelling, the distances give the same figure
    both = silhouettes(X, np.column_stack([y, y[::-1]]))
    assert both[0] == pytest.approx(silhouette_score(X, y), rel=1e-6, abs=1e-6)
    if 2 <= len(np.unique(y[::-1])):
        assert both[1] == pytest.approx(silhouette_score(X, y[::-1]), rel=1e-6, abs=1e-6)
    ch, db, within = calinski_davies(X, y)
    assert within == pytest.approx(_within_ss(X, y), rel=1e-6, abs=1e-6)
    assert ch == pytest.approx(calinski_harabasz_score(X, y), rel=1e-6, abs=1e-6)
    assert db == pytest.approx(davies_bouldin_score(X, y), rel=1e-6, abs=1e-6)
