"""Stability figures: deterministic for a seed, high for planted structure, low where it is not."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

import segcore
from segcore.stability import k_stability, segment_jaccard


@pytest.fixture(scope="module")
def blobs():
    return make_blobs(n_samples=1200, centers=[[0, 0], [9, 0], [0, 9]], cluster_std=1.0, random_state=0)


def test_deterministic_for_a_fixed_seed(blobs):
    X, _ = blobs
    assert k_stability(X, 4, seed=7) == k_stability(X, 4, seed=7)
    labels = segcore.fit(X, 3, seed=7).labels
    assert segment_jaccard(X, labels, 3, seed=7) == segment_jaccard(X, labels, 3, seed=7)


def test_planted_k_is_stable_and_its_segments_come_back(blobs):
    X, _ = blobs
    mean, spread = k_stability(X, 3, seed=0)
    assert mean > 0.95 and spread < 0.05
    labels = segcore.fit(X, 3, seed=0).labels
    assert all(v > 0.9 for v in segment_jaccard(X, labels, 3, seed=0).values())


def test_splitting_one_blob_is_flagged_unstable():
    # One round 6-D blob cut into 5 arbitrary pieces: nothing comes back on resampled users.
    # (In 2-D, k-means wedges of a round blob are fairly reproducible, as clusterboot also shows.)
    X = np.random.default_rng(0).normal(size=(1500, 6))
    labels = segcore.fit(X, 5, seed=0).labels
    assert max(segment_jaccard(X, labels, 5, seed=0).values()) < 0.6
    planted, _ = make_blobs(1500, n_features=6, centers=5, random_state=2)
    assert k_stability(X, 5, seed=0)[0] < 0.5 < k_stability(planted, 5, seed=0)[0]


def test_sweep_recommends_a_stable_k_and_says_why(blobs):
    X, _ = blobs
    result = segcore.sweep(X, range(2, 8), seed=0)
    assert {"stability", "stability_std"} <= set(result.table.columns)
    assert result.recommended_k == 3 and "stable" in result.reason


@pytest.mark.slow
def test_uniform_noise_gets_no_confident_recommendation():
    X = np.random.default_rng(1).uniform(size=(1500, 6))
    result = segcore.sweep(X, range(2, 9), seed=0)
    assert result.confidence == "weak"


def test_runs_record_segment_stability(sample_store, sample_run):
    stab = sample_store.run(sample_run).metrics["segment_stability"]
    assert sorted(map(int, stab)) == list(range(6))
    assert min(stab.values()) > 0.9  # the planted personas come back on resampled users
