"""The :class:`Store`: one DuckDB file, its rooms mixed into one object."""

from __future__ import annotations

import threading
from pathlib import Path

from ..errors import InputError
from ._connection import default_store_path
from ._loader import _Loader
from ._runs import _Runs
from ._schema import SCHEMA_VERSION, check_file, create, migrate, read_version
from ._settings import _Settings


class Store(_Loader, _Runs, _Settings):
    """A Persona Lab store in one DuckDB file.

    Parameters
    ----------
    path : str or Path, optional
        The DuckDB file; created when missing. Defaults to
        :func:`default_store_path`.
    timeout : float, default=30.0
        Seconds to keep retrying while another process holds the file. While another
        process is importing into it (it says so in a file beside the store), the wait
        goes on for as long as that process lives.
    on_wait : callable, optional
        ``on_wait(message)``, called about once a second while waiting for another process.

    Notes
    -----
    Every public method opens one connection and closes it when done (see
    :mod:`segcore.store._connection`); :meth:`session` shares one among several calls.
    Writes happen in one transaction each: a failure leaves the store as it was.
    """

    def __init__(self, path: str | Path | None = None, *, timeout: float = 30.0, on_wait=None):
        self.path = Path(path) if path is not None else default_store_path()
        self.timeout = float(timeout)
        self.on_wait = on_wait
        self._local = threading.local()
        if self.path.parent and not self.path.parent.exists():
            raise InputError(f"store folder {self.path.parent} does not exist")
        self.created = not self.path.exists()
        version = None
        if not self.created:
            check_file(self.path)
            with self._connect(read_only=True) as con:
                version = read_version(con, self.path)
        if version is None or version < SCHEMA_VERSION:
            with self._transaction() as con:  # a new store, or one made before the marker: brought up to date
                if version is None:
                    create(con)
                else:
                    migrate(con, version)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def __getstate__(self) -> dict:
        # a store travels (to a worker process, into a cache) as its path and settings, never a connection
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()
