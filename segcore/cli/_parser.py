"""The ``segcore`` command's arguments: one sub-command per verb, each documented in ``--help``."""

from __future__ import annotations

import argparse

from ..disclosure import MIN_SEGMENT_SIZE
from ..errors import InputError

__all__ = ["build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise InputError(f"{message} (see `{self.prog} --help`)")


def _min_size_args(v: argparse.ArgumentParser) -> None:
    v.add_argument("--min-size", type=int, default=MIN_SEGMENT_SIZE,
                   help=f"withhold segments smaller than this from every figure (default {MIN_SEGMENT_SIZE})")
    v.add_argument("--allow-small-segments", action="store_true",
                   help=f"allow a --min-size below {MIN_SEGMENT_SIZE} (the output says which minimum it used)")




def _correction_arg(v: argparse.ArgumentParser, what: str) -> None:
    """--correction: ``what`` the correction does, then the two choices."""
    v.add_argument("--correction", choices=("bh", "holm"), default="bh",
                   help=f"{what}: bh (Benjamini-Hochberg, the default) or holm")


def _store_arg(p: argparse.ArgumentParser, top: bool = False) -> None:
    # Accepted before or after the verb; SUPPRESS keeps a later default from hiding an earlier value.
    p.add_argument("--store", metavar="PATH", default=None if top else argparse.SUPPRESS,
                   help="DuckDB store file (default: $SEGCORE_STORE or ./persona_lab.duckdb)")



def build_parser() -> argparse.ArgumentParser:
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
        from .._methods import METHODS

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

    v = verb("runs", "list runs, newest first, with their names and pins")
    v.add_argument("name", nargs="?", help="only this dataset's runs")

    v = verb("label", "name or pin a run: the app opens the run last named or pinned first")
    v.add_argument("run_id")
    v.add_argument("label", nargs="?", help="the run's name (\"\" clears it)")
    pin = v.add_mutually_exclusive_group()
    pin.add_argument("--pin", dest="pinned", action="store_const", const=True, help="pin the run")
    pin.add_argument("--unpin", dest="pinned", action="store_const", const=False, help="unpin the run")

    v = verb("profile", "what makes each cluster of a run different")
    v.add_argument("run_id")
    _min_size_args(v)

    v = verb("personas", "show or rename a run's personas, or rewrite their cards' narratives")
    v.add_argument("run_id")
    v.add_argument("--set", action="append", default=[], metavar="CLUSTER=NAME",
                   help="rename cluster CLUSTER to NAME; repeat as needed")
    v.add_argument("--narrative", action="append", default=[], metavar="CLUSTER=TEXT",
                   help="the narrative on cluster CLUSTER's persona card, as you write it; repeat as needed")
    v.add_argument("--generated-narrative", action="append", default=[], metavar="CLUSTER",
                   help="go back to the narrative generated from the numbers for cluster CLUSTER")

    v = verb("cards", "one card per persona: its narrative, top traits with their evidence against the other users, "
                      "rule of thumb, KPIs and suggested content or offer angles")
    v.add_argument("run_id")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    _correction_arg(v, "how the tests of the traits (and, apart, the KPIs) are corrected together")
    _min_size_args(v)

    v = verb("compare", "how two runs of one dataset agree: ARI, cross-tab, matched segments")
    v.add_argument("run_a")
    v.add_argument("run_b")
    _min_size_args(v)

    v = verb("kpis", "the KPIs the data supports per persona (CTR, conversion, revenue, orders, churn, ...), each "
                     "with its 95% interval and its difference from the other users, tested and corrected")
    v.add_argument("run_id")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    _correction_arg(v, "how the tests of every persona x KPI are corrected together")
    v.add_argument("--by", choices=("week", "month"),
                   help="each persona's KPIs per week or month of activity instead (a log with times)")
    _min_size_args(v)

    v = verb("experiment", "read out an A/B test per persona: each variant's effect on each KPI against the control, "
                           "overall and within each persona, corrected together, and whether personas respond "
                           "differently")
    v.add_argument("run_id")
    v.add_argument("--variant", required=True, metavar="COLUMN",
                   help="the dataset's column naming each user's variant (a users-table column, or an event "
                        "column kept per user at import with --per-user COLUMN=last)")
    v.add_argument("--control", help="the variant the others are compared with (default: one named control, "
                                     "baseline, holdout or A, else the first in order)")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    _correction_arg(v, "how every variant x KPI x persona test is corrected")
    _min_size_args(v)

    v = verb("fairness", "each persona's composition by sensitive attributes, with four-fifths-rule flags")
    v.add_argument("run_id")
    v.add_argument("--attr", action="append", default=[], metavar="COLUMN",
                   help="a sensitive attribute (age band, gender, country, ...); repeat; default: suggested by name")
    v.add_argument("--threshold", type=float, default=None,
                   help="flag impact ratios below this (default: the four-fifths rule)")
    v.add_argument("--min-group", type=int, default=30, help="do not flag groups smaller than this (default 30)")
    _correction_arg(v, "a ratio below the rule is flagged when its difference holds up after correcting every "
                       "comparison together")
    _min_size_args(v)

    v = verb("report", "write one self-contained HTML report of a run to share: data and quality, method and the "
                       "evidence for k, map, profiles, persona cards, KPIs with intervals and tests, fairness; it "
                       "opens offline in any browser")
    v.add_argument("run_id")
    v.add_argument("--out", required=True, help="the .html file to write")
    _correction_arg(v, "how the tests are corrected together")
    v.add_argument("--no-sweep", action="store_true",
                   help="leave out the sweep of k around the run's k (faster; the method section says so)")
    v.add_argument("--dp-epsilon", type=float, metavar="EPSILON",
                   help="a private release for people outside the team instead: segment sizes and KPIs with "
                        "differential privacy (OpenDP, Laplace noise) for this budget, e.g. 1; other sections left out")
    v.add_argument("--clip", action="append", default=[], metavar="NAME=CAP",
                   help="with --dp-epsilon: each user's contribution is clipped to a cap: money (revenue and order "
                        "value; no default: money KPIs are left out without it), orders (20), ad_impressions (200), "
                        "ad_clicks (200), sessions (100)")
    _min_size_args(v)

    v = verb("export", "write persona-labelled segments to .csv, .parquet or .json")
    v.add_argument("run_id")
    v.add_argument("--out", required=True, help="output file; the extension picks the format")
    v.add_argument("--columns", help="comma-separated columns: features, user attributes or hashed ids (email)")
    v.add_argument("--full-precision", action="store_true",
                   help="keep every decimal (default: money to the currency's decimals, shares to 4, others to 2)")
    v.add_argument("--descriptions", action="store_true", help="add each persona's description")
    v.add_argument("--headers", choices=("raw", "labels"), default="raw",
                   help="column names as stored (raw, the default) or as the app names them (labels)")
    _min_size_args(v)

    v = verb("currency", "show or set how money is written on every page, report and export")
    v.add_argument("symbol", nargs="?", help="the symbol before amounts (€, £, $, CHF; \"\" for none)")
    v.add_argument("--decimals", type=int, help="decimals of amounts, 0 to 4 (default 2)")

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
