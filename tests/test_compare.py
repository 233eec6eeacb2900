"""Comparing runs: identical runs agree perfectly; a different k is matched segment by segment."""

import pytest

import segcore
from segcore.errors import InputError
from segcore.workflow import compare_runs


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, sample_store):
    import shutil

    dst = tmp_path_factory.mktemp("cmp") / "c.duckdb"
    shutil.copy(sample_store.path, dst)
    store = segcore.Store(dst)
    a = segcore.create_run(store, "sample", 6, seed=0)
    b = segcore.create_run(store, "sample", 6, seed=0)
    c = segcore.create_run(store, "sample", 5, seed=0)
    return store, a, b, c


def test_the_same_fit_twice_agrees_completely(two_runs):
    store, a, b, _ = two_runs
    cmp = compare_runs(store, a, b)
    assert cmp.ari == pytest.approx(1.0) and cmp.users == 20_000
    assert (cmp.matches["jaccard"] == 1.0).all()
    assert (cmp.matches["persona_a"] == cmp.matches["persona_b"]).all()


def test_a_different_k_is_matched_segment_by_segment(two_runs):
    store, a, _, c = two_runs
    cmp = compare_runs(store, a, c)
    assert 0.5 < cmp.ari < 1.0
    assert int(cmp.crosstab.to_numpy().sum()) == 20_000
    assert cmp.crosstab.shape == (6, 5) and len(cmp.matches) == 5
    # four of five segments survive almost unchanged when one planted persona is merged away
    assert (cmp.matches["jaccard"] > 0.8).sum() >= 4


def test_runs_of_different_datasets_are_refused(two_runs, tmp_path):
    store, a, _, _ = two_runs
    f = tmp_path / "u.csv"
    f.write_text("user_id,x,y\n" + "\n".join(f"{i},{i % 7},{i % 3}" for i in range(60)))
    segcore.import_file(store, f, "other")
    other = segcore.create_run(store, "other", 2, features=["x", "y"])
    with pytest.raises(InputError, match="different datasets"):
        compare_runs(store, a, other)
