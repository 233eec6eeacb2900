"""What the verbs share: a table as printed, the minimum segment size asked for, a progress bar."""

from __future__ import annotations

import sys

__all__ = ["min_size", "progress", "table"]


def table(df) -> str:
    return df.to_string(index=False) if len(df) else "(none)"


def min_size(args) -> int:
    """The minimum segment size asked for, refused in one line below the default unless allowed."""
    from ..disclosure import check_min_size

    return check_min_size(args.min_size, allow_small=args.allow_small_segments)


def progress(desc: str):
    """A progress bar on stderr (when it is a terminal) and the ``update(fraction, message)`` that moves it."""
    from tqdm import tqdm

    bar = tqdm(total=100, desc=desc, file=sys.stderr, leave=False,
               bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix}", disable=not sys.stderr.isatty())

    def update(fraction: float, message: str) -> None:
        bar.n = int(fraction * 100)
        bar.set_postfix_str(message)
        bar.refresh()

    return bar, update
