"""Connections to the store's file: opening with retry while another process holds it, one connection
per public call, transactions, and the note a long writer leaves for the processes waiting on it.

DuckDB lets one process hold a file read-write at a time, and a second process cannot even open it
read-only meanwhile. The dashboard and the ``segcore`` command share the file, so a public call opens
a short-lived connection and closes it when done; a process that finds the file locked retries with
backoff until ``timeout`` and then raises :class:`~segcore.errors.StoreBusyError`.

Inside one call, every step (checking the dataset, its tables, its columns, then reading) shares that
call's connection: :meth:`_Connections._connect` hands the open connection of this thread to whoever
asks while it is open, so a call costs one connection however many steps it takes. Threads each get
their own; DuckDB shares one database instance between a process's connections to one path.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from ..errors import InputError, StoreBusyError

__all__ = ["default_store_path", "memory_limit"]

# DuckDB never fetches an extension for us: the store needs none, and a foreign file (SQLite) made
# DuckDB try to download one. Every connection to a file in one process must share one configuration.
CONFIG: dict[str, str | bool | int | float | list[str]] = {"autoinstall_known_extensions": False,
                                                             "autoload_known_extensions": False}


def default_store_path() -> Path:
    """``SEGCORE_STORE`` if set, else ``./persona_lab.duckdb``."""
    return Path(os.environ.get("SEGCORE_STORE") or "persona_lab.duckdb")


def memory_limit() -> str:
    """DuckDB's memory limit for store work: ``SEGCORE_MEMORY_LIMIT`` (default 2GB)."""
    return os.environ.get("SEGCORE_MEMORY_LIMIT") or "2GB"


class _Connections:
    """The store's connection room (mixed into :class:`~segcore.store.Store`)."""

    path: Path
    timeout: float
    on_wait: Callable[[str], None] | None
    _local: threading.local

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        """A new connection, retrying while another process holds the file."""
        delay, deadline = 0.02, time.monotonic() + self.timeout
        started, next_note = time.monotonic(), 1.0
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=CONFIG)
            except duckdb.ConnectionException as exc:
                if not read_only or "different configuration" not in str(exc):
                    raise InputError(f"cannot open store {self.path}: {exc}") from exc
                read_only = False  # this process has the file open already, read-write: a read needs no more
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise InputError(f"cannot open store {self.path}: {exc}") from exc
                writer = self._writer()
                if writer is not None:  # a long write by a live process: queue behind it
                    deadline = max(deadline, time.monotonic() + 1.0)
                if time.monotonic() > deadline:
                    raise StoreBusyError(
                        f"store {self.path} is locked by another process; tried for {self.timeout:.0f} s"
                    ) from exc
                if self.on_wait is not None and time.monotonic() - started >= next_note:
                    what = f"{writer['what']} (process {writer['pid']})" if writer else "another process"
                    self.on_wait(f"waiting for {what} to finish writing the store: {time.monotonic() - started:.0f} s")
                    next_note += 1.0
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise InputError(f"{self.path} is not a Persona Lab store: {exc}") from exc

    @contextmanager
    def _connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """This thread's open connection if a call has one, else a new one closed on leaving."""
        current = getattr(self._local, "con", None)
        if current is not None:
            yield current
            return
        con = self._open(read_only)
        self._local.con = con
        try:
            # DuckDB's own progress bar writes to stdout, which must stay clean (segcore ... --json);
            # progress is still tracked for query_progress().
            con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
            # Bounded memory: DuckDB spills to disk beyond this instead of taking 80% of RAM.
            con.execute("SET memory_limit = $m", {"m": memory_limit()})
            yield con
        except duckdb.Error as exc:
            if "no space left on device" in str(exc).lower():
                raise InputError(f"the disk holding store {self.path} (or DuckDB's temporary files) is full: "
                                 "nothing was written; free some space and try again") from exc
            raise
        finally:
            self._local.con = None
            self._local.in_transaction = False
            con.close()

    @contextmanager
    def session(self) -> Iterator[None]:
        """Share one connection among the store calls made in this thread inside the ``with`` block.

        For a few reads in a row (a run's record, its dataset, its features): while the block runs, no
        other process can open the store, so nothing slow (a model fit) belongs inside it.
        """
        with self._connect():
            yield

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection, inside a transaction that commits on leaving and rolls back on an error; a
        transaction already open in this call is joined, not nested."""
        with self._connect() as con:
            if getattr(self._local, "in_transaction", False):
                yield con
                return
            con.begin()
            self._local.in_transaction = True
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            finally:
                self._local.in_transaction = False
            con.commit()

    def _df(self, sql: str, params=None) -> pd.DataFrame:
        with self._connect() as con:
            return con.execute(sql, params or []).df()

    @property
    def _writer_file(self) -> Path:
        return self.path.with_name(self.path.name + ".persona-lab-writer")

    def _writer(self) -> dict | None:
        """What another live process said it is writing into the store (:meth:`_writing`), if anything."""
        try:
            info = json.loads(self._writer_file.read_text(encoding="utf-8"))
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if pid == os.getpid():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return {"pid": pid, "what": str(info.get("what", "a write"))}

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """Say beside the store, for the processes waiting for it, that this process is writing ``what``."""
        try:
            self._writer_file.write_text(json.dumps({"pid": os.getpid(), "what": what}), encoding="utf-8")
        except OSError:
            pass  # others then wait their usual timeout
        try:
            yield
        finally:
            self._writer_file.unlink(missing_ok=True)
