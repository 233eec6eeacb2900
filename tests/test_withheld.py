"""Withheld means withheld (issue 15): a segment below the minimum size cannot be recovered from any
output, alone or by subtracting one output from another."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segcore
from segcore import workflow
from segcore.disclosure import MIN_SEGMENT_SIZE, check_min_size
from segcore.errors import InputError
from segcore.workflow import compare_runs

TINY = 12  # users planted in a segment of their own


@pytest.fixture(scope="module")
def planted(tmp_path_factory, sample_store, sample_run):
    """A copy of the sample store with a run whose segment 'Tiny' has 12 users of high revenue."""
    import shutil

    path = tmp_path_factory.mktemp("withheld") / "s.duckdb"
    shutil.copy(sample_store.path, path)
    store = segcore.Store(path)
    rec = store.run(sample_run)
    assign = store.assignments(sample_run)
    feats = store.read_table("sample", columns=["user_id", "revenue"])
    rich = feats.sort_values("revenue", ascending=False)["user_id"].head(TINY)
    tiny = int(assign["cluster"].max()) + 1
    assign.loc[assign["user_id"].isin(rich), "cluster"] = tiny
    personas = pd.concat([store.personas(sample_run),
                          pd.DataFrame([{"run_id": sample_run, "cluster": tiny, "name": "Tiny",
                                         "description": "the twelve biggest spenders", "colour": "#123456"}])])
    run_id = "planted-tiny"
    store.save_run(dataclasses.replace(rec, run_id=run_id), assign, personas)
    return store, run_id, set(rich)


def test_no_kpi_figure_gives_the_small_segment_away(planted):
    store, run_id, tiny = planted
    kpis = workflow.run_kpis(store, run_id).table.set_index("segment")
    assert kpis.loc["Tiny", "withheld"] and np.isnan(kpis.loc["Tiny", "revenue_per_user"])
    shown = kpis.drop(index=["All users", "Tiny"])
    base = kpis.loc["All users"]
    # the baseline is the shown segments' users and nobody else: subtraction leaves nothing
    assert base["users"] == shown["users"].sum() == 20_000 - TINY
    residual = base["revenue_per_user"] * base["users"] - (shown["revenue_per_user"] * shown["users"]).sum()
    assert residual == pytest.approx(0, abs=1e-6)
    feats = store.read_table("sample", columns=["user_id", "revenue"])
    assert base["revenue_per_user"] == pytest.approx(feats.loc[~feats["user_id"].isin(tiny), "revenue"].mean())


def test_fairness_population_leaves_the_small_segment_out(planted):
    store, run_id, tiny = planted
    rep = workflow.run_fairness(store, run_id, ["country"])
    assert "Tiny" in rep.withheld and "Tiny" not in set(rep.table["segment"])
    users = store.read_table("sample", "users", columns=["user_id", "country"])
    shown = users[~users["user_id"].isin(tiny)]["country"].value_counts(normalize=True)
    pop = rep.table.drop_duplicates("group").set_index("group")["population_share"]
    for group, share in shown.items():
        assert pop[group] == pytest.approx(share)
    assert (rep.table.groupby("group")["in_segment"].sum().sum()) == 20_000 - TINY


def test_maps_and_exports_leave_out_the_same_users(planted):
    store, run_id, tiny = planted
    coords, info = workflow.run_projection(store, run_id, "pca")
    exported, report = workflow.export_run(store, run_id)
    assert not set(coords["user_id"]) & tiny and not set(exported["user_id"]) & tiny
    assert set(coords["user_id"]) == set(exported["user_id"])  # no difference of the two names anyone
    assert info["withheld_users"] == TINY and list(report.withheld["persona"]) == ["Tiny"]


def test_compare_and_profile_say_only_its_size(planted, sample_run):
    store, run_id, _ = planted
    cmp = compare_runs(store, sample_run, run_id)
    row = cmp.matches.set_index("persona_b").loc["Tiny"]
    assert row["description_b"] == f"withheld: fewer than {MIN_SEGMENT_SIZE} users"
    done = subprocess.run([sys.executable, "-m", "segcore.cli", "--store", str(store.path), "profile", run_id],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if "(Tiny)" in x)
    assert line == f"cluster {cmp.matches.set_index('persona_b').loc['Tiny', 'cluster_b']} (Tiny): {TINY} users; " \
                   f"withheld: fewer than {MIN_SEGMENT_SIZE} users, so nothing else about it is shown"
    assert "twelve biggest spenders" not in done.stdout


@pytest.mark.slow
def test_a_minimum_below_the_default_needs_saying_so(planted):
    store, run_id, _ = planted
    with pytest.raises(InputError, match="below the default 50"):
        check_min_size(10)
    assert check_min_size(10, allow_small=True) == 10
    cli = [sys.executable, "-m", "segcore.cli", "--store", str(store.path), "kpis", run_id, "--json",
           "--min-size", "10"]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and done.stderr.strip().count("\n") == 0 and "below the default 50" in done.stderr
    done = subprocess.run(cli + ["--allow-small-segments"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    import json

    out = json.loads(done.stdout)
    assert out["min_segment_size"] == 10
    assert not next(s for s in out["segments"] if s["segment"] == "Tiny")["withheld"]


def test_k_anonymity_hand_worked():
    from segcore.disclosure import k_anonymise

    frame = pd.DataFrame({"user_id": [f"u{i}" for i in range(9)], "country": ["DE"] * 4 + ["FR"] * 4 + ["IS"],
                          "device": ["mobile"] * 9})
    out, done = k_anonymise(frame, ["country", "device"], 3)
    assert out["country"].tolist() == ["DE"] * 4 + ["FR"] * 4  # the lone Icelander: suppressed, then left out
    assert done == ["1 row had country, device suppressed (*): their combination was held by fewer than 3 rows",
                    "1 row left out: even suppressed, fewer than 3 rows look like them"]
    frame.loc[8, "country"], frame.loc[7, "country"] = "IS", "NO"
    out, _ = k_anonymise(pd.concat([frame, frame.assign(user_id=frame["user_id"] + "b")]), ["country"], 3)
    assert (out["country"] == "*").sum() == 4 and len(out) == 18  # four rare rows together make a group of four


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 3), st.floats(0, 1000, allow_nan=False)),
                min_size=1, max_size=200), st.integers(1, 20))
def test_every_combination_is_held_by_k_rows(rows, k):
    from segcore.disclosure import k_anonymise

    frame = pd.DataFrame(rows, columns=["country", "tier", "spend"])
    out, _ = k_anonymise(frame, ["country", "tier", "spend"], k)
    if not out.empty:
        assert out.astype(str).groupby(["country", "tier", "spend"]).size().min() >= k


def test_an_export_with_attributes_is_k_anonymous_and_says_so(planted):
    store, run_id, _ = planted
    frame, report = workflow.export_run(store, run_id,
                                        columns=["country", "age_band", "acquisition_channel", "revenue"])
    combos = frame.astype(str).groupby(["country", "age_band", "acquisition_channel"]).size()
    assert combos.min() >= MIN_SEGMENT_SIZE
    assert any(line.startswith("k-anonymous (k = 50): ") and "suppressed" in line for line in report.lines())
    # behavioural figures are not attributes of who a user is: exported as they are
    revenue = store.read_table("sample", columns=["user_id", "revenue"]).set_index("user_id")["revenue"]
    assert np.allclose(frame.set_index("user_id")["revenue"], revenue.loc[frame["user_id"]])
