"""Find personal data in a table and decide what happens to it before storage.

Two layers. Whole columns of personal data are found from column names and a
sample of values (:func:`detect_pii`): by default e-mail addresses and phone
numbers are normalised and SHA-256 hashed, the form that advertising
platforms' customer-match uploads accept (e-mail: trimmed and lower-cased;
phone: digits and a leading '+'), and every other kind is dropped. Then every
value of every other stored column is checked while the store copies the
file, not a sample: e-mail addresses, card numbers and phone numbers inside
text are masked (:func:`mask_text`), numbers that are payment card numbers are
removed (:func:`is_card_number`) and e-mail addresses used as ids are hashed.
Raw values never reach the store.

Names and street addresses are found as whole columns only: inside free text
they cannot be told from other words without a language model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ._common import is_text, normalise_name

__all__ = ["PiiFinding", "detect_pii", "is_card_number", "mask_text", "ACTIONS", "MASK_PREFILTER"]
# hash or drop a column; mask the personal data inside each value; keep it as it is (only when asked)
ACTIONS = ("hash", "drop", "mask", "keep")
DEFAULT_ACTION = {"email": "hash", "phone": "hash"}  # everything else: drop

# Deliberately broad: RFC 5322 allows almost any character before the @, and a missed address is a leak.
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
_IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$")
_IPV6 = re.compile(r"^[0-9A-Fa-f:]{2,39}$")
_CARD = re.compile(r"^[\d -]{13,23}$")
_PERSON_NAME = re.compile(r"^[A-Z][a-zà-ÿ'’-]+(?: (?:[A-Z]\.|[A-Z][a-zà-ÿ'’-]+)){1,3}$")
_STREET = re.compile(
    r"^\d+[a-z]?,? +[\w .'-]*\b(street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|"
    r"place|pl|terrace|close|square|sq|rue|via|calle|avenida)\b"
    r"|^(rue|via|calle|avenida|chemin|boulevard|place) +[\w .'-]+"
    r"|^[\w .'-]+(straße|strasse|str\.|weg|gasse|platz|allee|laan|straat|gatan|vej) *\d+", re.IGNORECASE)
_ID_NAME = re.compile(r"(^|[_\W])(id|key|ref|code)$|id$", re.IGNORECASE)

# Personal data inside text. Phone numbers: a '+' and 7-15 digits, or groups of digits apart by spaces,
# dots, dashes or brackets that are not a date; card numbers: 13-19 digits that pass the Luhn check.
_EMAIL_IN = re.compile(r"[^\s@<>()\[\]{}\"',;:/?=&]+(?:@|%40)[^\s@<>()\[\]{}\"',;:/?=&]+\.[A-Za-z]{2,}")
_DIGITS_IN = re.compile(r"(?<![\w+])\+?\(?\d(?:[ ().-]{0,2}\d)+(?![\w])")
_DATE_LIKE = re.compile(r"^\d{1,4}[-./]\d{1,2}[-./]\d{1,4}(?: \d{1,2})?$")
# What a value must contain before it is read closely: an '@', or 7 characters of digits and separators.
# Checked by the store in SQL, so the close reading runs on few values.
MASK_PREFILTER = r"@|%40|\d[\d ().-]{5,}\d"

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


def is_card_number(value) -> bool:
    """Whether ``value`` (text or a number) is 13-19 digits that pass the Luhn check."""
    if value is None:
        return False
    if isinstance(value, float) or (isinstance(value, str) and re.fullmatch(r"\d+\.0*|\d(\.\d+)?e\+?\d+", value.strip(),
                                                                               re.IGNORECASE)):
        try:
            number = float(value)
        except ValueError:
            return False
        if number != number or number in (float("inf"), float("-inf")) or number != int(number):
            return False
        value = int(number)
    digits = re.sub(r"[ -]", "", str(value).strip())
    return digits.isdigit() and 13 <= len(digits) <= 19 and _luhn(digits)


def _mask_digits(match: re.Match) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if 13 <= len(digits) <= 19 and _luhn(digits) and re.fullmatch(r"[\d -]+", text):
        return "[card]"
    if not 7 <= len(digits) <= 15 or _DATE_LIKE.match(text):
        return text
    if text.startswith("+") or len(digits) >= 10 or re.search(r"\d[ ().-]+\d", text):
        return "[phone]"
    return text


def mask_text(value: str | None) -> str | None:
    """``value`` with the e-mail addresses, card numbers and phone numbers inside it masked.

    >>> mask_text("call +44 20 7946 0958 or write to ann@example.org")
    'call [phone] or write to [email]'
    """
    if value is None:
        return None
    out = _EMAIL_IN.sub("[email]", value)
    return _DIGITS_IN.sub(_mask_digits, out)


def _share(values: pd.Series, test) -> float:
    return float(values.map(test).mean()) if len(values) else 0.0


def _content_kind(values: pd.Series) -> tuple[str, float] | None:
    if values.empty:
        return None
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        # card numbers stored as numbers: every other numeric kind is text
        if not (values.abs() >= 1e12).any():
            return None
        share = _share(values, is_card_number)
        return ("payment_card", share) if share >= 0.6 else None
    v = values.astype(str).str.strip()
    checks = (
        ("email", lambda s: bool(_EMAIL.match(s))),
        ("ip_address", lambda s: bool(_IPV4.match(s)) or (s.count(":") >= 2 and bool(_IPV6.match(s)))),
        ("payment_card", lambda s: bool(_CARD.match(s)) and 13 <= len(re.sub(r"\D", "", s)) <= 19
         and _luhn(re.sub(r"\D", "", s))),
        ("phone", lambda s: bool(_PHONE.match(s)) and 7 <= len(re.sub(r"\D", "", s)) <= 15
         and (s.startswith("+") or bool(re.search(r"[\s().-]", s)))),
        ("street_address", lambda s: bool(_STREET.match(s))),
    )
    for kind, test in checks:
        share = _share(v, test)
        if share >= _MIN_SHARE.get(kind, 0.6):
            return kind, share
    # People's names: two to four capitalised words, many different ones (a column of a few cities or
    # brands repeats them).
    share = _share(v, lambda s: bool(_PERSON_NAME.match(s)))
    if share >= 0.6 and v.nunique() >= max(20, 0.05 * len(v)):
        return "person_name", share
    return None


def _name_kind(column: str) -> str | None:
    norm = normalise_name(column)
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
        text = is_text(values)
        if text and values.map(lambda x: isinstance(x, (dict, list, tuple))).any():
            continue  # nested: never stored (see ingest)
        by_content = _content_kind(values) if text or col in protect or pd.api.types.is_numeric_dtype(
            values.dtype) else None
        if by_content and by_content[0] == "phone" and _ID_NAME.search(str(col)):
            by_content = None  # ids like 702409-0 have a phone's shape; a column named as an id is not phones
        by_name = _name_kind(str(col))
        if by_content:
            kind, share = by_content
            evidence = f"{share:.0%} of sampled values look like {kind.replace('_', ' ')}s"
        elif by_name and (text or by_name in ("phone", "payment_card")):
            kind, evidence = by_name, f"column name suggests {by_name.replace('_', ' ')}"
        else:
            continue
        action = DEFAULT_ACTION.get(kind, "drop")
        if col in protect:
            action = "hash"
        findings.append(PiiFinding(str(col), kind, evidence, action))
    return findings
