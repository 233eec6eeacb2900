"""Clustering figures against references: scikit-learn's own metrics, and the sample's planted personas."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score

import segcore
from segcore._methods import _sample
from segcore.cluster import fit, parse_k_range, sweep
from segcore.errors import InputError


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=1500, centers=4, cluster_std=1.0, random_state=3)
    return X, y


def _nearest_centre(X, centres):
    return ((X[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)


def test_sweep_figures_equal_scikit_learns(blobs):
    X, _ = blobs
    result = sweep(X, [2, 3, 4, 5], seed=11, silhouette_sample=1000)
    # the sizes each k would give, largest first: the planted four blobs of 375 at k=4, as scikit-learn finds them
    assert all(len(result.sizes[k]) == k and sum(result.sizes[k]) == len(X) for k in (2, 3, 4, 5))
    assert result.sizes[4] == sorted(np.bincount(KMeans(n_clusters=4, n_init=4, random_state=11).fit(X).labels_),
                                     reverse=True)
    assert result.to_dict()["sizes"]["4"] == result.sizes[4]
    for row in result.table.itertuples():
        # the sweep's segments are its k-means centres' (Lloyd's last step assigns each user to the nearest)
        labels = _nearest_centre(X, result.centres[row.k])
        assert sorted(np.bincount(labels), reverse=True) == result.sizes[row.k]
        # inertia: the within-segment sum of squares, as k-means with those centres measures it
        refit = KMeans(n_clusters=row.k, init=result.centres[row.k], n_init=1, max_iter=1).fit(X)
        assert np.array_equal(refit.labels_, labels)
        assert row.inertia == pytest.approx(refit.inertia_, rel=1e-6)
        # no worse than scikit-learn's own k-means with four restarts, give or take 1%
        assert row.inertia <= KMeans(n_clusters=row.k, n_init=4, random_state=11).fit(X).inertia_ * 1.01
        # beyond the exact size: the mean of scikit-learn's silhouette on 4 seeded samples of half the size,
        # computed in float32 (rounding near 1e-7, far below the sampling error)
        samples = [silhouette_score(X[idx], labels[idx]) for idx in (_sample(len(X), 500, 11 + i)
                                                                     for i in range(4))]
        assert row.silhouette == pytest.approx(np.mean(samples), rel=1e-6)
        assert row.silhouette_ci == pytest.approx(3.182446 * np.std(samples, ddof=1) / 2, rel=1e-3)  # t(0.975, 3)
        assert row.calinski_harabasz == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-12)
        assert row.davies_bouldin == pytest.approx(davies_bouldin_score(X, labels), rel=1e-12)
    assert result.silhouette_method.startswith("mean of 4 seeded samples of 500 of 1,500 users")


def test_exact_silhouette_below_the_sample_size(blobs):
    X, _ = blobs
    r = fit(X, 4, seed=0)
    assert r.metrics["silhouette"] == pytest.approx(silhouette_score(X, r.labels), rel=1e-12)
    assert r.metrics["silhouette_method"] == "exact on all 1,500 users" and r.metrics["silhouette_ci"] == 0


@pytest.mark.slow
def test_planted_blobs_get_their_k_recommended(blobs):
    X, y = blobs
    result = sweep(X, range(2, 9), seed=0)
    assert result.recommended_k == 4 and result.confidence == "clear"
    assert "k=4" in result.reason
    assert adjusted_rand_score(y, fit(X, 4, seed=0).labels) > 0.95


@pytest.mark.slow
def test_uniform_noise_is_flagged_weak():
    X = np.random.default_rng(0).uniform(size=(1500, 8))
    result = sweep(X, range(2, 9), seed=0)
    assert result.confidence == "weak"
    assert result.reason.startswith("No clear structure")


def test_fit_is_deterministic_and_numbers_clusters_by_size(blobs):
    X, _ = blobs
    a, b = fit(X, 4, seed=5), fit(X, 4, seed=5)
    assert np.array_equal(a.labels, b.labels)
    sizes = np.bincount(a.labels)
    assert list(sizes) == sorted(sizes, reverse=True)


@pytest.mark.parametrize("text, expected", [("2-5", [2, 3, 4, 5]), ("3,5,8", [3, 5, 8]), (" 4 ", [4])])
def test_parse_k_range(text, expected):
    assert parse_k_range(text) == expected


@pytest.mark.parametrize("text", ["1-4", "a-b", "", "2-100", "0,3"])
def test_parse_k_range_rejects(text):
    with pytest.raises(InputError):
        parse_k_range(text)


def test_bad_parameters_name_the_value():
    X = np.zeros((5, 2)) + np.arange(5)[:, None]
    with pytest.raises(InputError, match=r"k=5 should be < the number of users \(5\)"):
        fit(X, 5)
    with pytest.raises(InputError, match="algo='dbscan' is not available"):
        fit(X, 2, algo="dbscan")
    with pytest.raises(InputError, match="at least two values"):
        sweep(X, [2])


# -- on the bundled sample, against its planted personas (sample_data/ground_truth.csv) ----------------------
@pytest.mark.slow
def test_sample_sweep_recommends_the_planted_count(sample_store):
    seen = []
    result = segcore.run_sweep(sample_store, "sample", list(range(2, 11)), seed=0,
                               progress=lambda f, m: seen.append((f, m)))
    assert result.recommended_k == 6, result.reason
    # progress from the first read to the end, in order, in sentences: one before each k, one before the metrics
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0 and fractions[-1] == 1 and fractions == sorted(fractions)
    assert seen[0][1] == "Loading and preprocessing the features." and seen[1][1] == "Fitting k=2 (1 of 9)."
    assert len(seen) == 1 + 9 + 2 and all(m[0].isupper() and m.endswith(".") for _, m in seen)
    assert result.n_users == 20_000 and "samples of 2,500" in result.silhouette_method
    assert (result.table["silhouette_ci"] < 0.02).all()  # the estimate is tight at this size
    # the resampled restarts, refined on everyone, lose at most 1% against a bare scikit-learn k-means
    X = segcore.design_matrix(sample_store, "sample").prepared.X
    bare = [KMeans(n_clusters=k, n_init=1, random_state=0).fit(X).inertia_ for k in result.table["k"]]
    assert (result.table["inertia"] <= np.array(bare) * 1.01).all()


def test_sample_run_recovers_planted_personas(sample_store, sample_run, ground_truth):
    assigned = sample_store.assignments(sample_run).merge(ground_truth, on="user_id", validate="one_to_one")
    assert len(assigned) == 20_000
    ari = adjusted_rand_score(assigned["persona"], assigned["cluster"])
    assert ari >= 0.8, f"ARI {ari:.3f}"


def test_run_record_is_complete(sample_store, sample_run):
    rec = sample_store.run(sample_run)
    assert rec.algo == "kmeans" and rec.k == 6 and rec.seed == 0
    assert len(rec.features) == 28 and rec.preprocessing["scaler"] == "standard"
    # the default selection: n_sessions repeats active_days (Spearman 1.00), and 70% of users have no order value
    assert {"n_sessions", "avg_order_value"}.isdisjoint(rec.features) and "active_days" in rec.features
    # the log's own event types that are none of our kinds, as shares of each user's events
    assert {"type_share_page_view", "type_share_click"} <= set(rec.features)
    assert set(rec.versions) >= {"scikit-learn", "numpy", "pandas", "duckdb", "segcore"}
    assert len(rec.fingerprint) == 16
    assert rec.metrics["silhouette"] > 0.15
    # the same seed and data give identical labels
    again = segcore.design_matrix(sample_store, "sample", rec.features)
    labels = fit(again.prepared.X, 6, seed=0).labels
    stored = sample_store.assignments(sample_run).set_index("user_id").loc[again.frame["user_id"], "cluster"]
    assert np.array_equal(labels, stored.to_numpy())
    assert again.fingerprint() == rec.fingerprint


def test_per_user_silhouettes_are_scikit_learns(sample_store, sample_run):
    from sklearn.metrics import silhouette_samples

    sil = segcore.workflow.run_silhouettes(sample_store, sample_run, sample=2000)
    assert len(sil) == 2000 and set(sil["cluster"]) == set(range(6))
    design, aligned = segcore.run_matrix(sample_store, sample_run)
    idx = np.sort(np.random.default_rng(0).choice(np.arange(20_000), 2000, replace=False))
    ref = silhouette_samples(design.prepared.X[idx], aligned["cluster"].to_numpy()[idx])
    assert np.allclose(sil["silhouette"].to_numpy(), ref)
