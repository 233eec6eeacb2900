"""Preprocessing steps written as scikit-learn transformers (used by :mod:`segcore.preprocess`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["MedianImputer", "QuantileCapper", "SkewedLog"]


class MedianImputer(TransformerMixin, BaseEstimator):
    """Fill missing values with each column's median learnt at fit.

    Same result as ``SimpleImputer(strategy="median")``, which sorts a masked array: 6.9 s on
    1M x 28 against about 0.5 s for ``np.nanmedian`` (a partition), measured with bench/run.py.
    """

    def fit(self, X, y=None):
        if hasattr(X, "columns"):  # the pipeline asks the first step for the names it was fitted on
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        X = np.asarray(X, dtype=float)
        with np.errstate(all="ignore"):
            self.statistics_ = np.nanmedian(X, axis=0)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self, "statistics_")
        X = np.array(X, dtype=float, copy=True)
        rows, cols = np.nonzero(np.isnan(X))
        X[rows, cols] = self.statistics_[cols]
        return X

    def get_feature_names_out(self, input_features=None):
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", [f"x{i}" for i in range(self.n_features_in_)])
        return np.asarray(input_features, dtype=object)


class QuantileCapper(TransformerMixin, BaseEstimator):
    """Clip each column to its ``[q, 1 - q]`` quantiles learnt at fit (winsorising)."""

    def __init__(self, q: float = 0.01):
        self.q = q

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        if self.q > 0:
            self.low_, self.high_ = np.nanquantile(X, [self.q, 1 - self.q], axis=0)
        else:
            self.low_, self.high_ = np.full(X.shape[1], -np.inf), np.full(X.shape[1], np.inf)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self, "low_")
        return np.clip(np.asarray(X, dtype=float), self.low_, self.high_)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


class SkewedLog(TransformerMixin, BaseEstimator):
    """``log1p`` on the columns that are non-negative and skewed at fit time."""

    def __init__(self, threshold: float = 1.0, enabled: bool = True):
        self.threshold = threshold
        self.enabled = enabled

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self.n_features_in_ = X.shape[1]
        if not self.enabled:
            self.logged_ = np.zeros(X.shape[1], dtype=bool)
            return self
        s = pd.DataFrame(X).skew().to_numpy()
        self.logged_ = (np.nanmin(X, axis=0) >= 0) & (np.nan_to_num(s) > self.threshold)
        return self

    def transform(self, X):
        check_is_fitted(self, "logged_")
        X = np.array(X, dtype=float, copy=True)
        X[:, self.logged_] = np.log1p(X[:, self.logged_])
        return X

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)
