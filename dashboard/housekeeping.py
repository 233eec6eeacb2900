"""What the server does for its sessions: each session's id, and the sweeper that deletes the uploads of
sessions that have ended (see dashboard.uploads)."""

from __future__ import annotations

import time

import streamlit as st


@st.cache_resource
def sweep_uploads() -> None:
    """Once per server: delete the uploads that servers no longer running left behind, and from then on,
    every few seconds, those of sessions that have ended (see dashboard.uploads)."""
    import threading

    from streamlit.runtime import Runtime

    from . import uploads

    uploads.sweep_orphans()
    if not Runtime.exists():  # AppTest runs scripts without a server
        return

    def sweep():
        runtime = Runtime.instance()
        while True:
            time.sleep(_SWEEP_SECONDS)
            try:
                uploads.sweep_closed(runtime.is_active_session)
            except OSError:
                pass  # a folder that cannot be read now is tried again on the next round

    threading.Thread(target=sweep, name="persona-lab-upload-sweeper", daemon=True).start()


_SWEEP_SECONDS = 5


def session_id() -> str:
    """This browser session's id (names its upload folder)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return "".join(ch if ch.isalnum() else "-" for ch in ctx.session_id) if ctx is not None else ""
