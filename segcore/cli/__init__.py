"""The ``segcore`` command: everything the dashboard does, from a terminal.

Errors print one line on stderr and exit with status 2 (bad input) or 1
(anything unexpected); set ``SEGCORE_DEBUG=1`` to see a traceback.
"""

from __future__ import annotations

import os
import sys

from ..errors import SegcoreError
from ._parser import build_parser
from ._verbs import VERBS, dispatch

__all__ = ["main", "build_parser", "VERBS"]


def _notes(caught) -> list[str]:
    """The first line of each distinct warning about the result (a UserWarning such as scikit-learn's
    ConvergenceWarning), without file names."""
    out = []
    for w in caught:
        if issubclass(w.category, UserWarning):
            line = str(w.message).strip().splitlines()[0] if str(w.message).strip() else ""
            if line and line not in out:
                out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    import warnings

    try:
        args = build_parser().parse_args(argv)
        if os.environ.get("SEGCORE_DEBUG"):
            return dispatch(args)
        # Libraries' warnings are for developers (SEGCORE_DEBUG shows them): a user gets one plain note for
        # those that concern the result (a method that did not converge), and nothing for the rest.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = dispatch(args)
        for note in _notes(caught):
            print(f"note: {note}", file=sys.stderr)
        return code
    except SegcoreError as exc:
        print(f"error: {exc.for_cli()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the user must never see a traceback
        if os.environ.get("SEGCORE_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (SEGCORE_DEBUG=1 shows details)", file=sys.stderr)
        return 1
