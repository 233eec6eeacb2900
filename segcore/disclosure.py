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

__all__ = ["MIN_SEGMENT_SIZE", "check_min_size", "withheld_segments", "withheld_sizes", "shown_users"]

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
