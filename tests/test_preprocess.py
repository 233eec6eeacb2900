"""Preprocessing: every step does what its report says."""

import numpy as np
import pandas as pd
import pytest

from segcore._transformers import QuantileCapper, SkewedLog
from segcore.errors import InputError
from segcore.preprocess import Preprocessing, prepare


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "user_id": [str(i) for i in range(200)],
        "skewed": rng.lognormal(0, 1.5, 200),
        "normal": rng.normal(10, 2, 200),
        "holes": np.where(np.arange(200) % 10 == 0, np.nan, 1.0 + np.arange(200) % 3),
        "country": rng.choice(["DE", "FR", None], 200),
    })


def test_capper_clips_at_the_fitted_quantiles():
    X = np.arange(101, dtype=float)[:, None]
    cap = QuantileCapper(0.05).fit(X)
    assert cap.low_[0] == pytest.approx(5) and cap.high_[0] == pytest.approx(95)
    assert cap.transform(np.array([[-10.0], [50.0], [1000.0]])).ravel().tolist() == [5.0, 50.0, 95.0]


def test_log_only_on_skewed_non_negative_columns():
    X = np.column_stack([np.r_[np.zeros(95), np.full(5, 100.0)], np.linspace(-1, 1, 100)])
    log = SkewedLog(1.0).fit(X)
    assert log.logged_.tolist() == [True, False]
    assert log.transform(X)[:, 0].max() == pytest.approx(np.log1p(100))


def test_report_and_matrix(frame):
    p = prepare(frame, ["skewed", "normal", "holes"], ["country"], Preprocessing())
    report = p.report.set_index("feature")
    assert report.loc["holes", "missing"] == 20 and "filled with median" in report.loc["holes", "steps"]
    assert report.loc["skewed", "logged"] and not report.loc["normal", "logged"]
    assert report.loc["skewed", "capped"] > 0
    assert report.loc["country", "steps"].endswith("one-hot: 2 columns")
    assert p.X.shape == (200, 5) and np.isfinite(p.X).all()
    assert p.columns[:3] == ["skewed", "normal", "holes"]
    # standard scaling: the numeric columns have mean 0 and unit variance
    assert np.allclose(p.X[:, :3].mean(axis=0), 0, atol=1e-9)
    assert np.allclose(p.X[:, :3].std(axis=0), 1)


def test_choices_change_the_result(frame):
    base = prepare(frame, ["skewed"], config=Preprocessing(cap_quantile=0, log_skewed=False, scaler="none"))
    assert np.allclose(base.X[:, 0], frame["skewed"])
    mm = prepare(frame, ["normal"], config=Preprocessing(scaler="minmax", cap_quantile=0))
    assert mm.X.min() == pytest.approx(0) and mm.X.max() == pytest.approx(1)


@pytest.mark.parametrize("kwargs, msg", [({"impute": "mode"}, "impute='mode'"), ({"scaler": "x"}, "scaler='x'"),
                                         ({"cap_quantile": 0.4}, "cap_quantile=0.4")])
def test_bad_choices_are_named(kwargs, msg):
    with pytest.raises(InputError, match=msg):
        Preprocessing(**kwargs)


def test_bad_inputs(frame):
    with pytest.raises(InputError, match="at least one feature"):
        prepare(frame, [])
    with pytest.raises(InputError, match="have no values"):
        prepare(frame.assign(empty=np.nan), ["empty"])
    with pytest.raises(InputError, match="Unknown feature"):
        prepare(frame, ["nope"])
    inf = prepare(frame.assign(x=np.where(np.arange(200) == 3, np.inf, 1.0 * np.arange(200))), ["x"])
    assert np.isfinite(inf.X).all() and inf.report.loc[0, "missing"] == 1
