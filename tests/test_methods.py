"""Every clustering method against a plain scikit-learn (or kmodes) pipeline with the same settings,
on the reference data sets scikit-learn ships, plus planted-structure cases."""

import numpy as np
import pytest
from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans, MiniBatchKMeans
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

import segcore
from segcore.errors import InputError

LOADERS = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer, "digits": load_digits}


def _data(name):
    bunch = LOADERS[name]()
    return StandardScaler().fit_transform(bunch.data), bunch.target, len(np.unique(bunch.target))


def _plain(algo, X, k):
    """The same method through its library directly, with the settings segcore uses by default."""
    if algo == "kmeans":
        return KMeans(n_clusters=k, n_init=4, random_state=0).fit(X).labels_
    if algo == "minibatch":
        return MiniBatchKMeans(n_clusters=k, n_init=3, batch_size=4096, random_state=0).fit(X).labels_
    if algo == "gmm":
        return GaussianMixture(n_components=k, covariance_type="full", reg_covar=1e-4, random_state=0).fit(X).predict(X)
    if algo == "ward":
        return AgglomerativeClustering(n_clusters=k, linkage="ward").fit(X).labels_
    if algo == "hdbscan":
        return HDBSCAN(min_cluster_size=max(10, len(X) // 100), min_samples=10, copy=True).fit(X).labels_
    raise AssertionError(algo)


@pytest.mark.parametrize("name", list(LOADERS))
@pytest.mark.parametrize("algo", ["kmeans", "minibatch", pytest.param("gmm", marks=pytest.mark.slow), "ward",
                                  "hdbscan"])
def test_ari_matches_a_plain_pipeline(name, algo):
    X, y, k = _data(name)
    plain = _plain(algo, X, k)
    if len(np.unique(plain[plain >= 0])) < 2:
        # the method finds no structure here (HDBSCAN in 30-64 dimensions): say so, do not fake segments
        with pytest.raises(InputError, match="dense group"):
            segcore.fit(X, algo=algo, seed=0)
        return
    ours = segcore.fit(X, k if algo != "hdbscan" else None, algo=algo, seed=0)
    ari_ours = adjusted_rand_score(y, ours.labels)
    ari_plain = adjusted_rand_score(y, plain)
    assert abs(ari_ours - ari_plain) <= 0.02, (ari_ours, ari_plain)


@pytest.mark.parametrize("name", ["iris", "wine"])
def test_kprototypes_matches_kmodes_on_mixed_data(name):
    from kmodes.kprototypes import KPrototypes

    X, y, k = _data(name)
    # a categorical column derived from the data: the tercile of the first feature
    cats = np.digitize(X[:, 0], np.quantile(X[:, 0], [1 / 3, 2 / 3])).astype(str)[:, None]
    ours = segcore.fit(X, k, algo="kprototypes", seed=0, mixed=(X, cats))
    mixed = np.concatenate([X, cats.astype(object)], axis=1).astype(object)
    plain = KPrototypes(n_clusters=k, n_init=2, random_state=0, n_jobs=1).fit(
        mixed, categorical=[X.shape[1]]).labels_
    assert abs(adjusted_rand_score(y, ours.labels) - adjusted_rand_score(y, plain)) <= 0.02


def test_hdbscan_finds_planted_noise():
    blobs, truth = make_blobs(n_samples=900, centers=3, cluster_std=0.6, random_state=4)
    rng = np.random.default_rng(4)
    noise = rng.uniform(blobs.min(axis=0) - 6, blobs.max(axis=0) + 6, size=(100, 2))
    X = np.vstack([blobs, noise])
    r = segcore.fit(X, algo="hdbscan", seed=0)
    found_noise = r.labels[900:] == -1
    assert found_noise.mean() >= 0.7  # planted noise left unassigned, never silently dropped
    assert r.metrics["unassigned"] == int((r.labels == -1).sum())
    assert r.k == 3 and adjusted_rand_score(truth, r.labels[:900]) > 0.9
    assert r.probability is not None and len(r.probability) == 1000


@pytest.mark.parametrize("algo", ["kmeans", "minibatch", "gmm", "ward", "hdbscan"])
def test_same_seed_same_labels(algo):
    X, _, k = _data("wine")
    a = segcore.fit(X, k if algo != "hdbscan" else None, algo=algo, seed=3)
    b = segcore.fit(X, k if algo != "hdbscan" else None, algo=algo, seed=3)
    assert np.array_equal(a.labels, b.labels)


@pytest.mark.slow
def test_mixture_sweep_reports_bic_and_aic_and_probabilities():
    X, _ = make_blobs(n_samples=600, centers=[[0, 0], [8, 0], [0, 8]], cluster_std=1.0, random_state=0)
    result = segcore.sweep(X, [2, 3, 4, 5], algo="gmm", seed=0)
    assert {"bic", "aic"} <= set(result.table.columns)
    assert int(result.table.loc[result.table["bic"].idxmin(), "k"]) == 3
    assert "BIC" in result.reason
    r = segcore.fit(X, 3, algo="gmm", seed=0)
    assert r.probability.min() >= 1 / 3 - 1e-9 and r.probability.max() <= 1 and "bic" in r.metrics


def test_ward_on_a_sample_places_everyone():
    X, y = make_blobs(n_samples=3000, centers=4, random_state=1)
    r = segcore.fit(X, 4, algo="ward", seed=0, params={"max_fit": 500})
    assert r.metrics["fitted_on"] == 500 and (r.labels >= 0).all() and len(r.labels) == 3000
    assert adjusted_rand_score(y, r.labels) > 0.95


def test_parameters_are_validated_up_front():
    X, _ = make_blobs(n_samples=100, random_state=0)
    with pytest.raises(InputError, match="The method kmeans has no parameter 'bogus'"):
        segcore.fit(X, 3, params={"bogus": 1})
    with pytest.raises(InputError, match=r"n_init=0 should be between 1 and 50"):
        segcore.fit(X, 3, params={"n_init": 0})
    with pytest.raises(InputError, match="covariance_type='round' should be one of full, diag, tied, spherical"):
        segcore.fit(X, 3, algo="gmm", params={"covariance_type": "round"})
    with pytest.raises(InputError, match="needs k"):
        segcore.fit(X, algo="ward")
    with pytest.raises(InputError, match="finds the number of segments itself"):
        segcore.sweep(X, [2, 3], algo="hdbscan")
    with pytest.raises(InputError, match="mixed data"):
        segcore.fit(X, 3, algo="kprototypes")


def test_ward_dendrogram_has_the_planted_gap():
    from segcore.dendrogram import ward_dendrogram

    X, _ = make_blobs(n_samples=3000, centers=[[0, 0], [20, 0], [0, 20]], cluster_std=1.0, random_state=0)
    tree = ward_dendrogram(X, sample=1000, leaves=10)
    assert tree["sample"] == 1000 and len(tree["leaves"]) == 10
    heights = sorted(tree["heights"], reverse=True)
    # three planted groups: the last two merges tower over every merge inside a group
    assert heights[1] > 10 * heights[2]


@pytest.mark.parametrize("k", [3, 6, 9])
def test_kmeans_on_a_sample_then_refined_matches_full_kmeans(sample_store, k):
    """Restarts on 5,000 of 20,000 users, Lloyd finishing on all: inertia within 1% of plain k-means."""
    X = segcore.design_matrix(sample_store, "sample").prepared.X
    ours = segcore.fit(X, k, seed=0, params={"fit_sample": 5000})
    assert ours.metrics["fit_sample"] == 5000
    full = KMeans(n_clusters=k, n_init=4, random_state=0).fit(X)
    assert ours.metrics["inertia"] <= full.inertia_ * 1.01
    assert len(ours.labels) == len(X)
