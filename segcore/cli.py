"""The ``segcore`` command: everything the dashboard does, from a terminal.

Errors print one line on stderr and exit with status 2 (bad input) or 1
(anything unexpected); set ``SEGCORE_DEBUG=1`` to see a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from .disclosure import MIN_SEGMENT_SIZE
from .errors import InputError, SegcoreError



class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise InputError(f"{message} (see `{self.prog} --help`)")


def _notes(caught) -> list[str]:
    """The first line of each distinct warning about the result (a UserWarning such as scikit-learn's
    ConvergenceWarning), without file names."""
    out = []
    for w in caught:
        if issubclass(w.category, UserWarning):
            line = str(w.message).strip().splitlines()[0] if str(w.message).strip() else ""
            if line and line not in out:
                out.append(line)
    return out


def _waiting():
    """Say on stderr, every few seconds, that the store is busy with another process."""
    said = [-1e9]

    def note(message: str) -> None:
        import time

        if time.monotonic() - said[0] >= 5:
            print(message, file=sys.stderr, flush=True)
            said[0] = time.monotonic()
    return note


def _min_size_args(v: argparse.ArgumentParser) -> None:
    v.add_argument("--min-size", type=int, default=MIN_SEGMENT_SIZE,
                   help=f"withhold segments smaller than this from every figure (default {MIN_SEGMENT_SIZE})")
    v.add_argument("--allow-small-segments", action="store_true",
                   help=f"allow a --min-size below {MIN_SEGMENT_SIZE} (the output says which minimum it used)")


def _min_size(args) -> int:
    from .disclosure import check_min_size

    return check_min_size(args.min_size, allow_small=args.allow_small_segments)


def _store_arg(p: argparse.ArgumentParser, top: bool = False) -> None:
    # Accepted before or after the verb; SUPPRESS keeps a later default from hiding an earlier value.
    p.add_argument("--store", metavar="PATH", default=None if top else argparse.SUPPRESS,
                   help="DuckDB store file (default: $SEGCORE_STORE or ./persona_lab.duckdb)")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="segcore", description="Persona Lab: segment users and name them as personas.")
    _store_arg(p, top=True)
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True

    def verb(name, help_, **kw):
        v = sub.add_parser(name, help=help_, description=help_, **kw)
        _store_arg(v)
        return v

    v = verb("import", "load a CSV, Parquet or JSON Lines file as a dataset")
    v.add_argument("file", help="CSV, Parquet or JSON Lines file (for --kind events: the event log)")
    v.add_argument("--name", required=True, help="dataset name")
    v.add_argument("--kind", choices=("users", "events"), default="users",
                   help="one row per user (default) or one row per event")
    v.add_argument("--id", dest="id_column", help="users: the id column (default user_id)")
    v.add_argument("--allow-repeated-ids", action="store_true",
                   help="users: import a file whose ids repeat, keeping one row per id (default: refused, "
                        "since such a file is usually a log: --kind events)")
    v.add_argument("--map", action="append", nargs="+", default=[], metavar="ROLE=COLUMN",
                   help="events: map columns to roles (user_id, timestamp, event_type, amount, quantity, "
                        "unit_price, order_id, session_id, category, device), several after one --map or "
                        "one per --map")
    v.add_argument("--shape", choices=("events", "transactions"),
                   help="events: what a row is: an event of some type, or an order (line) of a transaction "
                        "log, every row a purchase (default: a transaction log when no event type is mapped "
                        "but an amount, quantity or order id is)")
    v.add_argument("--event", action="append", nargs="+", default=[], metavar="KIND=VALUE[,VALUE]",
                   help="events: which of the log's event types mean a kind (purchase, add_to_cart, "
                        "product_view, ad_impression, ad_click, sign_up), e.g. "
                        "--event purchase=order_completed,checkout_success (default: proposed from the log's "
                        "event types and amounts; with --event, values spelt as a kind still count as it)")
    v.add_argument("--per-user", action="append", nargs="+", default=[], metavar="COLUMN=last|sum|mean|none",
                   help="events: keep a column no role takes per user: its last value (an attribute), sum or "
                        "mean; none leaves it out (default: text with few values and numbers with one value "
                        "per user keep the last, other numeric columns their mean)")
    v.add_argument("--pii", action="append", default=[], metavar="COLUMN=hash|drop|mask|keep",
                   help="what happens to a column's personal data, detected or not: hash it (SHA-256), drop the "
                        "column, mask the e-mail addresses, card and phone numbers inside each value (the default "
                        "for text), or keep it as it is (only when you say so: the import summary lists it)")
    v.add_argument("--users", metavar="FILE", help="events: a users table to join to the event features on the "
                   "user id (its id column: --id)")
    v.add_argument("--date-format", help="events: how timestamps are written, e.g. '%%m/%%d/%%Y %%H:%%M' "
                   "(default: detected)")
    v.add_argument("--keep-events", action="store_true", help="events: also keep the event log in the store "
                   "(default: only the per-user features and the quality counts derived from it)")
    v.add_argument("--delimiter", help="CSV: the field separator (default: detected; '\\t' for tab); "
                   "reading options apply to --users too")
    v.add_argument("--quote", help="CSV: the quote character (default \")")
    v.add_argument("--encoding", choices=("utf-8", "utf-16", "latin-1"), help="CSV: text encoding (default: detected)")
    v.add_argument("--no-header", action="store_true", help="CSV: the first line is data (columns become "
                   "column0, column1, ...)")
    v.add_argument("--decimal", choices=(".", ","), help="CSV: decimal separator (default: detected)")
    v.add_argument("--max-mb", type=float, help="refuse files larger than this many MB "
                   "(default $SEGCORE_MAX_IMPORT_MB or 5120)")
    v.add_argument("--replace", action="store_true", help="replace a dataset of the same name; the replaced "
                   "version is kept until `segcore discard-previous NAME`")

    v = verb("restore", "undo the last --replace of a dataset: its replaced version and runs come back")
    v.add_argument("name", help="dataset name")
    v = verb("discard-previous", "confirm the last --replace of a dataset: delete the replaced version")
    v.add_argument("name", help="dataset name")

    verb("datasets", "list the datasets with their row counts")

    v = verb("quality", "problems in a dataset and what to do about them")
    v.add_argument("name", help="dataset name")

    v = verb("features", "a dataset's candidate features by group, and suggestions before clustering")
    v.add_argument("name", help="dataset name")
    v.add_argument("--json", action="store_true", help="print the catalogue as one JSON object")

    def design_args(v):
        from ._methods import METHODS

        v.add_argument("name", help="dataset name")
        v.add_argument("--algo", default="kmeans", help=f"clustering method: {', '.join(METHODS)} (default kmeans)")
        v.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a method parameter, e.g. n_init=8 or min_cluster_size=100; repeat as needed")
        v.add_argument("--features", help="comma-separated features (default: all behaviour, value and context)")
        v.add_argument("--pca", type=int, default=0, help="reduce to N principal components first (default off)")
        v.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    v = verb("sweep", "metrics for a range of k and the recommended k")
    design_args(v)
    v.add_argument("--k", default="2-10", help="range like 2-10 or list like 3,5,8 (default 2-10)")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.add_argument("--no-stability", action="store_true", help="skip the stability refits (faster)")

    v = verb("run", "fit, store and print the run id as the last word")
    design_args(v)
    v.add_argument("--k", type=int, help="number of clusters (required except for hdbscan)")

    v = verb("rfm", "score customers' recency, frequency and monetary value into the classic named RFM "
                    "groups, stored as a run to compare clusterings with; prints the run id last")
    v.add_argument("name", help="dataset name")

    v = verb("runs", "list runs, newest first")
    v.add_argument("name", nargs="?", help="only this dataset's runs")

    v = verb("profile", "what makes each cluster of a run different")
    v.add_argument("run_id")
    _min_size_args(v)

    v = verb("personas", "show or rename a run's personas")
    v.add_argument("run_id")
    v.add_argument("--set", action="append", default=[], metavar="CLUSTER=NAME",
                   help="rename cluster CLUSTER to NAME; repeat as needed")

    v = verb("compare", "how two runs of one dataset agree: ARI, cross-tab, matched segments")
    v.add_argument("run_a")
    v.add_argument("run_b")
    _min_size_args(v)

    v = verb("kpis", "the KPIs the data supports per persona (CTR, conversion, revenue, orders, churn, ...)")
    v.add_argument("run_id")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    _min_size_args(v)

    v = verb("fairness", "each persona's composition by sensitive attributes, with four-fifths-rule flags")
    v.add_argument("run_id")
    v.add_argument("--attr", action="append", default=[], metavar="COLUMN",
                   help="a sensitive attribute (age band, gender, country, ...); repeat; default: suggested by name")
    v.add_argument("--threshold", type=float, default=None,
                   help="flag impact ratios below this (default: the four-fifths rule)")
    v.add_argument("--min-group", type=int, default=30, help="do not flag groups smaller than this (default 30)")
    _min_size_args(v)

    v = verb("export", "write persona-labelled segments to .csv, .parquet or .json")
    v.add_argument("run_id")
    v.add_argument("--out", required=True, help="output file; the extension picks the format")
    v.add_argument("--columns", help="comma-separated columns: features, user attributes or hashed ids (email)")
    _min_size_args(v)

    v = verb("project", "2-D positions of a run's users (PCA, or UMAP fitted on a stratified sample)")
    v.add_argument("run_id")
    v.add_argument("--method", choices=("pca", "umap"), default="pca", help="pca (default) or umap")
    v.add_argument("--all-users", action="store_true", help="umap: also place the users outside the sample "
                   "(minutes at a million users)")
    v.add_argument("--out", help="write the positions to .csv or .parquet (default: print a summary)")
    _min_size_args(v)

    v = verb("app", "start the dashboard")
    v.add_argument("--port", type=int, default=8501)
    v.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only). The app has no login: "
                        "another address lets anyone who reaches it read and change the store")
    return p


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{what} {item!r} should look like KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _flat(groups: list) -> list[str]:
    """Values of an option that takes several after one flag and may be repeated."""
    return [item for group in groups for item in (group if isinstance(group, list) else [group])]


def _params(args) -> dict:
    """--param NAME=VALUE pairs; values are typed and checked by the method itself."""
    return _pairs(args.param, "--param")


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _progress(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=100, desc=desc, file=sys.stderr, leave=False,
               bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix}", disable=not sys.stderr.isatty())

    def update(fraction: float, message: str) -> None:
        bar.n = int(fraction * 100)
        bar.set_postfix_str(message)
        bar.refresh()

    return bar, update


def _table(df) -> str:
    return df.to_string(index=False) if len(df) else "(none)"


def main(argv: list[str] | None = None) -> int:
    import warnings

    try:
        args = _parser().parse_args(argv)
        if os.environ.get("SEGCORE_DEBUG"):
            return _dispatch(args)
        # Libraries' warnings are for developers (SEGCORE_DEBUG shows them): a user gets one plain note for
        # those that concern the result (a method that did not converge), and nothing for the rest.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = _dispatch(args)
        for note in _notes(caught):
            print(f"note: {note}", file=sys.stderr)
        return code
    except SegcoreError as exc:
        print(f"error: {exc.for_cli()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the user must never see a traceback
        if os.environ.get("SEGCORE_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (SEGCORE_DEBUG=1 shows details)", file=sys.stderr)
        return 1


def _dispatch(args) -> int:
    if args.verb == "app":  # before the imports below: they cost a second the server does not need
        return _app(args)
    from . import workflow
    from ._methods import get_method
    from .cluster import parse_k_range
    from .preprocess import Preprocessing
    from .workflow import quality_report
    from .workflow import import_file, open_store

    store = open_store(args.store, on_wait=_waiting())
    if args.verb == "import":
        read_options = {"delimiter": args.delimiter, "quote": args.quote, "encoding": args.encoding,
                        "header": False if args.no_header else None, "decimal": args.decimal}
        if args.max_mb is not None and not (math.isfinite(args.max_mb) and args.max_mb > 0):
            raise InputError(f"--max-mb {args.max_mb:g} should be a positive number of megabytes")
        vocabulary = {kind: _split(values) or [] for kind, values in _pairs(_flat(args.event), "--event").items()}
        bar, update = _progress("import")
        with bar:
            report = import_file(store, args.file, args.name, kind=args.kind, id_column=args.id_column,
                                 mapping=_pairs(_flat(args.map), "--map") or None,
                                 pii_actions=_pairs(args.pii, "--pii"), shape=args.shape,
                                 vocabulary=vocabulary or None,
                                 aggregates=_pairs(_flat(args.per_user), "--per-user") or None,
                                 replace=args.replace, users_path=args.users, read_options=read_options,
                                 allow_repeated_ids=args.allow_repeated_ids,
                                 users_read_options=read_options,
                                 date_format=args.date_format, keep_events=args.keep_events, progress=update,
                                 max_bytes=None if args.max_mb is None else int(args.max_mb * (1 << 20)))
        print("\n".join(report.lines()))
        print("\n".join(f.line() for f in quality_report(store, args.name).findings))
    elif args.verb == "quality":
        print("\n".join(f.line() for f in quality_report(store, args.name).findings) or "no problems found")
    elif args.verb == "datasets":
        print(_table(store.list_datasets()[["name", "kind", "n_users", "n_events", "source", "created_at",
                                            "has_previous"]]))
    elif args.verb == "restore":
        store.restore_previous(args.name)
        print(f"restored the replaced version of {args.name!r}")
    elif args.verb == "discard-previous":
        store.discard_previous(args.name)
        print(f"deleted the replaced version of {args.name!r}; the current one stays")
    elif args.verb == "features":
        infos = workflow.feature_catalog(store, args.name)
        defaults, advice = workflow.default_selection(store, args.name)
        left_out = store.dataset(args.name).left_out
        if args.json:
            print(json.dumps({
                "dataset": args.name,
                "features": [{"name": f.name, "group": f.group, "label": f.label, "kind": f.kind,
                              "default": f.name in defaults} for f in infos],
                "suggestions": [{"feature": r.feature, "issue": r.issue, "detail": r.detail,
                                 "suggestion": r.suggestion,
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
    elif args.verb == "sweep":
        bar, update = _progress("sweep")
        with bar:
            result = workflow.run_sweep(store, args.name, parse_k_range(args.k), algo=args.algo,
                                        features=_split(args.features), seed=args.seed, params=_params(args),
                                        preprocessing=Preprocessing(pca=args.pca), stability=not args.no_stability,
                                        progress=update)
        if args.json:
            print(json.dumps(result.to_dict()))
        else:
            print(_table(result.table.round(4)))
            print(f"silhouette: {result.silhouette_method}; {result.seconds:.1f} s")
            print(f"recommended k: {result.recommended_k}. {result.reason}")
    elif args.verb == "run":
        method = get_method(args.algo)
        if method.needs_k and args.k is None:
            raise InputError(f"{method.label} needs --k, the number of segments")
        bar, update = _progress("run")
        with bar:
            run_id = workflow.create_run(store, args.name, args.k, algo=args.algo, features=_split(args.features),
                                         seed=args.seed, params=_params(args),
                                         preprocessing=Preprocessing(pca=args.pca), progress=update)
        rec = store.run(run_id)
        m = rec.metrics
        print(f"fitted {args.algo} k={rec.k} on {args.name}: silhouette {m['silhouette']:.3f}, "
              f"Calinski-Harabasz {m['calinski_harabasz']:.1f}, Davies-Bouldin {m['davies_bouldin']:.3f}"
              + (f"; {m['unassigned']:,} users unassigned" if m.get("unassigned") else ""))
        print(_table(store.personas(run_id)[["cluster", "name", "description"]]))
        print(f"run id: {run_id}")
    elif args.verb == "rfm":
        run_id = workflow.create_rfm_run(store, args.name)
        print(_table(store.personas(run_id)[["cluster", "name", "description"]]))
        print(f"run id: {run_id}")
    elif args.verb == "runs":
        runs = store.list_runs(args.name)
        print(_table(runs[["run_id", "dataset", "algo", "k", "seed", "created_at"]]))
    elif args.verb == "profile":
        from .disclosure import withheld_sizes
        from .stability import UNSTABLE_BELOW

        prof = workflow.run_profiles(store, args.run_id)
        rules, separation = workflow.run_explanation(store, args.run_id)
        names = store.personas(args.run_id).set_index("cluster")["name"]
        stability = store.run(args.run_id).segment_stability
        small = set(withheld_sizes(prof.sizes["size"], _min_size(args)))
        for c, row in prof.sizes.iterrows():
            if c in small:
                print(f"cluster {c} ({names.get(c, '?')}): {int(row['size']):,} users; withheld: fewer than "
                      f"{_min_size(args)} users, so nothing else about it is shown")
                continue
            tops = ", ".join(f"{f} {z:+.2f} sd" for f, z in prof.top[c])
            stab = stability.get(int(c))
            note = "" if stab is None else f"; stability {stab:.2f}" + (" UNSTABLE" if stab < UNSTABLE_BELOW else "")
            print(f"cluster {c} ({names.get(c, '?')}): {int(row['size']):,} users ({row['share']:.1%}); "
                  f"{prof.descriptions[c]}  [{tops}]{note}")
            for r in rules[rules["cluster"] == c].itertuples():
                print(f"    rule: {r.rule}  (precision {r.precision:.0%}, covers {r.coverage:.0%})")
        if not separation.empty:
            print("separates segments most: " + ", ".join(separation["feature"].head(5)))
    elif args.verb == "personas":
        if args.set:
            changes = {}
            for key, name in _pairs(args.set, "--set").items():
                try:
                    changes[int(key)] = {"name": name}
                except ValueError:
                    raise InputError(f"cluster {key!r} should be a number") from None
            # read and written in one transaction: a rename by another process at the same time is kept
            store.update_personas(args.run_id, changes)
        print(_table(store.personas(args.run_id)))
    elif args.verb == "compare":
        from .workflow import compare_runs

        cmp = compare_runs(store, args.run_a, args.run_b, min_segment_size=_min_size(args))
        print(f"agreement (adjusted Rand index) over {cmp.users:,} users: {cmp.ari:.3f}")
        print(cmp.crosstab.to_string())
        print(_table(cmp.matches[["persona_b", "users_b", "persona_a", "users_a", "jaccard"]].round(3)))
    elif args.verb == "kpis":
        report = workflow.run_kpis(store, args.run_id, min_segment_size=_min_size(args))
        if args.json:
            print(json.dumps({**report.to_dict(), "min_segment_size": _min_size(args)}))
            return 0
        kpis = report.table
        print(kpis.round(4).to_string(index=False, na_rep="n/a"))
        print("\n".join(report.lines()))
        for seg in kpis.loc[kpis["withheld"], "segment"]:
            print(f"withheld: {seg} has fewer than {_min_size(args)} users, so its KPIs are not shown")
    elif args.verb == "fairness":
        from .fairness import FOUR_FIFTHS

        threshold = FOUR_FIFTHS if args.threshold is None else args.threshold
        rep = workflow.run_fairness(store, args.run_id, args.attr or None, threshold=threshold,
                                    min_group=args.min_group, min_segment_size=_min_size(args))
        shown = rep.table[["segment", "attribute", "group", "in_segment", "segment_share", "population_share",
                           "impact_ratio", "flagged"]]
        print(_table(shown.round(3)))
        print("\n".join(("flag: " if not rep.flags.empty and not line.startswith("withheld") else "") + line
                        for line in rep.lines()))
    elif args.verb == "project":
        out = Path(args.out) if args.out else None
        if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
            raise InputError(f"--out {args.out!r} should end in .csv or .parquet")
        coords, info = workflow.run_projection(store, args.run_id, args.method, all_users=args.all_users,
                                               min_segment_size=_min_size(args))
        placed = f"{len(coords):,} of {info.get('users', len(coords)):,} users placed"
        print(f"{args.method}: {placed}" + (f", fitted on {info['fitted_on']:,}" if "fitted_on" in info else ""))
        if info.get("withheld_users"):
            print(f"withheld: {info['withheld_users']:,} users of segments smaller than {_min_size(args)} are not placed")
        if out is not None:
            from .export import write

            write(coords, out)  # as exports are written: formula cells neutralised, no partial file left
            print(f"wrote {out}")
    elif args.verb == "export":
        _, report = workflow.export_run(store, args.run_id, args.out, columns=_split(args.columns),
                                        min_segment_size=_min_size(args))
        print("\n".join(report.lines()))
    return 0


def _app(args) -> int:
    from .store import default_store_path

    path = Path(args.store) if args.store else default_store_path()
    if not path.exists():  # create and seed before the server starts: the first paint is then quick
        from .workflow import open_store

        path = open_store(path).path
    import importlib.util

    # found through the package, in a source tree and in an installed wheel alike
    app = Path(importlib.util.find_spec("dashboard").origin).resolve().parent / "app.py"
    env = {**os.environ, "SEGCORE_STORE": str(path.resolve())}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.address", args.host, "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}: the app has no login, so anyone who can reach this address "
              "can read every dataset and run in the store and change them", file=sys.stderr, flush=True)
    shown = "localhost" if args.host in ("127.0.0.1", "::1") else args.host
    print(f"Persona Lab on http://{shown}:{args.port} (store: {path})", file=sys.stderr, flush=True)
    # Become the server (no wrapper process): Ctrl-C and signals reach Streamlit directly.
    os.chdir(app.parent)  # Streamlit reads the app's settings from .streamlit/config.toml here
    os.execve(sys.executable, cmd, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
