"""Runs people name or pin open first; a persona keeps its colour from run to run."""

import dataclasses
from datetime import timedelta

import duckdb
import pandas as pd
import pytest

import segcore
from segcore.errors import InputError, NotFoundError
from segcore.personas import PALETTE, carry_colours
from segcore.store import SCHEMA_VERSION


def _copy_run(store, run_id, new_id, minutes):
    """A copy of ``run_id`` saved ``minutes`` after it, with the same assignments and personas."""
    rec = store.run(run_id)
    store.save_run(dataclasses.replace(rec, run_id=new_id, created_at=rec.created_at + timedelta(minutes=minutes)),
                   store.assignments(run_id), store.personas(run_id))
    return new_id


def test_the_run_last_named_or_pinned_opens_first(sample_run, store_copy):
    store = store_copy
    first = store.list_runs("sample")["run_id"].iloc[0]
    second = _copy_run(store, first, "second", 5)
    newest = _copy_run(store, first, "newest", 10)
    assert store.preferred_run("sample") == newest  # nothing named or pinned: the newest
    store.mark_run(second, label="  Spring   launch ")
    assert store.preferred_run("sample") == second
    assert store.run(second).label == "Spring launch"  # spaces tidied
    store.mark_run(first, pinned=True)
    assert store.preferred_run("sample") == first  # pinned after the other was named
    runs = store.list_runs("sample").set_index("run_id")
    assert runs.loc[first, "pinned"] and not runs.loc[newest, "pinned"] and runs.loc[second, "label"] == "Spring launch"
    assert store.run(first).pinned and not store.run(newest).pinned
    # unpinned and unnamed again: back to the one still named
    store.mark_run(first, pinned=False)
    assert store.preferred_run("sample") == second
    store.mark_run(second, label="")
    assert store.run(second).label is None and store.preferred_run("sample") == newest
    with pytest.raises(InputError, match="at most 80 characters"):
        store.mark_run(second, label="x" * 81)
    with pytest.raises(NotFoundError, match="No run with id 'nope'"):
        store.mark_run("nope", pinned=True)
    assert store.preferred_run("no-such-dataset") is None


def test_a_store_of_version_2_gets_the_columns_and_keeps_its_runs(sample_run, store_copy):
    path, run_id = store_copy.path, store_copy.list_runs()["run_id"].iloc[0]
    con = duckdb.connect(str(path))
    for column in ("label", "pinned", "marked_at"):
        con.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    con.execute("UPDATE persona_lab_store SET value = '2' WHERE key = 'schema_version'")
    con.close()
    store = segcore.Store(path)
    assert store.preferred_run("sample") == run_id and store.run(run_id).label is None
    store.mark_run(run_id, label="kept")
    assert store.run(run_id).label == "kept"
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT value FROM persona_lab_store WHERE key = 'schema_version'").fetchall() == \
        [(str(SCHEMA_VERSION),)]
    con.close()


def test_personas_named_as_before_keep_their_colour():
    new = pd.DataFrame({"cluster": [0, 1, 2], "name": ["Night owls", "Big spenders", "Newcomers"],
                        "colour": [PALETTE[0], PALETTE[1], PALETTE[2]]})
    earlier = {"Night owls": "#AA4499", "Newcomers": PALETTE[1], "Gone": "#000000"}
    out = carry_colours(new, earlier)
    # carried by name; the colour "Big spenders" was given is now the Newcomers', so it gets a free one
    assert out["colour"].tolist() == ["#AA4499", PALETTE[0], PALETTE[1]]
    assert out["colour"].str.upper().is_unique
    # two earlier names with one colour: the first keeps it, the second its own
    clash = carry_colours(new, {"Night owls": "#123456", "Big spenders": "#123456"})
    assert clash["colour"].tolist() == ["#123456", PALETTE[1], PALETTE[2]]
    assert carry_colours(new, {}).equals(new)


def test_a_new_run_gives_a_persona_its_earlier_colour(sample_run, store_copy):
    store = store_copy
    run_id = store.list_runs("sample")["run_id"].iloc[0]
    personas = store.personas(run_id)
    night = personas[personas["name"] == "Night owls"]
    assert len(night) == 1  # the sample's planted night owls are found and named
    store.update_personas(run_id, {int(night["cluster"].iloc[0]): {"colour": "#FF00FF"}})
    assert store.persona_colours("sample")["Night owls"] == "#FF00FF"
    again = segcore.create_run(store, "sample", 6, seed=1)
    colours = store.personas(again).set_index("name")["colour"]
    assert colours["Night owls"] == "#FF00FF" and colours.str.upper().is_unique


def test_personas_survive_a_re_segmentation_with_shuffled_numbers(tmp_path, sample_store):
    """A second run of the same data, its segments numbered otherwise: each continues the persona of the run a
    new session opens (by the users they share), keeping its name, description, colour and narrative; a
    segment that continues none keeps a suggestion of its own."""
    import shutil

    from segcore.personas import match_segments

    path = tmp_path / "s.duckdb"
    shutil.copy(sample_store.path, path)
    store = segcore.Store(path)
    first = segcore.create_run(store, "sample", 5, seed=0)
    store.update_personas(first, {0: {"name": "Our <b>best</b>", "description": "team words", "colour": "#123456",
                                      "narrative": "What the team says about them."}})
    store.mark_run(first, label="Spring", pinned=True)
    before = store.personas(first).set_index("cluster")
    again = segcore.create_run(store, "sample", 5, seed=7)
    after = store.personas(again)
    # the numbering differs, the personas do not
    pairs = match_segments(store.assignments(again)["user_id"], store.assignments(again)["cluster"],
                           store.assignments(first))
    assert sorted(o for o, _ in pairs.values()) == sorted(before.index) and min(j for _, j in pairs.values()) > 0.9
    for new, (old, _) in pairs.items():
        row = after.set_index("cluster").loc[new]
        assert (row["name"], row["colour"], row["description"]) == tuple(before.loc[old, ["name", "colour",
                                                                                           "description"]])
    moved = next(new for new, (old, _) in pairs.items() if old == 0)
    assert after.set_index("cluster").loc[moved, "narrative"] == "What the team says about them."
    assert store.run(again).metrics["personas_carried"]["run"] == first
    # one more segment than before: it is new, named and coloured apart
    more = store.personas(segcore.create_run(store, "sample", 6, seed=3))
    assert more["name"].str.casefold().is_unique and more["colour"].str.upper().is_unique
    assert "Our <b>best</b>" in set(more["name"])
    assert len(set(more["name"]) - set(before["name"])) >= 1
