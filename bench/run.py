"""Time each stage of the Persona Lab flow against a plain baseline measured in the same run.

    python bench/run.py                       # the bundled sample (20,000 users)
    python bench/run.py --users 200000        # generated data, written outside the repo
    python bench/run.py --users 1000000 --data /tmp/persona-1m --umap   # 1M users, 20M events

Prints a table and writes it as JSON (--out). Ratios (ours / baseline) are what to compare across
machines; absolute seconds depend on the machine and its load.

Baselines:
- import + features: the bare DuckDB aggregation of the same events Parquet into 16 per-user features
  (the issue's "1M users x 15-17 features"), materialised in an in-memory database; the 9-aggregate
  query fetched into Python that earlier runs used is timed too, for continuity. With --repeat N
  both sides alternate N times and the medians are compared;
- sweep: a plain scikit-learn loop over the same matrix: KMeans(n_init=1) per k, silhouette on a
  20,000-user sample, Calinski-Harabasz and Davies-Bouldin on everyone;
- UMAP (with --umap): umap-learn fitted directly on the same matrix.

After the fit, a run's matrix is rebuilt once ("run matrix (shared)") and handed to profiles and
projections, as the app does (it keeps it per server). Earlier runs rebuilt it in each of those
stages, so their profile and projection figures include it (about 5 s each at 1M users).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score  # noqa: E402

import segcore  # noqa: E402
from segcore._separation import calinski_davies  # noqa: E402
from segcore.cluster import parse_k_range  # noqa: E402
from segcore.sample import SAMPLE_DIR, write_sample  # noqa: E402
from segcore.workflow import import_sample  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BARE_16 = """
CREATE TABLE per_user AS
SELECT user_id, count(*) AS n_events, max(timestamp) AS last_seen, min(timestamp) AS first_seen,
       count(DISTINCT timestamp::DATE) AS active_days, count(DISTINCT session_id) AS n_sessions,
       count(*) FILTER (event_type = 'purchase') AS n_purchases,
       sum(amount) FILTER (event_type = 'purchase') AS revenue,
       avg(amount) FILTER (event_type = 'purchase') AS avg_order_value,
       count(*) FILTER (event_type = 'add_to_cart') AS add_to_cart,
       count(*) FILTER (event_type = 'ad_impression') AS ad_impressions,
       count(*) FILTER (event_type = 'ad_click') AS ad_clicks,
       avg((device = 'mobile')::INT) AS mobile_share,
       avg((hour(timestamp) >= 22 OR hour(timestamp) < 5)::INT) AS night_share,
       avg((dayofweek(timestamp) IN (0, 6))::INT) AS weekend_share,
       count(DISTINCT category) AS category_diversity
FROM read_parquet(?) GROUP BY user_id
"""


def bare_aggregation(events: Path) -> None:
    """The bare DuckDB aggregation: 16 per-user features in one GROUP BY, kept in memory."""
    con = duckdb.connect()
    try:
        con.execute(BARE_16, [str(events)])
    finally:
        con.close()


def bare_aggregation_9(events: Path) -> int:
    """The baseline of earlier runs: 9 aggregates, fetched into Python as tuples."""
    con = duckdb.connect()
    try:
        return len(con.execute(
            "SELECT user_id, count(*) AS n, min(timestamp), max(timestamp), count(DISTINCT session_id), "
            "sum(amount) FILTER (event_type = 'purchase'), count(*) FILTER (event_type = 'ad_click'), "
            "count(*) FILTER (event_type = 'ad_impression'), avg((device = 'mobile')::INT), "
            "count(DISTINCT category) FROM read_parquet(?) GROUP BY user_id", [str(events)]).fetchall())
    finally:
        con.close()


def plain_sweep(X: np.ndarray, ks: list[int], seed: int) -> list[np.ndarray]:
    """Issue 5's plain loop; returns each k's labels (their inertia is measured outside the timing)."""
    labels = []
    for k in ks:
        km = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(X)
        silhouette_score(X, km.labels_, sample_size=min(20_000, len(X)), random_state=seed)
        calinski_harabasz_score(X, km.labels_)
        davies_bouldin_score(X, km.labels_)
        labels.append(km.labels_)
    return labels


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=20_000, help="users to generate (20000 = the bundled sample)")
    p.add_argument("--ks", default="2-12", help="k range of the sweep (default 2-12)")
    p.add_argument("--k", type=int, default=6, help="k of the timed fit (default 6)")
    p.add_argument("--data", type=Path, help="folder for generated data (default: a temp folder)")
    p.add_argument("--events-per-user", type=float, default=20.0,
                   help="mean events per generated user (default 20: 1M users -> 20M events)")
    p.add_argument("--umap", action="store_true", help="also time UMAP (compiles for tens of seconds)")
    p.add_argument("--repeat", type=int, default=1,
                   help="alternate the import and its baselines this many times and compare medians (default 1)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = p.parse_args()
    ks = parse_k_range(args.ks)
    work = Path(tempfile.mkdtemp(prefix="persona-bench-"))
    if args.users == 20_000 and args.data is None:
        data_dir = SAMPLE_DIR
    else:
        data_dir = args.data or work / "data"
        if not (data_dir / "events.parquet").exists():
            print(f"generating {args.users:,} users into {data_dir} ...", file=sys.stderr)
            write_sample(data_dir, scale=args.users / 20_000, events_per_user=args.events_per_user)
    rows = []

    def stage(name, ours, baseline=None, baseline_name=""):
        rows.append({"stage": name, "seconds": round(ours, 3),
                     "baseline": baseline_name, "baseline_seconds": None if baseline is None else round(baseline, 3),
                     "ratio": None if baseline is None else round(ours / baseline, 2)})
        print(f"{name:<28} {ours:8.2f} s" + (f"   baseline {baseline:8.2f} s   ratio {ours / baseline:5.2f}"
                                              if baseline else ""), file=sys.stderr)

    events = data_dir / "events.parquet"
    times: dict[str, list[float]] = {"base": [], "base9": [], "ours": []}
    for _ in range(max(args.repeat, 1)):
        times["base"].append(timed(lambda: bare_aggregation(events))[1])
        times["base9"].append(timed(lambda: bare_aggregation_9(events))[1])
        # each repeat imports into a fresh store; the last one is kept for the stages below
        (work / "bench.duckdb").unlink(missing_ok=True)
        store = segcore.Store(work / "bench.duckdb")
        times["ours"].append(timed(lambda s=store: import_sample(s, "bench", sample_dir=data_dir))[1])
    ours, base, base9 = (float(np.median(times[k])) for k in ("ours", "base", "base9"))
    stage("import + features", ours, base, "bare DuckDB aggregation, 16 features")
    stage("  (earlier baseline)", ours, base9, "9 aggregates fetched into Python")

    design, t_design = timed(lambda: segcore.design_matrix(store, "bench"))
    stage("load + preprocess", t_design)
    X = design.prepared.X
    plain_labels, base = timed(lambda: plain_sweep(X, ks, 0))
    result, ours = timed(lambda: segcore.sweep(X, ks, seed=0))
    stage(f"sweep k={ks[0]}..{ks[-1]}", ours, base, "plain scikit-learn loop (n_init=1)")
    # both inertias as each labelling's within-segment sum of squares, measured the same way
    plain_inertia = np.array([calinski_davies(X, labels).within_ss for labels in plain_labels])
    inertia_ratio = (result.table["inertia"].to_numpy() / plain_inertia).round(4).tolist()

    run_id, t = timed(lambda: segcore.create_run(store, "bench", args.k, seed=0))
    stage(f"fit k={args.k} + store", t)
    # The app rebuilds a run's matrix once per server (st.cache_resource) and hands it to profiles and
    # projections; so does the bench, timed as a stage of its own.
    matrix, t = timed(lambda: segcore.run_matrix(store, run_id))
    stage("run matrix (shared)", t)
    _, t = timed(lambda: segcore.run_profiles(store, run_id, matrix=matrix))
    stage("profiles", t)
    _, t = timed(lambda: segcore.run_projection(store, run_id, "pca", matrix=matrix))
    stage("PCA projection", t)
    worker_rss = None
    if args.umap:
        from segcore import projection
        from segcore._projection_worker import ProjectionWorker

        worker = ProjectionWorker()
        _, t = timed(lambda: (worker.start(), worker.call("pca_2d", X[:100])))  # returns once compiled
        stage("UMAP worker warm-up (compile)", t)
        _, ours = timed(lambda: segcore.run_projection(store, run_id, "umap", umap=worker.umap_2d, matrix=matrix))
        assigned = store.assignments(run_id)["cluster"].to_numpy()  # aligned with X: both sorted by user id
        idx = projection.stratified_sample(assigned, projection.UMAP_SAMPLE, 0)
        import umap

        # the baseline compiles outside its timing too: a default fit above 4,096 rows compiles NN-descent
        umap.UMAP(random_state=0, n_jobs=1, n_epochs=10).fit(np.random.default_rng(0).normal(size=(4_500, 8)))
        _, base = timed(lambda: umap.UMAP(random_state=0, n_jobs=1).fit_transform(X[idx]))
        stage(f"UMAP of {len(idx):,} users", ours, base, "umap-learn directly (same sample, compiled)")
        _, t = timed(lambda: segcore.run_projection(store, run_id, "umap", all_users=True, umap=worker.umap_2d,
                                                    matrix=matrix))
        stage("UMAP: place every user", t)
        worker_rss = worker.peak_memory_mb()
        worker.stop()
    _, t = timed(lambda: segcore.export_run(store, run_id, work / "segments.parquet"))
    stage("export parquet", t)

    report = {"users": store.dataset("bench").n_users, "events": store.dataset("bench").n_events,
              "features": len(design.features), "ks": ks, "stages": rows,
              "import_seconds_each_repeat": {k: [round(t, 2) for t in v] for k, v in times.items()},
              "sweep_inertia_ratio_vs_plain": inertia_ratio, "recommended_k": result.recommended_k,
              "peak_rss_mb": round(peak_rss_mb()),
              "umap_worker_peak_rss_mb": None if worker_rss is None else round(worker_rss),
              "versions": segcore.workflow.library_versions()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
