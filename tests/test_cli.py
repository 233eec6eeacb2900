"""The segcore command, run as a user runs it: a real process, real files."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest


def segcore(*args, store, check=True):
    env = {**os.environ, "SEGCORE_STORE": str(store)}
    proc = subprocess.run([sys.executable, "-m", "segcore.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def cli_store(tmp_path, sample_store):
    import shutil

    dst = tmp_path / "cli.duckdb"
    shutil.copy(sample_store.path, dst)
    return dst


@pytest.mark.slow
def test_sweep_json_run_and_export(cli_store, tmp_path):
    out = segcore("sweep", "sample", "--k", "5-7", "--json", store=cli_store).stdout
    payload = json.loads(out)
    assert payload["recommended_k"] in (5, 6, 7)
    assert [m["k"] for m in payload["metrics"]] == [5, 6, 7]
    assert {"inertia", "silhouette", "calinski_harabasz", "davies_bouldin"} <= set(payload["metrics"][0])

    run = segcore("run", "sample", "--k", "6", "--seed", "3", store=cli_store).stdout
    run_id = run.split()[-1]
    assert run_id.startswith("kmeans-k6-")
    assert run_id in segcore("runs", store=cli_store).stdout
    named = segcore("label", run_id, "Spring launch", "--pin", store=cli_store).stdout
    assert named.strip() == f"run {run_id}: named 'Spring launch', pinned; the app opens {run_id} first for 'sample'"
    listed = segcore("runs", "sample", store=cli_store).stdout
    assert "Spring launch" in next(line for line in listed.splitlines() if run_id in line)
    nothing = segcore("label", run_id, store=cli_store, check=False)
    assert nothing.returncode == 2 and "give the run a name, or --pin or --unpin it" in nothing.stderr

    segcore("personas", run_id, "--set", "0=Core browsers", store=cli_store)
    dest = tmp_path / "out.parquet"
    msg = segcore("export", run_id, "--out", str(dest), "--columns", "revenue", store=cli_store).stdout
    assert "wrote 20,000 users" in msg
    back = pd.read_parquet(dest)
    assert {"user_id", "cluster", "persona", "revenue"} <= set(back.columns)
    assert "Core browsers" in set(back["persona"])
    assert segcore("currency", "€", "--decimals", "1", store=cli_store).stdout.strip() == \
        "money is written as €1,234.5 (symbol €, 1 decimal)"
    labelled = tmp_path / "labelled.csv"
    segcore("export", run_id, "--out", str(labelled), "--columns", "revenue", "--headers", "labels", "--descriptions",
            store=cli_store)
    back = pd.read_csv(labelled)
    assert list(back.columns) == ["User id", "Segment", "Persona", "Description", "Revenue (€)"]
    assert (back["Revenue (€)"].round(1) == back["Revenue (€)"]).all()
    assert "sd" in segcore("profile", run_id, store=cli_store).stdout
    kpis = segcore("kpis", run_id, store=cli_store).stdout
    assert "All users" in kpis and "significant after Benjamini-Hochberg correction (q < 0.05):" in kpis
    fair = segcore("fairness", run_id, "--attr", "age_band", "--correction", "holm", store=cli_store).stdout
    assert "below_rule" in fair and " q " in fair.splitlines()[0] + " "
    holm = json.loads(segcore("kpis", run_id, "--json", "--correction", "holm", store=cli_store).stdout)
    assert holm["correction"] == "Holm" and "q" in holm["segments"][0]["evidence"]["revenue_per_user"]
    positions = tmp_path / "positions.csv"
    assert "pca: 20,000 of 20,000 users placed" in segcore("project", run_id, "--out", str(positions),
                                                           store=cli_store).stdout
    assert len(pd.read_csv(positions)) == 20_000
    bad = segcore("project", run_id, "--out", str(tmp_path / "p.txt"), store=cli_store, check=False)
    assert bad.returncode == 2 and "should end in .csv or .parquet" in bad.stderr


@pytest.mark.slow
def test_import_users_and_events(tmp_path):
    store = tmp_path / "s.duckdb"
    users = tmp_path / "users.csv"
    users.write_text("customer,Email,plan,spend\n00042,A.B@Example.com ,gold,10\n00100,c@d.org,free,0\n"
                     "7,e@f.net,free,3\n")
    out = segcore("import", str(users), "--name", "crm", "--id", "customer", store=store).stdout
    assert "3 users" in out and "'Email' (email) hashed" in out
    events = tmp_path / "ev.csv"
    events.write_text("who,at,what\n00042,2026-01-01T10:00:00,page_view\n00042,2026-01-02T10:00:00,purchase\n"
                      "00100,2026-01-03T10:00:00,page_view\n")
    segcore("import", str(events), "--name", "log", "--kind", "events", "--map", "user_id=who",
            "--map", "timestamp=at", "--map", "event_type=what", store=store)
    segcore("import", str(events), "--name", "kept", "--kind", "events", "--map", "user_id=who",
            "--map", "timestamp=at", "--keep-events", store=store)
    listing = segcore("datasets", store=store).stdout
    assert "crm" in listing and "log" in listing
    import segcore as sc
    st = sc.Store(store)
    assert st.read_table("crm", "users")["user_id"].tolist() == ["00042", "00100", "7"]
    assert st.read_table("log")["user_id"].tolist() == ["00042", "00100"]
    assert st.tables("log") == ["features", "activity"] and st.tables("kept") == ["events", "features", "activity"]
    assert len(st.read_table("kept", "events")) == 3


@pytest.mark.parametrize("args, message", [
    (("sweep", "nope"), "no dataset named 'nope'"),
    (("run", "sample", "--k", "1"), "k=1 should be >= 2"),
    (("run", "sample"), "--k"),
    (("sweep", "sample", "--k", "x"), "should look like 2-10"),
    (("sweep", "sample", "--features", "bogus"), "unknown feature(s) 'bogus'"),
    (("export", "no-such-run", "--out", "x.csv"), "no run with id"),
    (("import", "missing.csv", "--name", "m"), "does not exist"),
    (("import", "x.csv", "--name", "m", "--kind", "events", "--map", "bad"), "KEY=VALUE"),
    (("frobnicate",), "invalid choice"),
])
def test_errors_are_one_clear_line(cli_store, args, message):
    proc = segcore(*args, store=cli_store, check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert message in lines[0]


@pytest.mark.slow
def test_help_on_every_verb(cli_store):
    for verb in ("import", "datasets", "quality", "features", "sweep", "run", "runs", "label", "profile", "personas",
                 "compare", "kpis", "export", "app"):
        proc = segcore(verb, "--help", store=cli_store)
        assert "usage: segcore" in proc.stdout and "--store" in proc.stdout


@pytest.mark.parametrize("seed", ["-1", str(2**31), str(2**32)])
def test_a_seed_out_of_range_is_one_line(cli_store, seed):
    bad = segcore("run", "sample", "--k", "3", "--seed", seed, store=cli_store, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert "should be a whole number from 0 to 2,147,483,647" in bad.stderr


@pytest.mark.slow
def test_persona_names_are_checked_in_the_core(cli_store):
    run_id = segcore("run", "sample", "--k", "3", store=cli_store).stdout.split()[-1]
    twice = segcore("personas", run_id, "--set", "0=Fans", "--set", "1=fans", store=cli_store, check=False)
    assert twice.returncode == 2 and "is used twice" in twice.stderr
    long = segcore("personas", run_id, "--set", "0=" + "x" * 61, store=cli_store, check=False)
    assert long.returncode == 2 and "longer than 60" in long.stderr
    assert "Fans" not in segcore("personas", run_id, store=cli_store).stdout  # nothing was half-saved


def test_a_dataset_name_with_a_trailing_newline_is_refused(tmp_path):
    import segcore as core
    from segcore.errors import InputError

    store = core.open_store(tmp_path / "s.duckdb", seed_sample=False)
    f = tmp_path / "u.csv"
    f.write_text("user_id,x\n1,2\n2,3\n")
    with pytest.raises(InputError, match="is not allowed"):
        core.import_file(store, f, "crm\n")
    assert store.list_datasets().empty


@pytest.mark.slow
def test_the_app_listens_on_this_machine_only(tmp_path):
    """`segcore app` binds to 127.0.0.1: another address of this machine is refused."""
    import socket

    from _app_server import app_server

    others = [a for a in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
              if ":" not in a and not a.startswith("127.")]
    if not others:
        pytest.skip("this machine has no address but loopback")
    with app_server(tmp_path / "s.duckdb") as url:
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            socket.create_connection((others[0], port), timeout=3).close()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0"])
def test_max_mb_that_is_not_a_size_is_one_line(cli_store, tmp_path, value):
    f = tmp_path / "u.csv"
    f.write_text("user_id,x\n1,2\n")
    bad = segcore("import", str(f), "--name", "u", f"--max-mb={value}", store=cli_store, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "positive number of megabytes" in bad.stderr


@pytest.mark.slow
def test_an_export_to_a_folder_is_one_line_and_leaves_nothing(cli_store, tmp_path):
    run_id = segcore("run", "sample", "--k", "3", store=cli_store).stdout.split()[-1]
    folder = tmp_path / "out.csv"
    folder.mkdir()
    bad = segcore("export", run_id, "--out", str(folder), store=cli_store, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "is a folder" in bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.duckdb", "out.csv"] and not any(folder.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["kmeans", "minibatch", "ward", "gmm", "hdbscan"])
def test_success_prints_no_library_warnings(tmp_path, algo):
    """Segments that a feature separates perfectly made scikit-learn print a RuntimeWarning with its source line
    on every run (issue 15): a success path writes nothing to stderr."""
    data = tmp_path / "dup.csv"
    data.write_text("user_id,score\n" + "".join(f"u{i},{i % 3}\n" for i in range(300)))
    segcore("import", str(data), "--name", "dup", store=tmp_path / "s.duckdb")
    done = segcore("run", "dup", "--k", "3", "--algo", algo, store=tmp_path / "s.duckdb")
    assert done.stderr == ""


def test_warnings_about_the_result_become_one_plain_note():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from segcore.cli import _notes

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("Number of distinct clusters (3) found smaller than n_clusters (5).\nsecond line",
                      ConvergenceWarning, stacklevel=1)
        warnings.warn("Number of distinct clusters (3) found smaller than n_clusters (5).\nsecond line",
                      ConvergenceWarning, stacklevel=1)
        warnings.warn("divide by zero encountered in divide", RuntimeWarning, stacklevel=1)
        warnings.warn("x is deprecated", FutureWarning, stacklevel=1)
    assert _notes(caught) == ["Number of distinct clusters (3) found smaller than n_clusters (5)."]
