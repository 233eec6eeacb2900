"""k-means on resampled users: the agreement figure is scikit-learn's ARI, the fit a real k-means."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segcore._resampled import FIT_USERS, adjusted_rand, resampled_kmeans, resampled_stability


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.lists(st.integers(0, 6), min_size=n, max_size=n),
                                                      st.lists(st.integers(0, 6), min_size=n, max_size=n))))
def test_adjusted_rand_is_scikit_learns(pair):
    """Any labellings: one segment, every user apart, empty codes in between, one user."""
    a, b = (np.array(x) for x in pair)
    assert adjusted_rand(a, b) == pytest.approx(adjusted_rand_score(a, b), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("a, b", [([0, 0, 1, 1], [1, 1, 0, 0]), ([0, 1, 2, 3], [0, 1, 2, 3]), ([0, 0, 0], [0, 0, 0])])
def test_adjusted_rand_of_the_same_partition_is_one(a, b):
    assert adjusted_rand(np.array(a), np.array(b)) == 1.0


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(n_samples=6000, centers=5, n_features=4, cluster_std=1.5, random_state=4)


def test_the_fit_is_k_means_on_everyone_from_the_best_resampled_start(blobs):
    X, y = blobs
    fitted = resampled_kmeans(X, 5, seed=3)
    assert fitted.facts["users_per_fit"] == FIT_USERS and fitted.facts["resampled_fits"] == 4
    # Lloyd's last step: everyone sits with the nearest centre, and one more step moves nothing
    nearest = ((X[:, None, :] - fitted.centres[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert np.array_equal(fitted.labels, nearest)
    again = KMeans(n_clusters=5, init=fitted.centres, n_init=1, max_iter=1).fit(X)
    assert np.array_equal(again.labels_, fitted.labels)
    assert adjusted_rand_score(y, fitted.labels) > 0.95
    assert again.inertia_ <= KMeans(n_clusters=5, n_init=4, random_state=3).fit(X).inertia_ * 1.01
    same = resampled_kmeans(X, 5, seed=3)
    assert np.array_equal(same.labels, fitted.labels) and same.stability == fitted.stability


def test_above_the_refine_sample_lloyd_runs_on_a_sample_first(blobs):
    X, _ = blobs
    fitted = resampled_kmeans(X, 5, seed=0, refine_sample=4000)
    assert fitted.facts["refined_first_on"] == 4000
    assert "refined_first_on" not in resampled_kmeans(X, 5, seed=0).facts


def test_planted_groups_agree_and_a_cut_blob_does_not():
    planted, _ = make_blobs(3000, n_features=6, centers=5, random_state=2)
    noise = np.random.default_rng(0).normal(size=(3000, 6))
    high, spread = resampled_stability(planted, 5, seed=0)
    assert high > 0.95 and spread < 0.05
    assert resampled_stability(noise, 5, seed=0)[0] < 0.5


def test_too_few_users_to_resample_fit_everyone():
    X = np.arange(12, dtype=float).reshape(6, 2)
    fitted = resampled_kmeans(X, 5, seed=0)
    assert fitted.facts["users_per_fit"] == 6 and len(np.unique(fitted.labels)) == 5
