"""The benchmark script keeps working (tiny scale; the timings themselves are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_runs_at_small_scale(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--users", "600", "--ks", "2-4",
                           "--k", "3", "--data", str(tmp_path / "data"), "--out", str(out), "--repeat", "2"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["users"] == 600 and report["ks"] == [2, 3, 4]
    stages = {r["stage"]: r for r in report["stages"]}
    assert {"import + features", "sweep k=2..4", "fit k=3 + store", "run matrix (shared)", "profiles",
            "PCA projection", "export parquet"} <= set(stages)
    assert all(r["seconds"] > 0 for r in report["stages"])
    sweep = stages["sweep k=2..4"]
    # the ratio comes from unrounded times; the stored seconds are rounded to ms
    assert sweep["baseline_seconds"] > 0
    assert sweep["ratio"] == pytest.approx(sweep["seconds"] / sweep["baseline_seconds"], rel=0.05)
    assert len(report["sweep_inertia_ratio_vs_plain"]) == 3
    assert all(len(t) == 2 for t in report["import_seconds_each_repeat"].values())
    imp = stages["import + features"]
    assert imp["seconds"] == pytest.approx(sorted(report["import_seconds_each_repeat"]["ours"])[0] / 2 +
                                           sorted(report["import_seconds_each_repeat"]["ours"])[1] / 2, abs=0.02)


@pytest.mark.slow
def test_sweep_bench_compares_with_the_bare_loop(tmp_path):
    from segcore.sample import write_sample

    write_sample(tmp_path / "data", scale=0.03)
    out = tmp_path / "sweep.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "sweep.py"), "--data", str(tmp_path / "data"),
                           "--ks", "2-4", "--repeat", "3", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["users"] == 600 and report["ks"] == [2, 3, 4]
    assert all(len(report["seconds"][name]) == 3 for name in ("bare", "plain", "ours"))
    median = report["median_seconds"]
    assert report["ratio_vs_bare"] == pytest.approx(median["ours"] / median["bare"], rel=0.05)
    assert len(report["inertia_ours_over_bare"]) == 3 and report["recommended_k"] in (2, 3, 4)
