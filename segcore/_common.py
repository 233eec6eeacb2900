"""Small helpers several rooms share, each written once: seeded samples, finite numbers, names, types."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["seeded_rows", "finite_numbers", "normalise_name", "is_text", "is_numeric_type", "json_value"]


def seeded_rows(rows, size: int, seed) -> np.ndarray:
    """A seeded sample of at most ``size`` of ``rows`` (a count, or an array of row numbers), in order.

    Drawn without replacement and sorted, so a sample keeps the frame's row order; the same seed gives
    the same rows. With no more rows than ``size``, every row (``seed`` may then be a Generator too)."""
    pool = np.arange(rows) if isinstance(rows, (int, np.integer)) else np.asarray(rows)
    if len(pool) <= size:
        return pool
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return np.sort(rng.choice(pool, size=size, replace=False))


def finite_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns as floats, with text that is no number, infinities and NaN all as missing: no mean,
    distance or chart survives an infinity.

    Column by column into one float block: numeric columns are read as they are, others through
    ``pd.to_numeric`` (a frame-wide ``apply`` and ``replace`` took seconds at a million users)."""
    block = np.empty((len(frame), frame.shape[1]), dtype=np.float64)
    for j in range(frame.shape[1]):
        values = frame.iloc[:, j]
        if not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)):
            values = pd.to_numeric(values, errors="coerce")
        block[:, j] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    block[~np.isfinite(block)] = np.nan
    return pd.DataFrame(block, index=frame.index, columns=frame.columns)


def normalise_name(name) -> str:
    """A column or value name compared by its words: lower case, runs of anything but letters and digits
    as one '_', none at the ends ('Order Completed' and 'order-completed' -> 'order_completed')."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def is_text(values: pd.Series) -> bool:
    """Whether a column holds text (pandas' object or string dtypes)."""
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


_NUMERIC_TYPES = ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC")


def is_numeric_type(duckdb_type) -> bool:
    """Whether a DuckDB column type holds numbers (integers of any width, floats, decimals; not intervals)."""
    ctype = str(duckdb_type).upper()
    return any(t in ctype for t in _NUMERIC_TYPES) and "INTERVAL" not in ctype


def json_value(v):
    """A value as JSON takes it: numpy scalars as Python ones, NaN and infinities as None (null)."""
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) if np.isfinite(v) else None
    return v
