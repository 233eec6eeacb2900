"""Uploaded files are deleted once not needed (issue 15): replaced, imported, with the session, or by the next
server when the one that saved them died."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from dashboard.uploads import PREFIX, UploadFolder, sweep_closed, sweep_orphans


def test_a_folder_keeps_one_file_per_slot_and_goes_when_closed(tmp_path):
    folder = UploadFolder(tmp_path)
    first = folder.save("upload", b"a,b\n1,2\n", "kassen export.csv")
    second = folder.save("upload", b"x\n", "../../etc/x.parquet")  # another file in the same uploader replaces it
    users = folder.save("users", memoryview(b"user_id\nu1\n"), "users.csv")
    assert not first.exists() and second.read_bytes() == b"x\n" and users.exists()
    assert second == folder.path / "upload" / "x.parquet"  # the file's own name, never a path out of the folder
    folder.discard("users")
    assert not users.exists() and folder.files() == [second]
    folder.close()
    assert not folder.path.exists()


def test_a_folder_goes_with_the_session_state_that_holds_it(tmp_path):
    state = {"_upload_folder": UploadFolder(tmp_path)}
    path = state["_upload_folder"].path
    state["_upload_folder"].save("upload", b"secret@example.org\n", "crm.csv")
    del state
    gc.collect()
    assert not path.exists()


def test_orphans_of_dead_servers_are_swept_and_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        orphan = tmp_path / f"{PREFIX}{dead.pid}_abc"
        orphan.mkdir()
        (orphan / "upload.csv").write_text("raw")
        living = tmp_path / f"{PREFIX}{alive.pid}_def"
        living.mkdir()
        mine = UploadFolder(tmp_path)
        old_style = tmp_path / f"{PREFIX}k2j3h4.csv"  # saved by earlier versions, never deleted
        old_style.write_text("raw")
        other = tmp_path / "someone_elses.csv"
        other.write_text("not ours")
        gone = sweep_orphans(tmp_path)
        assert set(gone) == {orphan, old_style}
        assert living.exists() and mine.path.exists() and other.exists()
        assert str(os.getpid()) in mine.path.name
    finally:
        alive.kill()


def test_folders_of_ended_sessions_are_swept(tmp_path):
    open_one = UploadFolder(tmp_path, session="4f1c-aa")
    ended = UploadFolder(tmp_path, session="77b0-bb")
    ended.save("upload", b"raw", "crm.csv")
    gone = sweep_closed(lambda session: session == "4f1c-aa", tmp_path)
    assert gone == [ended.path] and not ended.path.exists() and open_one.path.exists()


def test_a_folder_whose_random_tail_holds_an_underscore_stays_its_sessions(tmp_path):
    # mkdtemp's tail is drawn from letters, digits and '_': one in about six tails holds a '_'
    open_one = tmp_path / f"{PREFIX}{os.getpid()}_4f1c-aa_x_y1z"
    open_one.mkdir()
    ended = tmp_path / f"{PREFIX}{os.getpid()}_77b0-bb_q_r2s"
    ended.mkdir()
    assert sweep_closed(lambda session: session == "4f1c-aa", tmp_path) == [ended]
    assert open_one.exists()

