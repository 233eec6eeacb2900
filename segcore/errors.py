"""Exceptions segcore raises for a person to read.

Every message is written to be shown as it is, in the app (``st.error``) or on
the command line (one line on stderr): it names the bad value and what to do.
Where what to do is an option, the message says it in words and carries the option
twice: ``cli`` as the command line spells it (``--encoding latin-1``) and ``app`` as
the app's widget is labelled. ``str()`` gives the app's form, a sentence (capital letter,
full stop); :meth:`for_cli` the command line's, a clause after ``segcore: error:``.
"""

__all__ = ["SegcoreError", "InputError", "NotFoundError", "StoreBusyError", "sentence"]


def sentence(text: str) -> str:
    """``text`` as a sentence: a full stop at the end unless it ends with one (or with ``?``, ``!``, or a
    closing quote or bracket after one), and a capital first letter when it starts with a word; a
    message starting with a name as written (``k=12``, ``seed``'s value, a column) keeps it as it is."""
    text = str(text).strip()
    if not text:
        return text
    first = text.split(" ", 1)[0].rstrip(":;,")
    if first.isalpha() and first.islower():
        text = text[0].upper() + text[1:]
    return text if text.rstrip("\"')]").endswith((".", "?", "!")) else text + "."


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
        return sentence(f"{self.message} ({self.app})" if self.app else self.message)

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
