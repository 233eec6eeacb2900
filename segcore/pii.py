"""Find personal data in a table and decide what happens to it before storage.

Detection looks at column names and at a sample of values. By default e-mail
addresses and phone numbers are normalised and SHA-256 hashed, the form that
advertising platforms' customer-match uploads accept (e-mail: trimmed and
lower-cased; phone: digits and a leading '+'), and every other kind of PII is
dropped. Raw values never reach the store: the store applies the plan while it
copies the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

__all__ = ["PiiFinding", "detect_pii", "PII_KINDS", "ACTIONS"]

PII_KINDS = ("email", "phone", "ip_address", "person_name", "street_address", "payment_card")
ACTIONS = ("hash", "drop")  # raw PII is never kept
DEFAULT_ACTION = {"email": "hash", "phone": "hash"}  # everything else: drop

# Deliberately broad: RFC 5322 allows almost any character before the @, and a missed address is a leak.
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
_IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$")
_IPV6 = re.compile(r"^[0-9A-Fa-f:]{2,39}$")
_CARD = re.compile(r"^[\d -]{13,23}$")
_ID_NAME = re.compile(r"(^|[_\W])(id|key|ref|code)$|id$", re.IGNORECASE)

# Share of sampled values that must match before a column counts as PII. E-mail addresses are
# unambiguous, so a column that is only partly filled with them still counts.
_MIN_SHARE = {"email": 0.1}

_NAME_HINTS = {
    "email": ("email", "e_mail", "mail"),
    "phone": ("phone", "mobile", "tel", "msisdn", "cell"),
    "ip_address": ("ip", "ip_address", "ipaddress", "ip_addr"),
    "person_name": ("first_name", "firstname", "last_name", "lastname", "surname", "full_name",
                    "fullname", "name", "customer_name", "given_name", "family_name"),
    "street_address": ("address", "street", "street_address", "addr", "address_line1", "postal_address"),
    "payment_card": ("card", "card_number", "cc_number", "credit_card", "pan"),
}


@dataclass(frozen=True)
class PiiFinding:
    """A column that holds personal data, and what will be done with it."""

    column: str
    kind: str
    evidence: str
    action: str

    def as_dict(self) -> dict:
        return {"column": self.column, "kind": self.kind, "evidence": self.evidence, "action": self.action}


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _share(values: pd.Series, test) -> float:
    return float(values.map(test).mean()) if len(values) else 0.0


def _content_kind(values: pd.Series) -> tuple[str, float] | None:
    if values.empty:
        return None
    v = values.astype(str).str.strip()
    checks = (
        ("email", lambda s: bool(_EMAIL.match(s))),
        ("ip_address", lambda s: bool(_IPV4.match(s)) or (s.count(":") >= 2 and bool(_IPV6.match(s)))),
        ("payment_card", lambda s: bool(_CARD.match(s)) and 13 <= len(re.sub(r"\D", "", s)) <= 19
         and _luhn(re.sub(r"\D", "", s))),
        ("phone", lambda s: bool(_PHONE.match(s)) and 7 <= len(re.sub(r"\D", "", s)) <= 15
         and (s.startswith("+") or bool(re.search(r"[\s().-]", s)))),
    )
    for kind, test in checks:
        share = _share(v, test)
        if share >= _MIN_SHARE.get(kind, 0.6):
            return kind, share
    return None


def _name_kind(column: str) -> str | None:
    norm = re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")
    for kind, hints in _NAME_HINTS.items():
        if norm in hints or any(norm.endswith("_" + h) or norm.startswith(h + "_") for h in hints if len(h) > 3):
            return kind
    return None


def detect_pii(sample: pd.DataFrame, *, protect: tuple[str, ...] = ()) -> list[PiiFinding]:
    """Find PII columns in a sample of a table.

    Parameters
    ----------
    sample : DataFrame
        A few thousand rows of the table, as read from the file.
    protect : tuple of str
        Columns that must survive (the user id): if they hold PII they are
        hashed, never dropped, so that the id still joins.

    Returns
    -------
    list of PiiFinding
        One per PII column, with the default action.
    """
    findings = []
    for col in sample.columns:
        values = sample[col].dropna()
        is_text = values.dtype == object or pd.api.types.is_string_dtype(values.dtype)
        by_content = _content_kind(values) if is_text or col in protect else None
        if by_content and by_content[0] == "phone" and _ID_NAME.search(str(col)):
            by_content = None  # ids like 702409-0 have a phone's shape; a column named as an id is not phones
        by_name = _name_kind(str(col))
        if by_content:
            kind, share = by_content
            evidence = f"{share:.0%} of sampled values look like {kind.replace('_', ' ')}s"
        elif by_name and (is_text or by_name in ("phone", "payment_card")):
            kind, evidence = by_name, f"column name suggests {by_name.replace('_', ' ')}"
        else:
            continue
        action = DEFAULT_ACTION.get(kind, "drop")
        if col in protect:
            action = "hash"
        findings.append(PiiFinding(str(col), kind, evidence, action))
    return findings
