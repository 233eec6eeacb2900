"""Quality and time of every clustering method: ARI against the sample's planted personas and against
the true classes of scikit-learn's reference data sets, plus sweep and fit times on the sample.

    python bench/methods.py                 # prints a table, writes bench/methods.json

Settings: the default features (k-prototypes adds the attributes country, age band, channel and
device, since it exists for mixed data); HDBSCAN runs after PCA to 5 components, as the app advises.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import segcore  # noqa: E402
from segcore.errors import InputError  # noqa: E402

ATTRIBUTES = ["country", "age_band", "acquisition_channel", "device"]


def main() -> int:
    store = segcore.open_store(Path(tempfile.mkdtemp()) / "m.duckdb")
    truth = pd.read_csv(ROOT / "sample_data" / "ground_truth.csv", dtype=str).set_index("user_id")["persona"]
    defaults = segcore.default_features(segcore.feature_catalog(store, "sample"))
    refs = {n: f() for n, f in (("iris", load_iris), ("wine", load_wine), ("breast_cancer", load_breast_cancer),
                                ("digits", load_digits))}
    rows = []
    for algo in segcore.ALGORITHMS:
        features = defaults + ATTRIBUTES if algo == "kprototypes" else defaults
        prep = segcore.Preprocessing(pca=5 if algo == "hdbscan" else 0)
        row = {"method": algo}
        k = None if algo == "hdbscan" else 6
        start = time.perf_counter()
        run_id = segcore.create_run(store, "sample", k, algo=algo, features=features, preprocessing=prep, seed=0)
        row["fit_s"] = round(time.perf_counter() - start, 2)
        a = store.assignments(run_id).set_index("user_id")
        row["sample_k"] = store.run(run_id).k
        row["sample_ari"] = round(adjusted_rand_score(truth.loc[a.index], a["cluster"]), 3)
        assigned = a["cluster"] >= 0
        row["unassigned"] = round(1 - assigned.mean(), 3)
        if not assigned.all():
            row["sample_ari_assigned"] = round(adjusted_rand_score(truth.loc[a.index[assigned]],
                                                                   a.loc[assigned, "cluster"]), 3)
        if algo != "hdbscan":
            start = time.perf_counter()
            sw = segcore.run_sweep(store, "sample", list(range(2, 11)), algo=algo, features=features, seed=0)
            row["sweep_2_10_s"] = round(time.perf_counter() - start, 1)
            row["recommended_k"] = sw.recommended_k
        for name, bunch in refs.items():
            X = StandardScaler().fit_transform(bunch.data)
            k_ref = len(np.unique(bunch.target))
            mixed = None
            if algo == "kprototypes":
                cats = np.digitize(X[:, 0], np.quantile(X[:, 0], [1 / 3, 2 / 3])).astype(str)[:, None]
                mixed = (X, cats)
            try:
                r = segcore.fit(X, None if algo == "hdbscan" else k_ref, algo=algo, seed=0, mixed=mixed)
                row[f"{name}_ari"] = round(adjusted_rand_score(bunch.target, r.labels), 3)
            except InputError as exc:
                row[f"{name}_ari"] = f"none found ({str(exc)[:40]}...)"
        rows.append(row)
        print(row, file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    (ROOT / "bench" / "methods.json").write_text(df.to_json(orient="records", indent=2))
    print(df.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
