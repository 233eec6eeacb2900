"""Projections: PCA against scikit-learn, UMAP keeps neighbourhoods (scikit-learn's trustworthiness),
the stratified sample UMAP is fitted on, and the worker process the app runs UMAP in."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from segcore._projection_worker import ProjectionWorker
from segcore.errors import InputError
from segcore.projection import MIN_PER_SEGMENT, pca_2d, stratified_sample, umap_2d


def test_pca_matches_scikit_learn():
    X, _ = make_blobs(n_samples=300, n_features=6, centers=3, random_state=0)
    coords, info = pca_2d(X)
    ref = PCA(n_components=2, random_state=0).fit(X)
    assert np.allclose(np.abs(coords), np.abs(ref.transform(X)), atol=1e-4)
    assert info["explained_variance_ratio"] == pytest.approx(list(ref.explained_variance_ratio_))
    assert coords.dtype == np.float32 and "loadings" not in info


def test_pca_names_the_features_that_load_on_each_axis():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(500, 2))
    # axis 1 is spend and orders growing together, visits shrinking; axis 2 is mostly night use
    X = np.column_stack([3 * base[:, 0], 3 * base[:, 0] + 0.1 * rng.normal(size=500), -2 * base[:, 0],
                         2 * base[:, 1], 0.1 * rng.normal(size=500)])
    names = ["spend", "orders", "visits", "night", "noise"]
    coords, info = pca_2d(X, names=names)
    ref = PCA(n_components=2, random_state=0).fit(X)
    for axis, loadings in zip(ref.components_, info["loadings"], strict=True):
        top = np.argsort(-np.abs(axis))[:3]
        assert [name for name, _ in loadings] == [names[j] for j in top]
        assert [w for _, w in loadings] == pytest.approx(axis[top], abs=1e-4)
    assert {name for name, _ in info["loadings"][0]} == {"spend", "orders", "visits"}
    assert info["loadings"][1][0][0] == "night"
    # the signs agree with the coordinates: users high on spend sit at the high end of axis 1
    spend_sign = np.sign(dict(info["loadings"][0])["spend"])
    assert np.corrcoef(coords[:, 0] * spend_sign, X[:, 0])[0, 1] > 0.9
    with pytest.raises(InputError, match="4 column names for 5 columns"):
        pca_2d(X, names=names[:4])


@pytest.mark.slow
def test_umap_keeps_neighbourhoods_and_places_the_rest():
    X, _ = make_blobs(n_samples=600, n_features=10, centers=4, random_state=1)
    seen = []
    fitted, placed, info = umap_2d(X[:400], seed=0, place=X[400:],  # 400 fitted, 200 placed by transform
                                   progress=lambda f, m: seen.append((f, m)))
    # what is happening and how far, in order: neighbours, every epoch range of the layout, placing, done
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1
    messages = [m for _, m in seen]
    assert "Finding nearest neighbours: 400 of 400 users." in messages
    assert any(m.startswith("Laying out the map: epoch") and m.endswith(" of 500.") for m in messages)
    assert "Placing the other users: 0 of 200." in messages and messages[-1] == "Map ready."
    coords = np.vstack([fitted, placed])
    assert coords.shape == (600, 2) and np.isfinite(coords).all()
    assert info["fitted_on"] == 400
    assert trustworthiness(X, coords, n_neighbors=10) > 0.9


def test_stratified_sample_keeps_proportions_and_small_segments():
    labels = np.repeat([0, 1, 2], [90_000, 9_700, 300])
    idx = stratified_sample(labels, 10_000, seed=3)
    assert len(idx) == 10_000 and len(np.unique(idx)) == 10_000 and np.all(np.diff(idx) > 0)
    counts = np.bincount(labels[idx])
    assert counts[2] == 300  # smaller than the floor: all of it
    assert counts[1] == 970 or abs(counts[1] / 10_000 - 0.097) < 0.01
    assert np.array_equal(idx, stratified_sample(labels, 10_000, seed=3))  # seeded


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=8), st.integers(1, 6000), st.integers(0, 9))
def test_stratified_sample_size_and_floor_hold_for_any_segment_sizes(sizes, size, seed):
    labels = np.repeat(np.arange(len(sizes)), sizes)
    idx = stratified_sample(labels, size, seed)
    assert len(np.unique(idx)) == len(idx) and (idx >= 0).all() and (idx < len(labels)).all()
    counts = np.bincount(labels[idx], minlength=len(sizes))
    if len(labels) <= size:
        assert len(idx) == len(labels)
    else:
        floors = np.minimum(sizes, MIN_PER_SEGMENT)
        # the size asked for, unless the small segments' floors alone exceed it
        assert len(idx) == max(size, int(floors.sum()))
        assert (counts >= floors).all()


def test_worker_runs_jobs_in_its_process_and_passes_errors_back():
    worker = ProjectionWorker(warm=False)
    try:
        X, _ = make_blobs(n_samples=200, n_features=5, centers=3, random_state=0)
        coords, info = worker.call("pca_2d", X)
        assert np.allclose(coords, pca_2d(X)[0]) and worker.state() == "ready"
        with pytest.raises(InputError, match="at least 2 users"):
            worker.call("pca_2d", X[:1])
        first = worker._proc.pid
        worker._proc.kill()  # a worker killed (e.g. for memory) is replaced by the next call
        worker._proc.wait()
        assert worker.state() == "stopped"
        assert np.allclose(worker.call("pca_2d", X)[0], coords) and worker._proc.pid != first
    finally:
        worker.stop()


def test_worker_reports_its_own_peak_memory_not_what_it_inherited_at_fork():
    ballast = np.ones(60_000_000)  # 480 MB resident in this process when the worker forks
    worker = ProjectionWorker(warm=False)
    try:
        peak = worker.peak_memory_mb()
        assert peak is not None and 20 < peak < 400, peak
    finally:
        worker.stop()
        del ballast


@pytest.mark.slow
def test_run_umap_places_a_stratified_sample_then_everyone_on_demand(store_copy, monkeypatch):
    import segcore
    from segcore import projection

    monkeypatch.setattr(projection, "UMAP_SAMPLE", 6_000)
    monkeypatch.setattr(projection, "PLACE_BLOCK", 5_000)  # the other 14,000 are placed in three blocks
    run_id = segcore.create_run(store_copy, "sample", 6, seed=0)
    coords, info = segcore.run_projection(store_copy, run_id, "umap")
    assert len(coords) == 6_000 and info["placed"] == 6_000 and info["users"] == 20_000
    assert info["fitted_on"] == 6_000 and not info["all_users"] and info["sample"] == "stratified by segment"
    clusters = store_copy.assignments(run_id).set_index("user_id")["cluster"]
    in_sample = clusters.loc[coords["user_id"]].value_counts(normalize=True).sort_index()
    overall = clusters.value_counts(normalize=True).sort_index()
    assert (in_sample - overall).abs().max() < 0.01  # every segment in proportion
    # neighbourhoods kept: a user's nearest neighbours on the map are mostly of its own segment
    from sklearn.neighbors import NearestNeighbors

    X = coords[["x", "y"]].to_numpy()
    labels = clusters.loc[coords["user_id"]].to_numpy()
    _, nn = NearestNeighbors(n_neighbors=11).fit(X).kneighbors(X)
    assert (labels[nn[:, 1:]] == labels[:, None]).mean() > 0.8
    everyone, info_all = segcore.run_projection(store_copy, run_id, "umap", all_users=True)
    assert len(everyone) == 20_000 and info_all["all_users"] and info_all["fitted_on"] == 6_000
    assert everyone["user_id"].is_unique and set(everyone["user_id"]) == set(clusters.index)
    # the fitted users keep their places: the same seeded fit, the others placed around them
    merged = coords.merge(everyone, on="user_id", suffixes=("", "_all"))
    assert np.allclose(merged[["x", "y"]], merged[["x_all", "y_all"]], atol=1e-4)
    again, _ = segcore.run_projection(store_copy, run_id, "umap")  # stored: read back, not refitted
    assert len(again) == 20_000
