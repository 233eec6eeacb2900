"""The k-sweep against a bare scikit-learn loop on the same matrix, alternated in one process.

    python bench/sweep.py                                   # the bundled sample, k = 2..10
    python bench/sweep.py --data /tmp/persona-1m --ks 2-12 --repeat 1   # 1M users (generated elsewhere)

Two baselines, both on the same standardised features:
- bare: ``KMeans(n_init=1)`` per k and nothing else (issue 17's "bare scikit-learn loop");
- plain: the same plus silhouette on a 20,000-user sample, Calinski-Harabasz and Davies-Bouldin on
  everyone (issue 5's "plain loop", as ``bench/run.py``'s ``plain_sweep``).
Ours is ``segcore.sweep`` with every metric and the stability check, as the app runs it. Each repeat
times bare, plain (unless --no-plain) and ours in turn; the medians are compared. Inertia is each
labelling's within-segment sum of squares, computed the same way for all three.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score  # noqa: E402

import segcore  # noqa: E402
from segcore._separation import calinski_davies  # noqa: E402
from segcore.cluster import parse_k_range  # noqa: E402
from segcore.sample import SAMPLE_DIR  # noqa: E402
from segcore.workflow import import_sample  # noqa: E402


def bare_loop(X: np.ndarray, ks: list[int], seed: int) -> list[np.ndarray]:
    return [KMeans(n_clusters=k, n_init=1, random_state=seed).fit(X).labels_ for k in ks]


def plain_loop(X: np.ndarray, ks: list[int], seed: int) -> list[np.ndarray]:
    out = []
    for k in ks:
        labels = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(X).labels_
        silhouette_score(X, labels, sample_size=min(20_000, len(X)), random_state=seed)
        calinski_harabasz_score(X, labels)
        davies_bouldin_score(X, labels)
        out.append(labels)
    return out


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def load_matrix(data: Path | None) -> np.ndarray:
    with tempfile.TemporaryDirectory(prefix="persona-sweep-") as work:
        store = segcore.Store(Path(work) / "bench.duckdb")
        import_sample(store, "bench", sample_dir=data or SAMPLE_DIR)
        return segcore.design_matrix(store, "bench").prepared.X


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, help="a folder with users.parquet and events.parquet (default: the sample)")
    p.add_argument("--ks", default="2-10", help="k range (default 2-10)")
    p.add_argument("--repeat", type=int, default=5, help="alternations; medians are compared (default 5)")
    p.add_argument("--no-plain", action="store_true", help="skip issue 5's plain loop (slow at 1M users)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "sweep.json")
    args = p.parse_args()
    ks = parse_k_range(args.ks)
    X = load_matrix(args.data)
    times: dict[str, list[float]] = {"bare": [], "plain": [], "ours": []}
    for _ in range(max(args.repeat, 1)):
        bare, t = timed(lambda: bare_loop(X, ks, 0))
        times["bare"].append(t)
        if not args.no_plain:
            times["plain"].append(timed(lambda: plain_loop(X, ks, 0))[1])
        result, t = timed(lambda: segcore.sweep(X, ks, seed=0))
        times["ours"].append(t)
    median = {name: float(np.median(v)) for name, v in times.items() if v}
    ours_inertia = result.table["inertia"].to_numpy()
    bare_inertia = np.array([calinski_davies(X, labels).within_ss for labels in bare])
    report = {
        "users": len(X), "features": X.shape[1], "ks": ks, "repeats": args.repeat,
        "seconds": {name: [round(t, 4) for t in v] for name, v in times.items() if v},
        "median_seconds": {name: round(t, 4) for name, t in median.items()},
        "ratio_vs_bare": round(median["ours"] / median["bare"], 2),
        "ratio_vs_plain": round(median["ours"] / median["plain"], 2) if "plain" in median else None,
        "inertia_ours_over_bare": (ours_inertia / bare_inertia).round(4).tolist(),
        "recommended_k": result.recommended_k,
        "stability": result.table["stability"].round(3).tolist(),
        "silhouette": result.table["silhouette"].round(4).tolist(),
    }
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
