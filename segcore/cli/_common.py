"""What the verbs share: KEY=VALUE arguments, a table as printed, the minimum segment size, a progress bar."""

from __future__ import annotations

import sys

from ..errors import InputError

__all__ = ["min_size", "pairs", "progress", "table"]


def pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{what} {item!r} should look like KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


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
