"""What each verb of the ``segcore`` command does: one function per verb, in the table :data:`VERBS`.

A verb reads its arguments, calls :mod:`segcore.workflow` and prints; what it prints about a report
comes from one renderer per report (``_quality``, ``_summaries``), shared by the verbs that show it.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

from ..errors import InputError
from ._common import min_size, pairs, progress, table
from ._readouts import READOUTS

__all__ = ["VERBS", "dispatch"]


def _flat(groups: list) -> list[str]:
    """Values of an option that takes several after one flag and may be repeated."""
    return [item for group in groups for item in (group if isinstance(group, list) else [group])]


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _waiting():
    """Say on stderr, every few seconds, that the store is busy with another process."""
    said = [-1e9]

    def note(message: str) -> None:
        import time

        if time.monotonic() - said[0] >= 5:
            print(message, file=sys.stderr, flush=True)
            said[0] = time.monotonic()
    return note


def _design(args) -> dict:
    """The design arguments shared by ``sweep`` and ``run``."""
    from ..preprocess import Preprocessing

    return dict(algo=args.algo, features=_split(args.features), seed=args.seed, params=pairs(args.param, "--param"),
                preprocessing=Preprocessing(pca=args.pca))


# -- renderers: one per report, shared by the verbs that show it --------------------------------------------
def _quality(store, name: str) -> str:
    from ..workflow import quality_report

    return "\n".join(f.line() for f in quality_report(store, name).findings)


def _summaries(store, run_id: str, min_size: int) -> list[str]:
    from ..workflow import run_summaries

    summaries, separation = run_summaries(store, run_id, min_segment_size=min_size)
    money = store.currency()
    out = []
    for s in summaries:
        if s.withheld:
            out.append(f"cluster {s.cluster} ({s.name}): {s.size:,} users; withheld: fewer than {min_size} users, "
                       "so nothing else about it is shown")
            continue
        note = "" if s.stability is None else f"; stability {s.stability:.2f}" + (" UNSTABLE" if s.unstable else "")
        out.append(f"cluster {s.cluster} ({s.name}): {s.size:,} users ({s.share:.1%}); {s.description}{note}")
        out += [f"    {trait.text(currency=money)}" for trait in s.traits]
        out += [f"    rule: {rule}  (precision {precision:.0%}, covers {coverage:.0%})"
                for rule, precision, coverage in s.rules]
    if not separation.empty:
        out.append("separates segments most: " + ", ".join(separation["feature"].head(5)))
    return out


# -- the verbs -----------------------------------------------------------------------------------------------
def import_(store, args) -> int:
    from ..workflow import import_file

    read_options = {"delimiter": args.delimiter, "quote": args.quote, "encoding": args.encoding,
                    "header": False if args.no_header else None, "decimal": args.decimal}
    if args.max_mb is not None and not (math.isfinite(args.max_mb) and args.max_mb > 0):
        raise InputError(f"--max-mb {args.max_mb:g} should be a positive number of megabytes")
    vocabulary = {kind: _split(values) or [] for kind, values in pairs(_flat(args.event), "--event").items()}
    bar, update = progress("import")
    with bar:
        report = import_file(store, args.file, args.name, kind=args.kind, id_column=args.id_column,
                             mapping=pairs(_flat(args.map), "--map") or None,
                             pii_actions=pairs(args.pii, "--pii"), shape=args.shape,
                             vocabulary=vocabulary or None,
                             aggregates=pairs(_flat(args.per_user), "--per-user") or None,
                             replace=args.replace, users_path=args.users, read_options=read_options,
                             allow_repeated_ids=args.allow_repeated_ids,
                             users_read_options=read_options,
                             date_format=args.date_format, keep_events=args.keep_events, progress=update,
                             max_bytes=None if args.max_mb is None else int(args.max_mb * (1 << 20)))
    print("\n".join(report.lines()))
    print(_quality(store, args.name))
    return 0


def quality(store, args) -> int:
    print(_quality(store, args.name) or "no problems found")
    return 0


def datasets(store, args) -> int:
    print(table(store.list_datasets()[["name", "kind", "n_users", "n_events", "source", "created_at",
                                        "has_previous"]]))
    return 0


def restore(store, args) -> int:
    store.restore_previous(args.name)
    print(f"restored the replaced version of {args.name!r}")
    return 0


def discard_previous(store, args) -> int:
    store.discard_previous(args.name)
    print(f"deleted the replaced version of {args.name!r}; the current one stays")
    return 0


def features(store, args) -> int:
    from ..workflow import default_selection, feature_catalog

    infos = feature_catalog(store, args.name)
    defaults, advice = default_selection(store, args.name)
    left_out = store.dataset(args.name).left_out
    if args.json:
        print(json.dumps({
            "dataset": args.name,
            "features": [{"name": f.name, "group": f.group, "label": f.label, "kind": f.kind,
                          "default": f.name in defaults} for f in infos],
            "suggestions": [{"feature": r.feature, "issue": r.issue, "detail": r.detail, "suggestion": r.suggestion,
                             "features": [r.feature] + ([r.partner] if isinstance(r.partner, str) else [])}
                            for r in advice.itertuples()],
            "not_built": [{"feature": f, "why": why} for f, why in left_out.items()]}))
        return 0
    for f in infos:
        print(f"{f.group:<11} {f.name:<26} {f.kind:<12} {'default' if f.name in defaults else ''}")
    for r in advice.itertuples():
        print(f"suggestion: {r.feature} is {r.issue} ({r.detail}): {r.suggestion}")
    for f, why in left_out.items():
        print(f"not built: {f} ({why})")
    return 0


def sweep(store, args) -> int:
    from ..cluster import parse_k_range
    from ..workflow import run_sweep

    bar, update = progress("sweep")
    with bar:
        result = run_sweep(store, args.name, parse_k_range(args.k), stability=not args.no_stability,
                           progress=update, **_design(args))
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(table(result.table.round(4)))
        print(f"silhouette: {result.silhouette_method}; {result.seconds:.1f} s")
        if result.stability_method:
            print(f"stability: {result.stability_method}")
        print(f"recommended k: {result.recommended_k}. {result.reason}")
    return 0


def run(store, args) -> int:
    from .._methods import get_method
    from ..workflow import create_run

    method = get_method(args.algo)
    if method.needs_k and args.k is None:
        raise InputError(f"{method.label} needs --k, the number of segments")
    bar, update = progress("run")
    with bar:
        run_id = create_run(store, args.name, args.k, progress=update, **_design(args))
    rec = store.run(run_id)
    m = rec.metrics
    print(f"fitted {args.algo} k={rec.k} on {args.name}: silhouette {m['silhouette']:.3f}, "
          f"Calinski-Harabasz {m['calinski_harabasz']:.1f}, Davies-Bouldin {m['davies_bouldin']:.3f}"
          + (f"; {m['unassigned']:,} users unassigned" if m.get("unassigned") else ""))
    print(table(store.personas(run_id)[["cluster", "name", "description"]]))
    print(f"run id: {run_id}")
    return 0


def rfm(store, args) -> int:
    from ..workflow import create_rfm_run

    run_id = create_rfm_run(store, args.name)
    print(table(store.personas(run_id)[["cluster", "name", "description"]]))
    print(f"run id: {run_id}")
    return 0


def runs(store, args) -> int:
    listed = store.list_runs(args.name)
    listed["label"] = listed["label"].fillna("")
    print(table(listed[["run_id", "dataset", "algo", "k", "seed", "created_at", "label", "pinned"]]))
    return 0


def label(store, args) -> int:
    if args.label is None and args.pinned is None:
        raise InputError("give the run a name, or --pin or --unpin it")
    store.mark_run(args.run_id, label=args.label, pinned=args.pinned)
    rec = store.run(args.run_id)
    print(f"run {rec.run_id}: " + (f"named {rec.label!r}" if rec.label else "no name")
          + (", pinned" if rec.pinned else "")
          + f"; the app opens {store.preferred_run(rec.dataset)} first for {rec.dataset!r}")
    return 0


def profile(store, args) -> int:
    print("\n".join(_summaries(store, args.run_id, min_size(args))))
    return 0


def _cluster(key: str) -> int:
    try:
        return int(key)
    except ValueError:
        raise InputError(f"cluster {key!r} should be a number") from None


def personas(store, args) -> int:
    changes: dict[int, dict] = {}
    for key, name in pairs(args.set, "--set").items():
        changes.setdefault(_cluster(key), {})["name"] = name
    for key, text in pairs(args.narrative, "--narrative").items():
        changes.setdefault(_cluster(key), {})["narrative"] = text
    for key in args.generated_narrative:
        changes.setdefault(_cluster(key), {})["narrative"] = None
    if changes:
        # read and written in one transaction: a rename by another process at the same time is kept
        store.update_personas(args.run_id, changes)
    saved = store.personas(args.run_id)
    saved["narrative"] = saved["narrative"].map(lambda v: "edited" if isinstance(v, str) else "generated")
    print(table(saved))
    return 0


def project(store, args) -> int:
    from ..workflow import run_projection

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"--out {args.out!r} should end in .csv or .parquet")
    coords, info = run_projection(store, args.run_id, args.method, all_users=args.all_users,
                                  min_segment_size=min_size(args))
    placed = f"{len(coords):,} of {info.get('users', len(coords)):,} users placed"
    print(f"{args.method}: {placed}" + (f", fitted on {info['fitted_on']:,}" if "fitted_on" in info else ""))
    if info.get("withheld_users"):
        print(f"withheld: {info['withheld_users']:,} users of segments smaller than {min_size(args)} are not placed")
    if out is not None:
        from ..export import write

        write(coords, out)  # as exports are written: formula cells neutralised, no partial file left
        print(f"wrote {out}")
    return 0


def export(store, args) -> int:
    from ..workflow import export_run

    _, report = export_run(store, args.run_id, args.out, columns=_split(args.columns), min_segment_size=min_size(args),
                           rounded=not args.full_precision, descriptions=args.descriptions, headers=args.headers)
    print("\n".join(report.lines()))
    return 0


def currency(store, args) -> int:
    from ..features import Currency

    if args.symbol is not None or args.decimals is not None:
        now = store.currency()
        store.set_currency(Currency(now.symbol if args.symbol is None else args.symbol,
                                    now.decimals if args.decimals is None else args.decimals))
    chosen = store.currency()
    print(f"money is written as {chosen.format(1234.5)} (symbol {chosen.symbol or 'none'}, "
          f"{chosen.decimals} decimal{'' if chosen.decimals == 1 else 's'})")
    return 0


def app(args) -> int:
    """Start the dashboard: this process becomes the Streamlit server (it needs no store of its own)."""
    from ..store import default_store_path

    path = Path(args.store) if args.store else default_store_path()
    if not path.exists():  # create and seed before the server starts: the first paint is then quick
        from ..workflow import open_store

        path = open_store(path).path
    import importlib.util

    # found through the package, in a source tree and in an installed wheel alike
    spec = importlib.util.find_spec("dashboard")
    if spec is None or spec.origin is None:
        raise InputError("the dashboard is not installed beside segcore: reinstall persona-lab")
    app_file = Path(spec.origin).resolve().parent / "app.py"
    env = {**os.environ, "SEGCORE_STORE": str(path.resolve())}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.port", str(args.port),
           "--server.address", args.host, "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}: the app has no login, so anyone who can reach this address "
              "can read every dataset and run in the store and change them", file=sys.stderr, flush=True)
    shown = "localhost" if args.host in ("127.0.0.1", "::1") else args.host
    print(f"Persona Lab on http://{shown}:{args.port} (store: {path})", file=sys.stderr, flush=True)
    # Become the server (no wrapper process): Ctrl-C and signals reach Streamlit directly.
    os.chdir(app_file.parent)  # Streamlit reads the app's settings from .streamlit/config.toml here
    os.execve(sys.executable, cmd, env)
    return 0  # not reached


# verb -> what it does, given the opened store and the parsed arguments
VERBS = {**READOUTS, "import": import_, "quality": quality, "datasets": datasets, "restore": restore,
         "discard-previous": discard_previous, "features": features, "sweep": sweep, "run": run, "rfm": rfm,
         "runs": runs, "label": label, "profile": profile, "personas": personas, "project": project,
         "export": export, "currency": currency}


def dispatch(args) -> int:
    if args.verb == "app":  # before opening the store and importing the core: the server does not need them
        return app(args)
    from ..workflow import open_store

    store = open_store(args.store, on_wait=_waiting())
    return VERBS[args.verb](store, args)
