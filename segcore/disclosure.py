"""What may be shown about small segments.

A segment with fewer users than the minimum segment size is withheld from every output: its users
count in no figure, not even in the all-users baseline or the population a fairness check compares
with (either would give the withheld users away by subtraction), and they get no row in an export,
no point on a map, no profile, rule or description. Only how many users it holds is said.

Lowering the minimum below :data:`MIN_SEGMENT_SIZE` must be asked for explicitly, and the outputs
say which minimum they used.
"""

from __future__ import annotations

from .errors import InputError

__all__ = ["MIN_SEGMENT_SIZE", "check_min_size", "k_anonymise", "withheld_segments", "withheld_sizes", "shown_users"]

MIN_SEGMENT_SIZE = 50


def check_min_size(min_segment_size, *, allow_small: bool = False) -> int:
    """The minimum segment size as an int; below the default only with ``allow_small``."""
    try:
        value = int(min_segment_size)
    except (TypeError, ValueError):
        raise InputError(f"minimum segment size {min_segment_size!r} should be a whole number") from None
    if value != min_segment_size and not (isinstance(min_segment_size, float) and min_segment_size.is_integer()):
        raise InputError(f"minimum segment size {min_segment_size!r} should be a whole number")
    if value < 1:
        raise InputError(f"minimum segment size {value} should be at least 1")
    if value < MIN_SEGMENT_SIZE and not allow_small:
        raise InputError(f"a minimum segment size of {value} is below the default {MIN_SEGMENT_SIZE}: figures about "
                         "so few people can single them out; allow smaller segments explicitly to use it")
    return value


def withheld_segments(segments, min_segment_size: int) -> list:
    """The segments (values of ``segments``, one per user) with fewer users than the minimum."""
    import pandas as pd

    sizes = pd.Series(segments).value_counts(dropna=False)
    return sorted(sizes[sizes < int(min_segment_size)].index.tolist(), key=str)


def shown_users(segments, min_segment_size: int):
    """True for the users whose segment is shown (holds at least the minimum of users), as a Series."""
    import pandas as pd

    segments = pd.Series(segments)
    return ~segments.isin(withheld_segments(segments, min_segment_size))


def withheld_sizes(sizes, min_segment_size: int) -> list:
    """The segments of a size table (segment -> users) with fewer users than the minimum."""
    return [s for s, n in dict(sizes).items() if n < int(min_segment_size)]


# Numeric attributes with more distinct values than this are generalised into this many quantile bands.
K_ANON_BANDS = 5
SUPPRESSED = "*"


def k_anonymise(frame, columns: list[str], k: int) -> tuple:
    """Make ``frame`` k-anonymous over ``columns``: every combination of their values held by at least
    ``k`` rows.

    Numbers with many values are first generalised into quantile bands ("12.5 to 40"); rows whose
    combination is still rarer than ``k`` have those attributes suppressed (``*``); rows that remain
    rarer than ``k`` after that are left out. Returns the new frame and what was done, in words.
    """
    import pandas as pd

    out = frame.copy()
    done: list[str] = []
    if not columns or out.empty:
        return out, done
    for c in columns:
        values = out[c]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
                and values.nunique() > K_ANON_BANDS:
            codes = pd.qcut(values, K_ANON_BANDS, duplicates="drop", labels=False)
            # each band named by the lowest and highest value it holds (qcut's own edges start below the minimum)
            span = values.groupby(codes).agg(["min", "max"])
            names = {b: f"{lo:.4g}" if lo == hi else f"{lo:.4g} to {hi:.4g}" for b, (lo, hi) in span.iterrows()}
            out[c] = codes.map(names).astype("object")
            done.append(f"{c}: generalised to {len(names)} bands of about equal size")
        else:
            out[c] = values.astype("object")
    key = out[columns].astype("string").fillna("missing")
    rare = key.groupby(list(columns), dropna=False)[columns[0]].transform("size") < k
    if rare.any():
        out.loc[rare, columns] = SUPPRESSED
        done.append(f"{_rows(rare.sum())} had {', '.join(columns)} suppressed ({SUPPRESSED}): their combination "
                    f"was held by fewer than {k} rows")
        key = out[columns].astype("string").fillna("missing")
        still = key.groupby(list(columns), dropna=False)[columns[0]].transform("size") < k
        if still.any():
            out = out[~still]
            done.append(f"{_rows(still.sum())} left out: even suppressed, fewer than {k} rows look like them")
    return out.reset_index(drop=True), done


def _rows(n) -> str:
    return "1 row" if int(n) == 1 else f"{int(n):,} rows"
