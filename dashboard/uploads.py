"""Uploaded files on disk: in a folder of the browser session's own, deleted as soon as they are not needed.

DuckDB streams an upload from a file, so the page saves it; the file holds the user's raw data,
personal data included, and must not outlive its use: it is deleted when the import ends, when
another file replaces it or the uploader is cleared, when the session goes (the folder goes with
the session's state) and, for a server that died, when the next server starts.

A session's end is not announced to the script, and its state can linger in Streamlit's reconnect
cache for a while: so each folder is named after its server's process and its session, and
:func:`sweep_closed` (run every few seconds by the app) deletes the folders of sessions no longer
connected. A session that reconnects saves its upload again from Streamlit's memory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path

PREFIX = "persona_upload_"


class UploadFolder:
    """A temporary folder for one session's uploads, removed when the object is collected or closed.

    Parameters
    ----------
    root : str or Path, optional
        Where to create it (default: the system's temporary folder).
    session : str, default=""
        The session it belongs to (letters, digits and '-'), part of its name for :func:`sweep_closed`.
    """

    def __init__(self, root: str | Path | None = None, session: str = ""):
        if not all(ch.isalnum() or ch == "-" for ch in session):
            raise ValueError(f"session={session!r} should be letters, digits and '-'")
        self.path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}_{session}_", dir=root))
        self._files: dict[str, Path] = {}
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def save(self, slot: str, content, filename: str) -> Path:
        """Write ``content`` (bytes or a buffer) as the file of ``slot``, replacing its previous file. It keeps
        the uploaded file's own name (without any folder part), so that messages name the user's file."""
        self.discard(slot)
        name = Path(filename.replace("\\", "/")).name.strip() or "upload"
        if name in (".", ".."):
            name = "upload"
        (self.path / slot).mkdir(exist_ok=True)
        target = self.path / slot / name
        with open(target, "wb") as fh:
            fh.write(content)
        self._files[slot] = target
        return target

    def discard(self, slot: str) -> None:
        """Delete the file of ``slot``, if any."""
        old = self._files.pop(slot, None)
        if old is not None:
            old.unlink(missing_ok=True)

    def files(self) -> list[Path]:
        return sorted(p for p in self.path.rglob("*") if p.is_file()) if self.path.exists() else []

    def close(self) -> None:
        """Delete the folder and everything in it."""
        self._files.clear()
        self._finalizer()


def sweep_closed(active, root: str | Path | None = None) -> list[Path]:
    """Delete this server's upload folders whose session ``active(session_id)`` says is gone."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    gone = []
    for found in base.glob(f"{PREFIX}{os.getpid()}_*_*"):
        # the session (letters, digits, '-') ends at the first '_': mkdtemp's random tail may hold more
        session = found.name[len(f"{PREFIX}{os.getpid()}_"):].split("_", 1)[0]
        if found.is_dir() and session and not active(session):
            shutil.rmtree(found, ignore_errors=True)
            gone.append(found)
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_orphans(root: str | Path | None = None) -> list[Path]:
    """Delete upload folders left by servers that are no longer running; returns what was deleted."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    gone = []
    for found in base.glob(f"{PREFIX}*"):
        pid = found.name[len(PREFIX):].split("_", 1)[0]
        if found.is_dir() and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(found, ignore_errors=True)
            gone.append(found)
        elif found.is_file():  # saved by versions before 0.2, which never deleted them
            found.unlink(missing_ok=True)
            gone.append(found)
    return gone
