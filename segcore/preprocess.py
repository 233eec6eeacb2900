"""Turn a feature table into the matrix that clustering sees, with every choice visible.

Numeric features: impute, cap outliers at quantiles, log-transform skewed
non-negative counts, scale. Categorical features: impute the most frequent
value, one-hot encode. :func:`prepare` returns the matrix, the fitted
scikit-learn transformer (to score new users the same way) and a report that
says, per feature, what was done to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._common import finite_numbers
from .errors import InputError

if TYPE_CHECKING:  # scikit-learn is imported when a matrix is prepared, not when the config is built
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline

__all__ = ["Preprocessing", "prepare", "Prepared"]

_IMPUTE = ("median", "mean", "zero")
_SCALERS = ("standard", "robust", "minmax", "none")


@dataclass(frozen=True)
class Preprocessing:
    """Preprocessing choices.

    Parameters
    ----------
    impute : {'median', 'mean', 'zero'}, default='median'
        How missing numeric values are filled.
    cap_quantile : float, default=0.01
        Values below this quantile or above ``1 - cap_quantile`` are capped
        there; 0 turns capping off. At most 0.25.
    log_skewed : bool, default=True
        Apply ``log1p`` to non-negative features whose skewness exceeds
        ``skew_threshold`` (counts and money usually are).
    skew_threshold : float, default=1.0
    scaler : {'standard', 'robust', 'minmax', 'none'}, default='standard'
    pca : int, default=0
        Reduce the matrix to this many principal components before
        clustering (0 = off); the variance they explain is reported.
    """

    impute: str = "median"
    cap_quantile: float = 0.01
    log_skewed: bool = True
    skew_threshold: float = 1.0
    scaler: str = "standard"
    pca: int = 0

    def __post_init__(self):
        if self.impute not in _IMPUTE:
            raise InputError(f"impute={self.impute!r} should be one of {', '.join(_IMPUTE)}")
        if self.scaler not in _SCALERS:
            raise InputError(f"scaler={self.scaler!r} should be one of {', '.join(_SCALERS)}")
        if not 0 <= float(self.cap_quantile) <= 0.25:
            raise InputError(f"cap_quantile={self.cap_quantile} should be between 0 and 0.25")
        if not float(self.skew_threshold) >= 0:
            raise InputError(f"skew_threshold={self.skew_threshold} should be >= 0")
        if not (isinstance(self.pca, int) and 0 <= self.pca <= 50):
            raise InputError(f"pca={self.pca!r} should be a whole number from 0 (off) to 50")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Prepared:
    """The clustering matrix and how it was made."""

    X: np.ndarray
    columns: list[str]  # names of X's columns (one-hot columns expanded, or pc1, pc2, ... after PCA)
    transformer: ColumnTransformer
    report: pd.DataFrame  # per input feature: kind, missing, what was done
    mixed: tuple  # (scaled numeric columns, categories as text): the input of k-prototypes
    pca: PCA | None = None

    @property
    def pca_explained(self) -> float | None:
        """Share of the variance the kept principal components explain (None without PCA)."""
        return None if self.pca is None else float(self.pca.explained_variance_ratio_.sum())


def _numeric_pipeline(config: Preprocessing) -> Pipeline:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    from ._transformers import MedianImputer, QuantileCapper, SkewedLog

    scalers = {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}
    impute = SimpleImputer(strategy="constant", fill_value=0.0) if config.impute == "zero" \
        else MedianImputer() if config.impute == "median" else SimpleImputer(strategy=config.impute)
    steps = [("impute", impute), ("cap", QuantileCapper(config.cap_quantile)),
             ("log", SkewedLog(config.skew_threshold, config.log_skewed))]
    if config.scaler != "none":
        steps.append(("scale", scalers[config.scaler]()))
    return Pipeline(steps)


def prepare(frame: pd.DataFrame, numeric: list[str], categorical: Sequence[str] = (),
            config: Preprocessing | None = None) -> Prepared:
    """Fit the preprocessing on ``frame`` and return the clustering matrix.

    Parameters
    ----------
    frame : DataFrame
        The feature table (raw values).
    numeric, categorical : list of str
        Columns of ``frame`` to use as numbers / as categories.
    config : Preprocessing, optional
        Defaults to ``Preprocessing()``.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    config = config or Preprocessing()
    numeric, categorical = list(numeric), list(categorical)
    if not numeric and not categorical:
        raise InputError("choose at least one feature")
    missing = [c for c in numeric + categorical if c not in frame.columns]
    if missing:
        raise InputError(f"unknown feature(s): {', '.join(missing)}")
    if len(frame) < 2:
        raise InputError(f"the dataset has {len(frame)} user(s); clustering needs at least 2")
    num = finite_numbers(frame[numeric])
    empty = [c for c in numeric if num[c].isna().all()] + [c for c in categorical if frame[c].isna().all()]
    if empty:
        raise InputError(f"feature(s) {', '.join(empty)} have no values; deselect them")
    parts = []
    if numeric:
        parts.append(("num", _numeric_pipeline(config), numeric))
    if categorical:
        parts.append(("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                       ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]),
                      categorical))
    ct = ColumnTransformer(parts, verbose_feature_names_out=False)
    data = pd.concat([num, frame[categorical].astype("object").where(frame[categorical].notna(), np.nan)], axis=1) \
        if categorical else num
    X = np.ascontiguousarray(ct.fit_transform(data), dtype=np.float64)
    columns = [str(c) for c in ct.get_feature_names_out()]
    n_num = len(ct.named_transformers_["num"].get_feature_names_out()) if numeric else 0
    cats = ct.named_transformers_["cat"].named_steps["impute"].transform(data[categorical]).astype(str) \
        if categorical else np.empty((len(X), 0), dtype=str)
    mixed = (X[:, :n_num].copy(), cats)
    report = _report(ct, num, frame, numeric, categorical, config)
    pca = None
    if config.pca:
        if config.pca >= X.shape[1]:
            raise InputError(f"pca={config.pca} should be below the number of columns ({X.shape[1]})")
        pca = PCA(n_components=config.pca, random_state=0)
        X = np.ascontiguousarray(pca.fit_transform(X))
        columns = [f"pc{i + 1}" for i in range(config.pca)]
    return Prepared(X, columns, ct, report, mixed, pca)


def _report(ct, num, frame, numeric, categorical, config) -> pd.DataFrame:
    rows = []
    if numeric:
        pipe = ct.named_transformers_["num"]
        fill = pipe.named_steps["impute"].statistics_
        cap = pipe.named_steps["cap"]
        logged = pipe.named_steps["log"].logged_
        for i, c in enumerate(numeric):
            n_missing = int(num[c].isna().sum())
            n_capped = int(((num[c] < cap.low_[i]) | (num[c] > cap.high_[i])).sum())
            steps = []
            if n_missing:
                steps.append(f"{n_missing:,} missing filled with {config.impute} {fill[i]:.4g}")
            if config.cap_quantile > 0 and n_capped:
                steps.append(f"{n_capped:,} capped to [{cap.low_[i]:.4g}, {cap.high_[i]:.4g}]")
            if logged[i]:
                steps.append("log1p (skewed)")
            if config.scaler != "none":
                steps.append(f"{config.scaler} scaling")
            rows.append({"feature": c, "kind": "numeric", "missing": n_missing, "capped": n_capped,
                         "logged": bool(logged[i]), "steps": "; ".join(steps) or "none"})
    if categorical:
        enc = ct.named_transformers_["cat"].named_steps["onehot"]
        for c, cats in zip(categorical, enc.categories_):
            n_missing = int(frame[c].isna().sum())
            steps = ([f"{n_missing:,} missing filled with the most frequent value"] if n_missing else []) + \
                [f"one-hot: {len(cats)} columns"]
            rows.append({"feature": c, "kind": "categorical", "missing": n_missing, "capped": 0,
                         "logged": False, "steps": "; ".join(steps)})
    return pd.DataFrame(rows)
