"""Which column of an event log plays which role, and how its timestamps are written.

A mapping is proposed from column names first, then from the contents of a
sample for the roles still open; the user confirms or changes it. Timestamps
are recognised in ISO form, date only, epoch seconds or milliseconds, and the
common day/month forms; a form that reads day and month both ways is resolved
by any value above 12 and otherwise read day-first, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

__all__ = ["EVENT_ROLES", "REQUIRED_EVENT_ROLES", "TimestampFormat", "propose_mapping", "timestamp_format"]

EVENT_ROLES = ("user_id", "timestamp", "event_type", "amount", "session_id", "category", "device")
REQUIRED_EVENT_ROLES = ("user_id", "timestamp")
_ROLE_NAMES = {
    "user_id": ("user_id", "userid", "user", "customer_id", "customerid", "client_id", "visitor_id", "uid", "id"),
    "timestamp": ("timestamp", "ts", "time", "event_time", "datetime", "date", "created_at", "occurred_at"),
    "event_type": ("event_type", "event", "type", "action", "event_name"),
    "amount": ("amount", "revenue", "value", "price", "total", "order_value"),
    "session_id": ("session_id", "session", "sessionid", "visit_id"),
    "category": ("category", "content_category", "product_category", "section"),
    "device": ("device", "device_type", "platform"),
}
_DEVICE_WORDS = {"mobile", "desktop", "tablet", "ios", "android", "web", "app", "phone", "pc", "mac", "windows",
                 "smartphone", "tv", "console"}
_EVENT_WORDS = {"view", "page_view", "pageview", "click", "purchase", "add_to_cart", "cart", "login", "signup",
                "search", "checkout", "impression", "order", "visit", "open", "session_start"}

# Day/month forms, day-first then month-first; date-only variants follow the timed ones.
_DMY = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
        "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%d/%m/%y %H:%M", "%d/%m/%y")
_MDY = tuple(f.replace("%d", "%_").replace("%m", "%d").replace("%_", "%m") for f in _DMY)
_OTHER = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%d %b %Y",
          "%b %d, %Y %H:%M:%S", "%b %d, %Y", "%d %B %Y", "%B %d, %Y")
_EPOCH_S = (6.3e8, 4.1e9)  # 1990 .. 2100 in seconds
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass
class TimestampFormat:
    """How a timestamp column will be read.

    ``transform`` is a store column transform (``timestamp``, ``strptime``,
    ``epoch_s``, ``epoch_ms``); ``arg`` the strptime format; ``share`` the
    part of the sample it reads; ``unread`` up to five sample values it cannot read.
    """

    transform: str
    arg: str | None
    share: float
    description: str
    unread: list[str] = field(default_factory=list)
    ambiguous: bool = False


def _parses(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
        return True
    except ValueError:
        return False


def _strptime_share(values: pd.Series, fmt: str) -> float:
    return sum(_parses(v, fmt) for v in values) / len(values) if len(values) else 0.0


def _examples(values: pd.Series, good: np.ndarray) -> list[str]:
    return [str(v) for v in values[~good].unique()[:5]]


def timestamp_format(values: pd.Series, date_format: str | None = None) -> TimestampFormat:
    """Recognise how a sample of a timestamp column is written.

    Parameters
    ----------
    values : Series
        Sampled values as read from the file (text, numbers or datetimes).
    date_format : str, optional
        A strptime format the user gave (``%d/%m/%Y %H:%M``); then only it is tried.
    """
    present = values.dropna()
    if pd.api.types.is_datetime64_any_dtype(values) or (
            len(present) and present.map(lambda v: isinstance(v, (datetime, pd.Timestamp))).all()):
        return TimestampFormat("timestamp", None, 1.0, "date-times")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        num = pd.to_numeric(present, errors="coerce").abs()
        med = float(num.median()) if len(num) else 0.0
        unit, scale = ("epoch_ms", 1000.0) if med > 1e11 else ("epoch_s", 1.0)
        good = ((num / scale >= _EPOCH_S[0]) & (num / scale <= _EPOCH_S[1])).to_numpy()
        desc = "epoch milliseconds" if unit == "epoch_ms" else "epoch seconds"
        return TimestampFormat(unit, None, float(good.mean()) if len(good) else 0.0, desc, _examples(present, good))
    text = present.astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return TimestampFormat("timestamp", None, 0.0, "no values")
    if date_format:
        good = np.array([_parses(v, date_format) for v in text])
        return TimestampFormat("strptime", date_format, float(good.mean()), f"format {date_format}",
                               _examples(text, good))
    iso = text.str.match(_ISO).to_numpy()
    if iso.mean() >= 0.9:
        return TimestampFormat("timestamp", None, float(iso.mean()), "ISO 8601", _examples(text, iso))
    digits = pd.to_numeric(text, errors="coerce")
    if digits.notna().mean() >= 0.9:
        return timestamp_format(digits)
    probe = text.head(500)
    best_fmt, best = None, 0.0
    for fmt in _DMY + _MDY + _OTHER:
        share = _strptime_share(probe, fmt)
        if share > best + 1e-9:
            best_fmt, best = fmt, share
    if best_fmt is None:
        return TimestampFormat("timestamp", None, float(iso.mean()), "unrecognised", _examples(text, iso))
    good = np.array([_parses(v, best_fmt) for v in text])
    ambiguous = False
    if best_fmt in _DMY:  # day-first wins ties; say so when month-first reads the sample as well
        twin = _MDY[_DMY.index(best_fmt)]
        ambiguous = _strptime_share(probe, twin) >= best - 1e-9
    return TimestampFormat("strptime", best_fmt, float(good.mean()), f"format {best_fmt}",
                           _examples(text, good), ambiguous)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype)


def propose_mapping(columns: list[str], sample: pd.DataFrame | None = None) -> dict[str, str]:
    """Guess which column plays which event role: from names, then from a sample's contents.

    Parameters
    ----------
    columns : list of str
    sample : DataFrame, optional
        Rows of the file; when given, roles no name matched are filled from
        what the values look like (dates, ids that repeat, amounts, device names).
    """
    norm = {_norm(c): c for c in columns}
    mapping, used = {}, set()
    for role in EVENT_ROLES:
        for cand in _ROLE_NAMES[role]:
            if cand in norm and norm[cand] not in used:
                mapping[role] = norm[cand]
                used.add(norm[cand])
                break
    if sample is None or sample.empty:
        return mapping
    free = [c for c in columns if c not in used and c in sample.columns]
    n = len(sample)

    def take(role, col):
        mapping[role] = col
        used.add(col)
        free.remove(col)

    if "timestamp" not in mapping:
        scored = [(timestamp_format(sample[c]).share, c) for c in free
                  if not pd.api.types.is_float_dtype(sample[c]) or "time" in _norm(c) or "date" in _norm(c)]
        scored = [(s, c) for s, c in scored if s >= 0.9]
        if scored:
            take("timestamp", max(scored, key=lambda t: t[0])[1])
    def numeric(c):
        return pd.to_numeric(sample[c], errors="coerce")

    def fractional(c):  # mostly numbers, some with decimals: amounts, not ids
        v = numeric(c)
        return v.notna().mean() >= 0.9 * sample[c].notna().mean() and bool((v.dropna() % 1 != 0).any())

    # id-like: text or integers that repeat, with many distinct values; users repeat more than sessions
    ids = []
    for c in free:
        s = sample[c].dropna()
        if len(s) < 0.9 * n or pd.api.types.is_bool_dtype(s) or fractional(c):
            continue
        distinct = s.nunique()
        if max(20, 0.02 * n) <= distinct < len(s):
            ids.append((distinct, c))
    ids.sort()
    for role in ("user_id", "session_id"):
        if role not in mapping and ids:
            _, c = ids.pop(0)
            take(role, c)
    if "amount" not in mapping:
        for c in list(free):
            if fractional(c) and (numeric(c).dropna() >= 0).mean() > 0.95:
                take("amount", c)
                break
    low_card = [c for c in free if _is_text(sample[c]) and 1 < sample[c].nunique() <= 60
                and numeric(c).notna().mean() < 0.5]

    def vocab_share(c, words):
        v = sample[c].dropna().astype(str).map(_norm)
        return float(v.isin(words).mean()) if len(v) else 0.0

    for role, words in (("device", _DEVICE_WORDS), ("event_type", _EVENT_WORDS)):
        if role not in mapping:
            best = max(((vocab_share(c, words), c) for c in low_card if c in free), default=(0.0, None))
            if best[0] >= 0.5:
                take(role, best[1])
    for role in ("event_type", "category"):
        if role not in mapping:
            rest = [c for c in low_card if c in free]
            if rest:
                take(role, rest[0])
    return mapping
