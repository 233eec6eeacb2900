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
