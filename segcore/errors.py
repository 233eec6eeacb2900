"""Exceptions segcore raises for a person to read.

Every message is written to be shown as it is, in the app (``st.error``) or on
the command line (one line on stderr): it names the bad value and what to do.
"""

__all__ = ["SegcoreError", "InputError", "NotFoundError", "StoreBusyError"]


class SegcoreError(Exception):
    """Base class: an error whose message is meant for the user."""


class InputError(SegcoreError, ValueError):
    """A parameter or a file that segcore cannot use."""


class NotFoundError(SegcoreError, LookupError):
    """A dataset, run or column that does not exist."""

    def __str__(self) -> str:  # LookupError would quote the message like a key
        return str(self.args[0]) if self.args else ""


class StoreBusyError(SegcoreError):
    """Another process kept the store locked for longer than the timeout."""
