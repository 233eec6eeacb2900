"""The steps a user takes, wired over the store: one engine for the app and the command line.

A run is the unit everything downstream hangs off: its record names the
dataset, features, preprocessing, algorithm, k and seed, so its matrix,
profiles, projections and KPIs can always be rebuilt from the store.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

from .. import cluster, projection
from ..disclosure import MIN_SEGMENT_SIZE, k_anonymise, withheld_segments
from ..errors import InputError
from ..explain import feature_separation, segment_rules
from ..export import HEADERS, ExportReport, readable_headers, round_values, withhold_small, write
from ..fairness import FOUR_FIFTHS, FairnessReport, fairness_report, suggest_sensitive
from ..features import catalog
from ..kpi import CHURN_DAYS, KPI_INPUTS, KpiReport
from ..personas import PALETTE, UNASSIGNED, carry_colours, carry_personas, match_segments, suggest_personas
from ..preprocess import Prepared, Preprocessing, prepare
from ..profile import Profiles, SegmentSummary, indicator_frame, profile_clusters, summarise_segments
from ..significance import kpi_report_with_evidence
from ..stability import STABILITY_SAMPLE, segment_jaccard
from ..store import RunRecord, Store
from ._features import _default_selection, feature_catalog

__all__ = ["Design", "RunMatrix", "design_matrix", "run_sweep", "create_run", "run_matrix", "create_rfm_run",
           "run_profiles", "run_sample", "run_summaries", "run_explanation", "run_projection", "run_silhouettes",
           "run_kpis", "run_fairness", "export_run", "library_versions"]


@dataclass
class Design:
    """What a run clusters: the dataset's feature table, the chosen columns and the matrix."""

    dataset: str
    frame: pd.DataFrame  # user_id + chosen raw features
    numeric: list[str]
    categorical: list[str]
    prepared: Prepared
    preprocessing: Preprocessing
    version: object = None  # the dataset's version (when it was imported) read before its features
    run: RunRecord | None = None  # the run this design was rebuilt for (see run_matrix)

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    def fingerprint(self) -> str:
        """Hash of the users and raw feature values: two runs on the same data share it."""
        h = pd.util.hash_pandas_object(self.frame, index=False).to_numpy()
        return hashlib.sha256(h.tobytes()).hexdigest()[:16]


class RunMatrix(NamedTuple):
    """A run's design and its assignments aligned to the design's rows (user_id, cluster, probability)."""

    design: Design
    assignments: pd.DataFrame


def design_matrix(store: Store, dataset: str, features: list[str] | None = None,
                  preprocessing: Preprocessing | None = None) -> Design:
    """Load the chosen features of a dataset and preprocess them."""
    with store.session():
        frame, numeric, categorical, version = _read_design(store, dataset, features)
    preprocessing = preprocessing or Preprocessing()
    prepared = prepare(frame, numeric, categorical, preprocessing)
    return Design(dataset, frame, numeric, categorical, prepared, preprocessing, version)


def _read_design(store: Store, dataset: str, features) -> tuple[pd.DataFrame, list[str], list[str], object]:
    """The chosen features' values (all reads, in the caller's session), split by kind, and the dataset's version."""
    stats = store.column_stats(dataset)
    infos = {f.name: f for f in catalog(store.columns(dataset), stats)}
    features = list(features) if features else _default_selection(store, dataset, list(infos.values()), stats)[0]
    unknown = [f for f in features if f not in infos]
    if unknown:
        raise InputError(f"unknown feature(s) {', '.join(map(repr, unknown))} for dataset {dataset!r}; "
                         f"available: {', '.join(infos)}")
    features = list(dict.fromkeys(features))
    numeric = [f for f in features if infos[f].kind == "numeric"]
    categorical = [f for f in features if infos[f].kind == "categorical"]
    # the version is read first: a run is saved only if the dataset is still that version (Store.save_run)
    version = store.dataset(dataset).created_at
    frame = store.read_table(dataset, "features", ["user_id", *features])
    return frame, numeric, categorical, version


def run_sweep(store: Store, dataset: str, ks: list[int], *, algo: str = "kmeans", features=None,
              preprocessing: Preprocessing | None = None, seed: int = 0, params: dict | None = None,
              stability: bool = True, progress=None) -> cluster.SweepResult:
    """Sweep k over a dataset's chosen features; ``progress(fraction, message)`` from the first read."""
    say = progress or (lambda fraction, message: None)
    say(0.0, "Loading and preprocessing the features.")
    design = design_matrix(store, dataset, features, preprocessing)
    # a tenth of the bar for reading the features, the rest for the fits and metrics
    return cluster.sweep(design.prepared.X, ks, algo=algo, seed=seed, params=params, mixed=design.prepared.mixed,
                         stability=stability, progress=lambda f, message: say(0.1 + 0.9 * f, message))


def library_versions() -> dict:
    import duckdb
    import sklearn

    from .. import __version__
    return {"segcore": __version__, "scikit-learn": sklearn.__version__, "numpy": np.__version__,
            "pandas": pd.__version__, "duckdb": duckdb.__version__}


def _profiles(design: Design, labels) -> Profiles:
    return profile_clusters(indicator_frame(design.frame, design.numeric, design.categorical), labels)


def create_run(store: Store, dataset: str, k: int | None = None, *, algo: str = "kmeans", features=None,
               preprocessing: Preprocessing | None = None, seed: int = 0, params: dict | None = None,
               progress=None) -> str:
    """Fit, profile, suggest personas and store the run; returns its id.

    ``k`` is required unless the method finds it (HDBSCAN).
    """
    say = progress or (lambda f, m: None)
    say(0.05, "Loading and preprocessing the features.")
    with store.session():  # every read before the fit on one connection
        design = design_matrix(store, dataset, features, preprocessing)
        earlier_colours = store.persona_colours(dataset)
        earlier_run = store.preferred_run(dataset)  # the run whose personas a new one continues
        earlier = (store.assignments(earlier_run), store.personas(earlier_run)) if earlier_run else None
    say(0.25, f"Fitting {cluster.ALGORITHMS[algo].label if algo in cluster.ALGORITHMS else algo}"
        + (f" with k={k}." if k else "."))
    result = cluster.fit(design.prepared.X, k, algo=algo, seed=seed, params=params, mixed=design.prepared.mixed)
    say(0.7, "Profiling the segments and suggesting personas.")
    values = indicator_frame(design.frame, design.numeric, design.categorical)  # shared by profiles and rules
    # a persona named as in an earlier run of the dataset keeps its colour; a segment that continues one of
    # the run a new session opens (by the users they share) keeps its name, description, colour and narrative
    personas = carry_colours(suggest_personas(profile_clusters(values, result.labels)), earlier_colours)
    carried: dict = {}
    if earlier is not None:
        matches = match_segments(design.frame["user_id"], result.labels, earlier[0])
        personas = carry_personas(personas, earlier[1], matches)
        carried = {"run": earlier_run, "segments": {str(c): {"from": o, "jaccard": round(j, 4)}
                                                    for c, (o, j) in matches.items()}}
    say(0.75, "Checking each segment's stability on resampled users.")
    jaccard = segment_jaccard(design.prepared.X, result.labels, k, algo=algo, params=result.params,
                              mixed=design.prepared.mixed, seed=seed)
    metrics = {**result.metrics, "segment_stability": {str(c): v for c, v in jaccard.items()},
               "stability_sample": min(len(design.frame), STABILITY_SAMPLE), "personas_carried": carried}
    return _save_run(store, design, values, result.labels, personas, algo=algo, k=result.k, seed=seed,
                     params=result.params, metrics=metrics, probability=result.probability, say=say)


def create_rfm_run(store: Store, dataset: str, *, progress=None) -> str:
    """Score every customer's recency, frequency and monetary value (:mod:`segcore.rfm`) and store the
    named RFM groups as a run: the classic baseline that a clustering can be compared with."""
    from ..rfm import RFM_GROUPS, RFM_INPUTS, rfm_groups, rfm_scores

    say = progress or (lambda f, m: None)
    have = set(store.columns(dataset)["column_name"])
    features = [c for c in RFM_INPUTS if c in have]
    if not {"recency_days", "n_purchases"} <= have:
        raise InputError(f"dataset {dataset!r} has no orders to score: RFM needs a transaction log, or an event "
                         "log with an event type read as purchase")
    say(0.1, "Scoring recency, frequency and monetary value.")
    design = design_matrix(store, dataset, features)
    scores = rfm_scores(design.frame)
    groups = rfm_groups(scores)
    order = [g for g, _, _ in RFM_GROUPS if g in set(groups)]
    labels = groups.map({g: i for i, g in enumerate(order)}).to_numpy()
    means = design.frame.groupby(groups)[features].mean()
    meaning = {g: m for g, _, m in RFM_GROUPS}
    personas = pd.DataFrame([{"cluster": i, "name": g, "colour": PALETTE[i % len(PALETTE)],
                              "description": f"{meaning[g]}: on average {means.loc[g, 'n_purchases']:.1f} orders, "
                                             f"last one {means.loc[g, 'recency_days']:.0f} days ago"
                                             + (f", {means.loc[g, 'revenue']:,.2f} spent"
                                                if "revenue" in features else "")}
                             for i, g in enumerate(order)])
    values = indicator_frame(design.frame, design.numeric, design.categorical)
    metrics = cluster.separation_metrics(design.prepared.X, labels)
    return _save_run(store, design, values, labels, personas, algo="rfm", k=len(order), seed=0,
                     params={"groups": order}, metrics=metrics, probability=None, say=say)


def _save_run(store: Store, design: Design, values: pd.DataFrame, labels, personas: pd.DataFrame, *, algo: str,
              k: int, seed: int, params: dict, metrics: dict, probability, say) -> str:
    """Explain a run's segments with rules, and store it with its assignments and personas; its id."""
    say(0.85, "Explaining the segments with plain rules.")
    rules = segment_rules(values, labels, seed=seed)
    separation = feature_separation(values, labels)
    explanation = {"rules": rules.to_dict(orient="records"), "separation": separation.to_dict(orient="records")}
    now = datetime.now(UTC).replace(tzinfo=None)
    run_id = f"{algo}-k{k}-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    metrics = dict(metrics)
    if design.prepared.pca_explained is not None:
        metrics["pca_explained_variance"] = design.prepared.pca_explained
    record = {"run_id": run_id, "dataset": design.dataset, "algo": algo, "k": k, "seed": int(seed),
              "params": params, "features": design.features,
              "preprocessing": design.preprocessing.as_dict(), "fingerprint": design.fingerprint(),
              "metrics": metrics, "versions": library_versions(), "explanation": explanation, "created_at": now}
    assignments = pd.DataFrame({"user_id": design.frame["user_id"], "cluster": labels, "probability": probability})
    say(0.9, "Saving the run.")
    store.save_run(record, assignments, personas, dataset_version=design.version)
    say(1.0, f"Run {run_id} saved.")
    return run_id


def run_matrix(store: Store, run_id: str) -> RunMatrix:
    """Rebuild a run's design from its record, with its assignments aligned to the rows."""
    with store.session():
        rec = store.run(run_id)
        frame, numeric, categorical, version = _read_design(store, rec.dataset, rec.features)
        assign = store.assignments(run_id)
    preprocessing = Preprocessing(**rec.preprocessing)
    design = Design(rec.dataset, frame, numeric, categorical, prepare(frame, numeric, categorical, preprocessing),
                    preprocessing, version, rec)
    aligned = design.frame[["user_id"]].merge(assign, on="user_id", how="left", validate="one_to_one")
    if aligned["cluster"].isna().any():
        raise InputError(f"run {run_id!r} no longer matches dataset {rec.dataset!r} (was it re-imported?)")
    return RunMatrix(design, aligned)


def run_sample(matrix: RunMatrix, size: int, seed: int = 0) -> pd.DataFrame:
    """A seeded sample of at most ``size`` of a run's users, in random order (its first n rows are a random n):
    their raw features and cluster."""
    frame, aligned = matrix.design.frame, matrix.assignments
    # sample first, then add the cluster: adding it to every user would copy a million rows
    picked = frame.sample(min(len(frame), size), random_state=seed)
    clusters = aligned["cluster"].to_numpy()[frame.index.get_indexer(picked.index)]
    return picked.assign(cluster=clusters).reset_index(drop=True)


def run_profiles(store: Store, run_id: str, *, matrix: RunMatrix | None = None) -> Profiles:
    """Profiles of a run's clusters over its features. ``matrix``: :func:`run_matrix`'s answer, when
    the caller holds it already (rebuilding it takes seconds at a million users)."""
    design, aligned = matrix or run_matrix(store, run_id)
    return _profiles(design, aligned["cluster"].to_numpy())


def run_summaries(store: Store, run_id: str, *, min_segment_size: int = MIN_SEGMENT_SIZE,
                  matrix: RunMatrix | None = None,
                  profiles: Profiles | None = None) -> tuple[list[SegmentSummary], pd.DataFrame]:
    """Every segment of a run as the CLI and the Profiles page show it (see
    :func:`segcore.profile.summarise_segments`), and the features that separate segments most.
    ``profiles``: :func:`run_profiles`'s answer, when the caller holds it already."""
    prof = profiles if profiles is not None else run_profiles(store, run_id, matrix=matrix)
    with store.session():
        rules, separation = run_explanation(store, run_id)
        names = store.personas(run_id).set_index("cluster")["name"].to_dict()
        stability = store.run(run_id).segment_stability
    return summarise_segments(prof, names, stability=stability, rules=rules,
                              min_segment_size=min_segment_size), separation


def run_silhouettes(store: Store, run_id: str, *, sample: int = 5000, matrix: RunMatrix | None = None) -> pd.DataFrame:
    """Per-user silhouette (scikit-learn's silhouette_samples) on a seeded sample of a run's assigned users:
    cluster, silhouette. A segment whose users mostly sit below 0 overlaps its neighbours.
    ``matrix``: as for :func:`run_profiles`."""
    from sklearn.metrics import silhouette_samples

    design, aligned = matrix or run_matrix(store, run_id)
    labels = aligned["cluster"].to_numpy()
    idx = np.flatnonzero(labels != cluster.NOISE)
    if len(idx) > sample:
        idx = np.sort(np.random.default_rng((design.run or store.run(run_id)).seed).choice(idx, sample, replace=False))
    if len(np.unique(labels[idx])) < 2:
        raise InputError("silhouettes need at least two segments")
    values = silhouette_samples(design.prepared.X[idx], labels[idx])
    return pd.DataFrame({"cluster": labels[idx], "silhouette": values})


def run_explanation(store: Store, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rules per segment and the feature separation stored with a run."""
    exp = store.run(run_id).explanation or {}
    rules = pd.DataFrame(exp.get("rules", []), columns=["cluster", "rule", "conditions", "precision", "coverage",
                                                        "users"])
    separation = pd.DataFrame(exp.get("separation", []), columns=["feature", "f_statistic", "p_value"])
    return rules, separation


def run_projection(store: Store, run_id: str, method: str = "pca", *, all_users: bool = False,
                   umap=None, matrix: RunMatrix | None = None, min_segment_size: int = MIN_SEGMENT_SIZE,
                   progress=None) -> tuple[pd.DataFrame, dict]:
    """2-D positions of a run's users in segments of at least ``min_segment_size`` users (a position is
    a summary of the user's features: a withheld segment's users are not placed).

    Computed once for every user, stored, and then read from the store (see :func:`_projection`).
    """
    coords, info = _projection(store, run_id, method, all_users=all_users, umap=umap, matrix=matrix,
                               progress=progress)
    # the caller's copy when it has one
    assign = matrix.assignments if matrix is not None else store.assignments(run_id)
    withheld = withheld_segments(assign["cluster"], min_segment_size)
    if withheld:
        hidden = set(assign.loc[assign["cluster"].isin(withheld), "user_id"])
        coords = coords[~coords["user_id"].isin(hidden)].reset_index(drop=True)
        info = {**info, "withheld_users": len(hidden), "min_segment_size": int(min_segment_size)}
    return coords, info


def _projection(store: Store, run_id: str, method: str = "pca", *, all_users: bool = False,
                umap=None, matrix: RunMatrix | None = None, progress=None) -> tuple[pd.DataFrame, dict]:
    """2-D positions of a run's users, computed once and then read from the store.

    PCA places every user. UMAP is fitted on at most ``projection.UMAP_SAMPLE`` users, sampled
    within each segment, and places those; ``all_users=True`` also places everyone else on the
    same map (``transform``: minutes at a million users). ``umap`` runs UMAP (default
    :func:`projection.umap_2d` in this process; the app passes its warmed-up worker's). ``matrix``:
    as for :func:`run_profiles`. ``progress(fraction, message)`` follows a UMAP as it is computed.
    """
    if method not in ("pca", "umap"):
        raise InputError(f"projection {method!r} should be 'pca' or 'umap'")
    cached = store.projection(run_id, method)
    if cached is not None and (method == "pca" or not all_users or cached[1].get("all_users")):
        return cached
    design, aligned = matrix or run_matrix(store, run_id)
    seed = (design.run or store.run(run_id)).seed
    X = design.prepared.X
    users = aligned["user_id"].to_numpy()
    if method == "pca":
        coords, info = projection.pca_2d(X, seed, names=design.prepared.columns)
        info["all_users"] = True
    else:
        idx = projection.stratified_sample(aligned["cluster"].to_numpy(), projection.UMAP_SAMPLE, seed)
        rest = np.setdiff1d(np.arange(len(X)), idx) if all_users else np.arange(0)
        fitted, placed, info = (umap or projection.umap_2d)(X[idx], seed, place=X[rest] if len(rest) else None,
                                                            progress=progress)
        order = np.concatenate([idx, rest])
        coords = fitted if placed is None else np.vstack([fitted, placed])
        users = users[order]
        info.update(all_users=len(order) == len(X), placed=int(len(order)), users=int(len(X)),
                    sample="stratified by segment" if len(idx) < len(X) else "everyone")
    df = pd.DataFrame({"user_id": users, "x": coords[:, 0], "y": coords[:, 1]})
    store.save_projection(run_id, method, df, info)
    saved = store.projection(run_id, method)  # as stored (float32), the same answer every later call gives
    if saved is None:
        raise RuntimeError(f"the {method} projection of run {run_id!r} was not stored")
    return saved


def run_kpis(store: Store, run_id: str, *, churn_days: float = CHURN_DAYS,
             min_segment_size: int = MIN_SEGMENT_SIZE, correction: str = "bh") -> KpiReport:
    """KPIs per persona of a run, with the all-users baseline (small segments' KPIs withheld), their
    definitions, what the data would need for the KPIs it does not support, and each figure's interval
    and test against the rest of the users, corrected together (``correction``: ``bh`` or ``holm``)."""
    with store.session():
        rec = store.run(run_id)
        have = set(store.columns(rec.dataset)["column_name"])
        frame = store.segments(run_id, [c for c in KPI_INPUTS if c in have])
        shape = store.dataset(rec.dataset).shape
    return kpi_report_with_evidence(frame, by="persona", churn_days=churn_days, min_segment_size=min_segment_size,
                             shape=shape, correction=correction)


def run_fairness(store: Store, run_id: str, attributes: list[str] | None = None, *,
                 threshold: float = FOUR_FIFTHS, min_group: int = 30,
                 min_segment_size: int = MIN_SEGMENT_SIZE, correction: str = "bh") -> FairnessReport:
    """Four-fifths check of a run's personas over sensitive attributes (suggested from names when omitted); a
    ratio below the rule is flagged when it holds up after ``correction`` (see :mod:`segcore.fairness`)."""
    with store.session():
        rec = store.run(run_id)
        columns = store.columns(rec.dataset)["column_name"].tolist()
        attributes = list(attributes) if attributes else suggest_sensitive(columns)
        if attributes:
            frame = store.segments(run_id, attributes)
    if not attributes:
        raise InputError(f"dataset {rec.dataset!r} has no column that looks like a sensitive attribute: "
                         "name the attributes to assess", cli="--attr COLUMN", app="Sensitive attributes")
    return fairness_report(frame[attributes], frame["persona"].fillna(UNASSIGNED), threshold=threshold,
                           min_group=min_group, min_segment_size=min_segment_size, correction=correction)


def export_run(store: Store, run_id: str, out=None, *, columns: list[str] | None = None,
               min_segment_size: int = MIN_SEGMENT_SIZE, rounded: bool = True, descriptions: bool = False,
               headers: str = "raw") -> tuple[pd.DataFrame, ExportReport]:
    """Persona-labelled segments of a run, small segments withheld; written to ``out`` if given.

    The export is k-anonymous (k = ``min_segment_size``) over the user attributes it carries (who a user
    is: country, age band, device, ...; behavioural figures and hashed identifiers are not attributes),
    see :func:`segcore.disclosure.k_anonymise`. ``rounded``: fractions rounded to what they can support
    (:func:`segcore.export.round_values`, money to the store's currency decimals); ``descriptions``: each
    user's persona description beside its name; ``headers``: ``"raw"`` column names, or ``"labels"`` as
    the app names them (:func:`segcore.export.readable_headers`).
    """
    if headers not in HEADERS:
        raise InputError(f"headers={headers!r} should be one of {', '.join(HEADERS)}")
    with store.session():
        segments = store.segments(run_id, columns or [])
        dataset = store.dataset(store.run(run_id).dataset)
        behaviour = {f.name for f in feature_catalog(store, dataset.name) if f.group != "attributes"}
        personas = store.personas(run_id) if descriptions else None
        currency = store.currency()
    kept, withheld = withhold_small(segments, min_segment_size)
    hashed = dataset.hashed_columns
    attributes = [c for c in (columns or []) if c in kept.columns and c not in hashed and c not in behaviour
                  and c not in ("user_id", "cluster", "persona")]
    kept, anonymised = k_anonymise(kept, attributes, int(min_segment_size))
    if personas is not None:
        described = personas.set_index("cluster")["description"].fillna("")
        kept.insert(kept.columns.get_loc("persona") + 1, "description", kept["cluster"].map(described))
    personas_kept = int(kept["persona"].nunique())
    if rounded:
        kept = round_values(kept, currency.decimals)
    if headers == "labels":
        kept = readable_headers(kept, hashed, currency.symbol)
    path = write(kept, out) if out is not None else None
    return kept, ExportReport(path, len(kept), withheld, int(min_segment_size), anonymised, personas_kept)
