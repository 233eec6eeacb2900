"""Compare two runs of the same dataset: how much they agree and what changed.

Agreement is the adjusted Rand index between the two assignments. The cross-tab counts users per
(segment in A, segment in B). Each segment of B is matched to the segment of A it shares most users
with; the Jaccard similarity of the pair says whether it is "the same segment" (high) or a new cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.metrics import adjusted_rand_score

from .disclosure import MIN_SEGMENT_SIZE, withheld_sizes
from .errors import InputError

__all__ = ["Comparison", "compare_assignments"]


@dataclass
class Comparison:
    run_a: str
    run_b: str
    ari: float
    crosstab: pd.DataFrame  # rows: personas of A, columns: personas of B, users
    matches: pd.DataFrame  # per segment of B: its best match in A, Jaccard, sizes, descriptions
    users: int


def compare_assignments(run_a: str, run_b: str, assign_a: pd.DataFrame, assign_b: pd.DataFrame,
                        personas_a: pd.DataFrame, personas_b: pd.DataFrame, *,
                        min_segment_size: int = MIN_SEGMENT_SIZE) -> Comparison:
    """Compare run B's assignments (user_id, cluster) against run A's, with each run's personas (cluster,
    name, description). A segment of either run with fewer than ``min_segment_size`` users keeps its size
    but not its description (see :mod:`segcore.disclosure`)."""
    pa, pb = personas_a.set_index("cluster"), personas_b.set_index("cluster")
    merged = assign_a[["user_id", "cluster"]].merge(assign_b[["user_id", "cluster"]], on="user_id",
                                                    suffixes=("_a", "_b"))
    if merged.empty:
        raise InputError("the two runs share no users")
    ari = float(adjusted_rand_score(merged["cluster_a"], merged["cluster_b"]))
    counts = pd.crosstab(merged["cluster_a"], merged["cluster_b"])
    size_a, size_b = counts.sum(axis=1), counts.sum(axis=0)
    rows = []
    for cb in counts.columns:
        inter = counts[cb]
        jaccard = inter / (size_a + size_b[cb] - inter)
        ca = int(jaccard.idxmax())
        rows.append({"cluster_b": int(cb), "persona_b": pb.loc[cb, "name"], "users_b": int(size_b[cb]),
                     "best_match_a": ca, "persona_a": pa.loc[ca, "name"], "users_a": int(size_a[ca]),
                     "shared_users": int(inter[ca]), "jaccard": float(jaccard[ca]),
                     "description_a": pa.loc[ca, "description"], "description_b": pb.loc[cb, "description"]})
    small_a, small_b = set(withheld_sizes(size_a, min_segment_size)), set(withheld_sizes(size_b, min_segment_size))
    withheld = f"withheld: fewer than {int(min_segment_size)} users"
    for row in rows:
        if row["best_match_a"] in small_a:
            row["description_a"] = withheld
        if row["cluster_b"] in small_b:
            row["description_b"] = withheld
    crosstab = counts.rename(index=pa["name"], columns=pb["name"])
    crosstab.index.name, crosstab.columns.name = f"A: {run_a}", f"B: {run_b}"
    return Comparison(run_a, run_b, ari, crosstab, pd.DataFrame(rows), len(merged))
