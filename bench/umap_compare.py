"""UMAP as Persona Lab runs it against umap-learn's defaults, both compiled, on the same users.

    python bench/umap_compare.py --data /tmp/persona-1m    # a generated dataset's events Parquet

Imports the data into a temporary store, prepares the default feature matrix, takes a random 50,000
users and times, twice each: :func:`segcore.projection.umap_2d` (exact neighbours by brute force,
then UMAP) and ``umap.UMAP(random_state=0, n_jobs=1).fit_transform`` (NN-descent neighbours). Both
are compiled before timing: NN-descent's compilation (about 25 s, not cacheable) is left out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import segcore  # noqa: E402
from segcore import projection  # noqa: E402
from segcore.workflow import import_sample  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder with users.parquet and events.parquet")
    p.add_argument("--users", type=int, default=projection.UMAP_SAMPLE, help="users to embed (default 50,000)")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    store = segcore.Store(Path(tempfile.mkdtemp(prefix="umap-compare-")) / "s.duckdb")
    import_sample(store, "bench", sample_dir=args.data)
    X = segcore.design_matrix(store, "bench").prepared.X
    idx = np.sort(np.random.default_rng(0).choice(len(X), min(args.users, len(X)), replace=False))
    projection.warm_up_umap()
    import umap

    umap.UMAP(random_state=0, n_jobs=1, n_epochs=10).fit(np.random.default_rng(0).normal(size=(4_500, 8)))
    for _ in range(2):
        t = time.perf_counter()
        projection.umap_2d(X[idx], 0)
        ours = time.perf_counter() - t
        t = time.perf_counter()
        umap.UMAP(random_state=0, n_jobs=1).fit_transform(X[idx].astype(np.float32))
        base = time.perf_counter() - t
        print(f"{len(idx):,} users: ours {ours:.1f} s, umap-learn {base:.1f} s, ratio {ours / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
