"""What an import did, in words: the report, every column's fate, and the warnings counted on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .._mapping import EVENT_KIND_LABELS, EVENT_KINDS
from ..errors import sentence
from ..pii import PiiFinding
from ..store import TablePlan, carried_name

__all__ = ["ImportReport", "NAMED"]

# The kind of a column the user named as personal data, which the detector had not found.
NAMED = "named"
NUMERIC_ROLES = ("amount", "quantity", "unit_price")


@dataclass
class ImportReport:
    """What an import did: counts, how the file was read, PII actions and anything the user should know."""

    name: str
    kind: str
    n_users: int
    n_events: int | None
    pii: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    read_as: list[str] = field(default_factory=list)
    replaced: bool = False
    shape: str | None = None  # events only: 'events' or 'transactions'
    facts: dict = field(default_factory=dict)  # events only: what the store learnt (see Store.import_dataset)
    columns: list[tuple[str, str]] = field(default_factory=list)  # every column of the file, and what became of it
    masked: list[str] = field(default_factory=list)  # values changed as personal data found in every value

    def lines(self, surface: str = "cli") -> list[str]:
        """The summary, a line each; ``surface`` (``cli`` or ``app``) picks how to say what to do next."""
        rows = "transactions" if self.shape == "transactions" else "events"
        who = "customers" if self.shape == "transactions" else "users"
        out = [f"dataset {self.name!r}: {self.n_users:,} {who}"
               + (f" from {self.n_events:,} {rows}" if self.n_events is not None else "")]
        out += [f"read: {r}" for r in self.read_as]
        out += [f"shape: {line}" for line in self.shape_lines()]
        out += [f"column {c!r}: {what}" for c, what in self.columns]
        for p in self.pii:
            verb = {"hash": "hashed (SHA-256)", "drop": "dropped", "mask": "masked value by value",
                    "keep": "kept as it is, as you asked"}[p["action"]]
            kind = "named by you" if p["kind"] == NAMED else p["kind"].replace("_", " ")
            out.append(f"privacy: column {p['column']!r} ({kind}) {verb}")
        out += [f"privacy: {line}" for line in self.masked]
        out += [f"warning: {w}" for w in self.warnings]
        for feature, why in self.facts.get("left_out", {}).items():
            out.append(f"not built: {feature} ({why})")
        if self.replaced and surface == "app":
            out.append("the replaced version is kept until you confirm: keep the new version or restore the "
                       "replaced one on the Data page")
        elif self.replaced:
            out.append(f"the replaced version is kept until you confirm: `segcore discard-previous {self.name}` "
                       f"deletes it, `segcore restore {self.name}` brings it back")
        return [sentence(line) for line in out] if surface == "app" else out


    def shape_lines(self) -> list[str]:
        """What a row of the log was read as, its time resolution and its event vocabulary."""
        if self.shape is None:
            return []
        out = []
        if self.shape == "transactions":
            out.append("a transaction log: every row is a purchase (an order or order line); a row with a "
                       "negative amount or quantity is a return")
        else:
            out.append("an event log: each row is an event of some type")
        if self.facts.get("time_resolution") == "date":
            out.append("times are dates only: no time-of-day or session-length features, and no sessions "
                       "are cut from it")
        vocab = self.facts.get("vocabulary")
        if vocab is not None:
            for kind in EVENT_KINDS:
                if vocab.get(kind):
                    out.append(f"{EVENT_KIND_LABELS[kind]} = {', '.join(map(repr, vocab[kind]))}")
            missing = [EVENT_KIND_LABELS[k] for k in EVENT_KINDS if not vocab.get(k)]
            if missing:
                out.append(f"no event type was read as {', '.join(missing)}")
            other = [t["value"] for t in self.facts.get("event_types", []) if t.get("kind") is None]
            if other:
                out.append(f"other event types count as activity: {', '.join(map(repr, other[:12]))}"
                           + (" ..." if len(other) > 12 else ""))
        return out


def _privacy_fate(f: PiiFinding) -> str:
    """What happens to a column with a privacy action, in words."""
    if f.kind == NAMED or f.action == "keep":
        return {"hash": "SHA-256 hashed, as you asked", "drop": "not stored, as you asked",
                "mask": "stored with the personal data inside each value masked, as you asked",
                "keep": "kept as it is, as you asked: its values are not checked for personal data"}[f.action]
    what = f.kind.replace("_", " ")
    return {"hash": f"SHA-256 hashed ({what})", "drop": f"not stored: it holds personal data ({what})",
            "mask": f"stored with the personal data inside each value masked ({what})"}[f.action]


_NESTED_FATE = "not stored: it holds nested data (structs or lists), whose fields cannot be checked for personal data"


def column_fates(columns: list[str], mapping: dict[str, str], findings: list[PiiFinding],
                  shape: str, carry: dict[str, str], nested: list[str]) -> list[tuple[str, str]]:
    """Every column of an event log with what the import does with it."""
    roles: dict[str, list[str]] = {}
    for role, col in mapping.items():
        roles.setdefault(col, []).append(role)
    pii = {f.column: f for f in findings}
    out = []
    for c in columns:
        if c in roles:
            what = " and ".join(r.replace("_", " ") for r in roles[c])
            if c in pii and "timestamp" not in roles[c]:
                what += ", " + _privacy_fate(pii[c])
            if shape == "transactions" and roles[c] == ["event_type"]:
                what += " (not used: in a transaction log every row is a purchase)"
            out.append((c, f"used as {what}"))
        elif c in pii and pii[c].action != "keep":
            out.append((c, _privacy_fate(pii[c])))
        elif c in carry:
            feature = carried_name(c, carry[c])
            out.append((c, "kept per user as its last value (an attribute)" if carry[c] == "last" else
                        f"kept per user as its {carry[c]}, {feature!r}"))
        elif c in nested:
            out.append((c, _NESTED_FATE))
        else:
            out.append((c, "not used: no role is mapped to it, and it is not kept per user"))
    return out


def user_column_fates(columns: list[str], plan: TablePlan, findings: list[PiiFinding],
                       nested: list[str]) -> list[tuple[str, str]]:
    """Every column of a users table with what the import does with it."""
    pii = {f.column: f for f in findings}
    stored = {c.source: c for c in plan.columns}
    out = []
    for c in columns:
        target = stored.get(c)
        if target is not None and target.target == "user_id":
            out.append((c, "the user id" + (", " + _privacy_fate(pii[c]) if c in pii else "")))
        elif c in pii:
            out.append((c, _privacy_fate(pii[c])))
        elif c in nested:
            out.append((c, _NESTED_FATE))
        elif target is None:
            out.append((c, "not stored: the chosen id column takes the name user_id"))
        else:
            out.append((c, "kept"))
    return out


def _imported(users: TablePlan | None, events: TablePlan | None) -> list[tuple[str, TablePlan]]:
    """The tables an import read, by role (events first, as the report lists them)."""
    return [(role, plan) for role, plan in (("events", events), ("users", users)) if plan is not None]


def masked_lines(counts: dict, users: TablePlan | None, events: TablePlan | None) -> list[str]:
    """What checking every value for personal data changed, per column."""
    out = []
    for role, plan in _imported(users, events):
        columns = {c.target: c for c in plan.columns}
        for target, n in counts.get("masked", {}).get(role, {}).items():
            if not n:
                continue
            c = columns[target]
            where = f"column {c.source!r} of {Path(plan.path).name!r}"
            one = n == 1
            values = "1 value" if one else f"{n:,} values"
            out.append({"mask": f"{values} of {where} held e-mail addresses, card or phone numbers: masked",
                        "id": ("1 id" if one else f"{n:,} ids") + f" in {where} "
                              + ("is an e-mail address" if one else "are e-mail addresses") + ": SHA-256 hashed",
                        }.get(c.transform, f"{values} of {where} " + ("is a payment card number" if one else
                                                                      "are payment card numbers") + ": removed"))
    return out


def count_warnings(counts: dict, users: TablePlan | None, events: TablePlan | None) -> list[str]:
    """What reading the files left missing: values that did not read, rows without or repeating an id."""
    out = []
    for role, plan in _imported(users, events):
        rows = counts["rows"].get(role, 0)
        sources = {c.target: c.source for c in plan.columns}
        for target, n in counts["unread"].get(role, {}).items():
            if n:
                what = "a date or time" if target == "ts" else \
                    "a finite number (text, infinity or NaN)" if target not in NUMERIC_ROLES else \
                    "an amount (text, infinity, NaN, or a trillion or more, which may be a card number)"
                out.append(f"{n:,} of {rows:,} values in column {sources.get(target, target)!r} of "
                           f"{Path(plan.path).name!r} do not read as {what}: they are kept as missing")
    if counts.get("skipped_ids") and users is not None:
        out.append(f"{counts['skipped_ids']:,} rows of {Path(users.path).name!r} have no user id and are left out")
    if counts.get("duplicate_ids") and users is not None:
        out.append(f"{counts['duplicate_ids']:,} rows of {Path(users.path).name!r} repeat a user id: one row "
                   "per id is used")
    return out


def join_warnings(j: dict) -> list[str]:
    """What joining a users table to a log's users left out (``j``: :meth:`Store.join_counts`)."""
    out = []
    if j["users_without_events"]:
        out.append(f"{j['users_without_events']:,} of {j['users']:,} users in the users table have no events and "
                   "are not segmented")
    if j["event_users_without_row"]:
        out.append(f"{j['event_users_without_row']:,} users with events have no row in the users table: "
                   "their attributes are missing")
    return out
