"""Exceptions segcore raises for a person to read.

Every message is written to be shown as it is, in the app (``st.error``) or on
the command line (one line on stderr): it names the bad value and what to do.
Where what to do is an option, the message says it in words and carries the option
twice: ``cli`` as the command line spells it (``--encoding latin-1``) and ``app`` as
the app's widget is labelled. ``str()`` gives the app's form; :meth:`for_cli` the
command line's.
"""

__all__ = ["SegcoreError", "InputError", "NotFoundError", "StoreBusyError"]


class SegcoreError(Exception):
    """Base class: an error whose message is meant for the user.

    Parameters
    ----------
    message : str
        What is wrong and what to do, with no command-line syntax in it.
    cli, app : str, optional
        The option to change, as the command line and the app name it.
    """

    def __init__(self, message: str = "", *, cli: str | None = None, app: str | None = None):
        super().__init__(message)
        self.cli, self.app = cli, app

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def for_app(self) -> str:
        return f"{self.message} ({self.app})" if self.app else self.message

    def for_cli(self) -> str:
        return f"{self.message} ({self.cli})" if self.cli else self.message

    def __str__(self) -> str:
        return self.for_app()


class InputError(SegcoreError, ValueError):
    """A parameter or a file that segcore cannot use."""


class NotFoundError(SegcoreError, LookupError):
    """A dataset, run or column that does not exist."""

    def __str__(self) -> str:  # LookupError would quote the message like a key
        return self.for_app()


class StoreBusyError(SegcoreError):
    """Another process kept the store locked for longer than the timeout."""
