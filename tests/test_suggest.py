"""Suggestions before clustering, on a table built to trip each check."""

import numpy as np
import pandas as pd

from segcore.suggest import feature_suggestions


def test_each_check_fires_on_its_planted_case_and_not_elsewhere():
    rng = np.random.default_rng(0)
    n = 2000
    base = rng.normal(size=n)
    frame = pd.DataFrame({
        "constant": np.where(np.arange(n) < 1960, 0.0, 1.0),  # 98% zeros
        "signal": base,
        "twin": base * 2 + rng.normal(scale=0.01, size=n),  # rank-identical to signal
        "spiky": np.where(np.arange(n) % 10 == 0, 1000.0, rng.normal(size=n)),  # 10% extreme values
        "plain": rng.uniform(size=n),
    })
    found = feature_suggestions(frame, list(frame.columns))
    issues = {(r.feature, r.issue) for r in found.itertuples()}
    assert ("constant", "near-constant") in issues
    assert ("twin", "correlated") in issues and "signal" in found.set_index("feature").loc["twin", "detail"]
    assert ("spiky", "outlier-dominated") in issues
    assert "plain" not in set(found["feature"])


def test_nothing_to_say_about_healthy_features():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(500, 3)), columns=list("abc"))
    assert feature_suggestions(frame, list("abc")).empty


def test_the_features_page_reads_samples_in_sql_with_the_same_answers(sample_store, monkeypatch):
    from segcore import workflow
    from segcore.distribution import rank_correlations
    from segcore.suggest import feature_suggestions

    numeric = ["revenue", "n_events", "night_share", "recency_days"]
    full = sample_store.read_table("sample", "features", numeric)
    # at 20,000 users both samples hold everyone: the answers are those of the whole table
    corr, sampled = workflow.feature_correlations(sample_store, "sample", numeric)
    assert sampled is None and corr.equals(rank_correlations(full)[0])
    assert workflow.feature_advice(sample_store, "sample", numeric).equals(feature_suggestions(full, numeric))
    # above the sample size, the seeded sample the store reads, and its size said
    monkeypatch.setattr(workflow._features, "CORRELATION_SAMPLE", 5_000)
    corr, sampled = workflow.feature_correlations(sample_store, "sample", numeric)
    part = sample_store.read_table("sample", "features", numeric, sample=5_000)
    assert sampled == 5_000 and corr.equals(rank_correlations(part)[0])
