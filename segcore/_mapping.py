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

from ._common import is_text, normalise_name

__all__ = ["EVENT_KINDS", "EVENT_KIND_LABELS", "EVENT_ROLES", "REQUIRED_EVENT_ROLES", "SHAPES", "TimestampFormat",
           "propose_event_vocabulary", "propose_mapping", "propose_shape", "timestamp_format"]

EVENT_ROLES = ("user_id", "timestamp", "event_type", "amount", "quantity", "unit_price", "order_id", "session_id",
               "category", "device", "product", "page", "channel")
REQUIRED_EVENT_ROLES = ("user_id", "timestamp")
# What one row of a log is: an event of some type (a clickstream), or an order or order line (every row a
# purchase; a negative amount or quantity a return).
SHAPES = ("events", "transactions")
_ROLE_NAMES = {
    "user_id": ("user_id", "userid", "user", "customer_id", "customerid", "customer", "client_id", "visitor_id",
                "uid", "id", "kunden_id", "kundennummer", "client", "cliente", "id_cliente"),
    "timestamp": ("timestamp", "ts", "time", "event_time", "datetime", "date", "created_at", "occurred_at",
                  "order_date", "invoice_date", "invoicedate", "purchase_date", "transaction_date", "datum",
                  "fecha", "date_commande"),
    "event_type": ("event_type", "event", "type", "action", "event_name", "eventname", "ereignis"),
    "amount": ("amount", "revenue", "value", "price", "total", "order_value", "dollar_value", "sales", "spend",
               "order_total", "net_amount", "gross_amount", "betrag", "umsatz", "montant", "importe"),
    "quantity": ("quantity", "qty", "items", "n_items", "number_of_items", "units", "number_of_cds", "menge",
                 "anzahl", "cantidad", "quantite", "quantita"),
    "unit_price": ("unit_price", "unitprice", "price_each", "item_price", "einzelpreis", "prix_unitaire",
                   "precio_unitario"),
    "order_id": ("order_id", "orderid", "order_no", "order_number", "invoice", "invoice_no", "invoiceno",
                 "invoice_id", "transaction_id", "receipt_id", "bestellnummer", "rechnungsnummer", "commande"),
    "session_id": ("session_id", "session", "sessionid", "visit_id"),
    "category": ("category", "content_category", "product_category", "section", "department", "kategorie",
                 "warengruppe", "categorie", "categoria"),
    "device": ("device", "device_type", "platform"),
    "product": ("product", "product_id", "item", "item_id", "sku", "stock_code", "stockcode", "article",
                "article_id", "artikel", "artikelnummer", "produit", "producto", "prodotto"),
    "page": ("page", "page_path", "page_url", "url", "path", "screen", "screen_name", "page_title", "seite"),
    "channel": ("channel", "campaign", "utm_source", "utm_medium", "utm_campaign", "traffic_source",
                "acquisition_channel", "marketing_channel", "kanal", "canal"),
}
_USER_STATE = re.compile(r"(^|_)(lifecycle|stage|status|cohort|tier|segment|plan|channel|campaign|source|medium|"
                         r"country|region|language|gender|age)(_|$)")
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
        compact = _compact_dates(num)
        if compact is not None:
            return compact
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


def _compact_dates(num: pd.Series) -> TimestampFormat | None:
    """Dates written as the number YYYYMMDD (19970101), as many order exports do, or None.

    Epoch seconds of 1970 reach such numbers too, but no log worth segmenting starts in 1970.
    """
    if num.empty or not (num % 1 == 0).all() or not num.between(1900_01_01, 2100_12_31).mean() >= 0.9:
        return None
    text = num.astype("int64").astype(str)
    good = np.array([_parses(v, "%Y%m%d") for v in text])
    if good.mean() < 0.9:
        return None
    return TimestampFormat("strptime", "%Y%m%d", float(good.mean()), "dates written as YYYYMMDD",
                           _examples(text, good))




def propose_mapping(columns: list[str], sample: pd.DataFrame | None = None) -> dict[str, str]:
    """Guess which column plays which event role: from names, then from a sample's contents.

    Parameters
    ----------
    columns : list of str
    sample : DataFrame, optional
        Rows of the file; when given, roles no name matched are filled from
        what the values look like (dates, ids that repeat, amounts, device names).
    """
    norm = {normalise_name(c): c for c in columns}
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
                  if not pd.api.types.is_float_dtype(sample[c]) or re.search("time|date", normalise_name(c))]
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
    low_card = [c for c in free if is_text(sample[c]) and 1 < sample[c].nunique() <= 60
                and numeric(c).notna().mean() < 0.5]

    def vocab_share(c, words):
        v = sample[c].dropna().astype(str).map(normalise_name)
        return float(v.isin(words).mean()) if len(v) else 0.0

    for role, words in (("device", _DEVICE_WORDS), ("event_type", _EVENT_WORDS)):
        if role not in mapping:
            best = max(((vocab_share(c, words), c) for c in low_card if c in free), default=(0.0, None))
            if best[0] >= 0.5:
                take(role, best[1])
    user_level = _per_user_constants(sample, mapping.get("user_id"), low_card)
    user_level |= {c for c in low_card if _USER_STATE.search(normalise_name(c))}
    for role in ("event_type", "category"):
        if role not in mapping:
            # a value that never changes within a user (a sign-up channel, a cohort), or is named as the
            # user's state (a lifecycle stage, a plan), describes the user, not the event: as a category
            # it would only repeat the user's own label as a share
            rest = [c for c in low_card if c in free and c not in user_level]
            if rest:
                take(role, rest[0])
    return mapping


def _per_user_constants(sample: pd.DataFrame, user_col: str | None, columns: list[str]) -> set[str]:
    """Columns of ``columns`` that take one value per user in ``sample`` (where users repeat)."""
    if user_col is None or user_col not in sample or not columns:
        return set()
    users = sample[user_col]
    if users.nunique() >= len(users.dropna()):
        return set()
    distinct = sample.groupby(users, observed=True)[list(columns)].nunique()
    return {c for c in columns if (distinct[c] <= 1).all()}


def propose_shape(mapping: dict[str, str]) -> str:
    """``transactions`` when a log has no event type but money, quantities or order ids; else ``events``."""
    if "event_type" not in mapping and any(r in mapping for r in ("amount", "quantity", "unit_price", "order_id")):
        return "transactions"
    return "events"


# The event types features are engineered from; any other value of a log still counts as activity.
EVENT_KINDS = ("purchase", "add_to_cart", "product_view", "ad_impression", "ad_click", "sign_up")
EVENT_KIND_LABELS = {"purchase": "purchase", "add_to_cart": "add to cart", "product_view": "product view",
                     "ad_impression": "ad impression", "ad_click": "ad click", "sign_up": "sign-up"}
# Normalised values that name each kind, in the languages our users export in.
_KIND_NAMES = {
    "purchase": {"purchase", "purchased", "order", "order_completed", "order_complete", "order_placed", "ordered",
                 "checkout_success", "checkout_complete", "checkout_completed", "payment_done", "payment_success",
                 "payment_completed", "transaction", "buy", "bought", "sale", "conversion", "kauf", "gekauft",
                 "bestellung", "bestellt", "achat", "commande", "compra", "pedido", "acquisto", "ordine"},
    "add_to_cart": {"add_to_cart", "addtocart", "add_cart", "cart_add", "added_to_cart", "add_to_basket",
                    "basket_add", "add_to_bag", "in_den_warenkorb", "warenkorb_hinzufuegen", "ajout_panier",
                    "ajouter_au_panier", "anadir_al_carrito", "aggiungi_al_carrello"},
    "product_view": {"product_view", "view_item", "item_view", "product_page", "product_detail", "view_product",
                     "productview", "pdp", "detail_view", "produktansicht", "vue_produit", "ver_producto"},
    "ad_impression": {"ad_impression", "impression", "ad_view", "ad_shown", "ad_served", "adimpression",
                      "anzeige_gesehen", "impression_pub"},
    "ad_click": {"ad_click", "click_ad", "ad_clicked", "adclick", "anzeige_geklickt", "clic_pub"},
    "sign_up": {"sign_up", "signup", "register", "registration", "registered", "account_created",
                "create_account", "anmeldung", "registrierung", "inscription", "registro"},
}


# Event types whose names say they are browsing, not buying: never proposed as the purchase for carrying amounts
# (a page view that records the price on the page is still a page view).
_BROWSING = re.compile(r"(^|_)(page|pageview|view|views|viewed|visit|click|clicked|impression|session|search|"
                       r"scroll|login|logout|open|opened|screen|screenview)(_|$)")


def propose_event_vocabulary(counts: pd.DataFrame) -> dict[str, list[str]]:
    """Which of a log's event types mean purchase, add to cart, product view, ad impression, ad click, sign-up.

    Parameters
    ----------
    counts : DataFrame
        ``value`` (an event type as the log writes it), ``events`` (how many) and, where the log
        has an amount, ``with_amount`` (how many of those events carry one).

    Returns
    -------
    dict
        kind -> the values proposed for it. From names first (in several languages); then, when no
        name says purchase, the rarest value whose events mostly carry an amount, and whose name does not
        say it is browsing (a page view, a click, a search), is the purchase.
    """
    vocab: dict[str, list[str]] = {}
    taken = set()
    for value in counts["value"].dropna().astype(str):
        key = normalise_name(value)
        for kind, names in _KIND_NAMES.items():
            if key in names:
                vocab.setdefault(kind, []).append(value)
                taken.add(value)
                break
    if "purchase" not in vocab and "with_amount" in counts:
        values = counts["value"].astype(str)
        browsing = np.array([bool(_BROWSING.search(normalise_name(v))) for v in values], dtype=bool)
        free = counts[~values.isin(taken).to_numpy() & (counts["events"] > 0).to_numpy() & ~browsing]
        paying = free[free["with_amount"] >= 0.5 * free["events"]]
        if not paying.empty:
            vocab["purchase"] = [str(paying.sort_values(["events", "value"]).iloc[0]["value"])]
    return vocab
