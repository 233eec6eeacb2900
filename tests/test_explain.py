"""Explanations: rules recover a planted threshold exactly; separation equals scikit-learn's f_classif."""

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import f_classif

import segcore
from segcore.explain import feature_separation, format_rule, segment_rules


def test_a_planted_threshold_comes_back_as_the_rule():
    rng = np.random.default_rng(0)
    values = pd.DataFrame({"n_purchases": rng.integers(0, 12, 2000).astype(float), "noise": rng.normal(size=2000)})
    labels = (values["n_purchases"] >= 5).astype(int).to_numpy()
    rules = segment_rules(values, labels)
    top = rules[rules["cluster"] == 1].iloc[0]
    assert top["precision"] == 1.0 and top["coverage"] == 1.0
    assert [(f, op) for f, op, _ in top["conditions"]] == [("n_purchases", ">")]
    assert 4 <= top["conditions"][0][2] < 5
    assert top["rule"] == "Orders > 4.5"


def test_unassigned_users_get_no_rules():
    values = pd.DataFrame({"x": np.arange(300, dtype=float)})
    labels = np.where(values["x"] < 100, 0, np.where(values["x"] < 200, 1, -1))
    assert set(segment_rules(values, labels)["cluster"]) == {0, 1}


def test_rule_text_reads_naturally():
    assert format_rule([("recency_days", "<=", 30.0), ("revenue", ">", 120.46)]) == \
        "Days since last activity ≤ 30 and Revenue > 120"
    assert format_rule([("country=DE", ">", 0.5)]) == "country is DE"
    assert format_rule([("country=DE", "<=", 0.5)]) == "country is not DE"


def test_separation_is_scikit_learns_f_statistic():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 500)
    values = pd.DataFrame({"strong": labels * 3 + rng.normal(size=500), "weak": rng.normal(size=500)})
    sep = feature_separation(values, labels)
    f, _ = f_classif(values.to_numpy(), labels)
    assert sep["feature"].tolist() == ["strong", "weak"]
    assert sep.set_index("feature").loc["strong", "f_statistic"] == pytest.approx(f[0])


def test_rules_are_stored_with_the_sample_run(sample_store, sample_run):
    rules, separation = segcore.run_explanation(sample_store, sample_run)
    best = rules.sort_values("precision", ascending=False).groupby("cluster").head(1)
    assert sorted(best["cluster"]) == list(range(6))  # every segment has a rule
    assert (best["precision"] >= 0.9).all()  # the planted personas are separable by a few plain conditions
    assert separation["feature"].iloc[0] in {"tenure_days", "share_deals", "recency_days"}


def test_trees_learnt_on_a_sample_are_scored_on_everyone():
    rng = np.random.default_rng(1)
    values = pd.DataFrame({"n_purchases": rng.integers(0, 12, 40_000).astype(float),
                           "noise": rng.normal(size=40_000)})
    labels = (values["n_purchases"] >= 5).astype(int).to_numpy()
    rules = segment_rules(values, labels, fit_sample=2_000)
    top = rules[rules["cluster"] == 1].iloc[0]
    assert top["precision"] == 1.0 and top["coverage"] == 1.0
    assert top["users"] == int(labels.sum())  # counted over all 40,000 users, not the 2,000 the tree saw
