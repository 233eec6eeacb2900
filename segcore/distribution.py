"""How features are distributed: histograms and rank correlations, as the Features page shows them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import finite_numbers, seeded_rows

__all__ = ["histogram", "rank_correlations", "CORRELATION_SAMPLE"]

CORRELATION_SAMPLE = 100_000


def histogram(values, bins: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Counts and edges of the finite values (missing, infinite and non-numeric values left out); empty
    counts and one edge when there is none."""
    v = finite_numbers(pd.DataFrame({"v": values}))["v"].dropna().to_numpy()
    return np.histogram(v, bins=bins) if len(v) else (np.zeros(0), np.zeros(1))


def rank_correlations(frame: pd.DataFrame, *, sample: int = CORRELATION_SAMPLE,
                      seed: int = 0) -> tuple[pd.DataFrame, int | None]:
    """Spearman correlations between the columns, on a seeded sample of ``sample`` users where there are more
    (ranks of a sample give the same picture in a fraction of the time); the sample size, or None if every
    user was used."""
    sampled = None
    if len(frame) > sample:
        frame, sampled = frame.iloc[seeded_rows(len(frame), sample, seed)], sample
    return finite_numbers(frame).corr(method="spearman"), sampled
