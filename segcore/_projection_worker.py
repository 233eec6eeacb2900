"""A process that keeps UMAP compiled, warmed up in the background.

numba compiles UMAP anew in every process: about 45 s on two cores the first
time a process fits (15 s more to import it with a cold cache). A web app that
ran UMAP in its own process would pay that inside a user's click, and a
compiling thread would hold the interpreter lock and slow every page. So the
app starts one worker process early; the worker imports and compiles UMAP
straight away, then runs each UMAP it is sent. Messages are pickles over the
worker's stdin/stdout pipes (both ends are this package; nothing else writes
to them). The worker exits when the app does (its stdin closes).

Run as ``python -m segcore._projection_worker``; used through :class:`ProjectionWorker`.
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable

from .errors import SegcoreError

__all__ = ["ProjectionWorker", "WorkerError"]


class WorkerError(SegcoreError):
    """The worker process died (typically killed for memory); the next call starts a new one."""


class ProjectionWorker:
    """Client of one warmed-up worker process; thread-safe (one job at a time, others wait)."""

    def __init__(self, *, warm: bool = True) -> None:
        self._warm = warm  # False: skip the compilation (tests of the plumbing)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._warming = False

    def start(self) -> None:
        """Start the worker (it begins compiling at once); does nothing if it is running."""
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "segcore._projection_worker"] + ([] if self._warm else ["--cold"])
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                      cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self._warming = True
        atexit.register(self._proc.kill)

    def state(self) -> str:
        """``'stopped'``, ``'warming'``, ``'ready'`` or ``'busy'`` (a job is running)."""
        if not self._lock.acquire(blocking=False):
            return "busy"
        try:
            if self._proc is None or self._proc.poll() is not None:
                return "stopped"
            return "warming" if self._warming and not self._poll_warm() else "ready"
        finally:
            self._lock.release()

    def _poll_warm(self) -> bool:
        # non-blocking: has the warm-up reply arrived?
        import select

        if select.select([self._pipe("stdout")], [], [], 0)[0]:
            self._finish_warm_up()
        return not self._warming

    def _pipe(self, name: str):
        """The running worker's stdin or stdout."""
        pipe = getattr(self._proc, name, None) if self._proc is not None else None
        if pipe is None:
            raise WorkerError("the projection worker is not running; try again")
        return pipe

    def _discard(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()  # reaped: no zombie, and its resource usage is counted
        self._proc = None

    def _read(self):
        try:
            return pickle.load(self._pipe("stdout"))
        except (EOFError, pickle.UnpicklingError, OSError) as exc:
            self._discard()
            raise WorkerError("the projection worker stopped (out of memory?); try again") from exc

    def _finish_warm_up(self) -> None:
        # a failed warm-up is not fatal: the first job then compiles what it needs
        self._read()
        self._warming = False

    def call(self, name: str, *args, progress: Callable[[float, str], None] | None = None, **kwargs):
        """Run ``segcore.projection.<name>(*args, **kwargs)`` in the worker and return its result.

        With ``progress``, the function is given a ``progress`` argument whose calls in the worker
        come back as calls of ``progress(fraction, message)`` here, while the job runs.
        """
        with self._lock:
            self._start_locked()
            if self._warming:
                if progress:
                    progress(0.0, "Waiting for UMAP's numerical code to finish compiling (once per app start).")
                self._finish_warm_up()  # blocks until compiled
            try:
                stdin = self._pipe("stdin")
                pickle.dump((name, args, kwargs, progress is not None), stdin, protocol=pickle.HIGHEST_PROTOCOL)
                stdin.flush()
            except OSError as exc:
                self._discard()
                raise WorkerError("the projection worker stopped; try again") from exc
            status, value = self._read()
            while status == "progress":
                if progress:
                    progress(*value)
                status, value = self._read()
        if status == "error":
            raise value
        return value

    def umap_2d(self, *args, progress: Callable[[float, str], None] | None = None, **kwargs):
        """:func:`segcore.projection.umap_2d`, in the warmed-up worker, reporting its progress here."""
        return self.call("umap_2d", *args, progress=progress, **kwargs)

    def peak_memory_mb(self) -> float | None:
        """The worker's own peak resident memory, in MB (Linux; None elsewhere).

        Not ``getrusage(RUSAGE_CHILDREN)`` in the parent: a child's maximum there includes the
        parent's pages it inherited at fork, before it exec'd Python afresh.
        """
        return self.call("peak_memory_mb")

    def stop(self) -> None:
        with self._lock:
            if self._proc is not None:
                self._discard()


def _peak_memory_mb() -> float | None:
    try:
        with open("/proc/self/status") as f:  # VmHWM: this address space's peak, reset by exec
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        return None
    return kb / 1024


def _serve() -> None:
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed by libraries must not corrupt the replies
    inp = sys.stdin.buffer
    from segcore import projection

    reply: tuple[str, object]
    try:
        reply = ("ok", 0.0 if "--cold" in sys.argv else projection.warm_up_umap())
    except Exception as exc:  # noqa: BLE001 - reported to the app, which falls back to compiling in the job
        reply = ("error", exc)
    pickle.dump(reply, out)
    out.flush()
    allowed: dict[str, Callable[..., object]] = {"umap_2d": projection.umap_2d, "pca_2d": projection.pca_2d,
                                                 "peak_memory_mb": _peak_memory_mb}
    def report(fraction: float, message: str) -> None:
        pickle.dump(("progress", (fraction, message)), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    while True:
        try:
            name, args, kwargs, wants_progress = pickle.load(inp)
        except EOFError:
            return
        try:
            reply = ("ok", allowed[name](*args, **({**kwargs, "progress": report} if wants_progress else kwargs)))
        except Exception as exc:  # noqa: BLE001 - sent back and raised in the app
            reply = ("error", exc)
        pickle.dump(reply, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


if __name__ == "__main__":
    _serve()
