"""The feature catalogue: which columns of a feature table can be clustered, in which group.

The features themselves are engineered in SQL (``segcore/sql/*.sql``, run by the
store). This module describes them: a group (behaviour, value, context,
attributes), a label for charts, and the words a profile uses when a segment is
high or low on the feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._common import is_numeric_type
from .errors import InputError

__all__ = ["Currency", "FeatureInfo", "GROUPS", "catalog", "default_features", "describe_feature", "format_value"]

GROUPS = ("behaviour", "value", "context", "attributes")

# name: (group, label, word when high, word when low)
_KNOWN: dict[str, tuple[str, str, str, str]] = {
    "recency_days": ("behaviour", "Days since last activity", "lapsed", "recently active"),
    "tenure_days": ("behaviour", "Days since first activity", "long-standing", "new"),
    "active_days": ("behaviour", "Active days", "often active", "rarely active"),
    "n_sessions": ("behaviour", "Sessions", "frequent visitors", "infrequent visitors"),
    "n_events": ("behaviour", "Events", "very active", "low activity"),
    "events_per_session": ("behaviour", "Events per session", "deep sessions", "shallow sessions"),
    "avg_session_minutes": ("behaviour", "Session length (min)", "long sessions", "quick visits"),
    "category_diversity": ("behaviour", "Categories visited", "broad interests", "narrow interests"),
    "product_views": ("behaviour", "Product views", "views many products", "views few products"),
    "n_products": ("behaviour", "Distinct products", "broad range of products", "few products"),
    "n_pages": ("behaviour", "Distinct pages", "explores many pages", "sticks to few pages"),
    "add_to_cart": ("value", "Add-to-carts", "many carts", "few carts"),
    "cart_rate": ("value", "Add-to-carts per session", "fills carts", "rarely adds to cart"),
    "n_purchases": ("value", "Orders", "many orders", "few orders"),
    "revenue": ("value", "Revenue", "high spend", "low spend"),
    "avg_order_value": ("value", "Average order value", "big baskets", "small baskets"),
    "conversion_rate": ("value", "Sessions with a purchase", "converts often", "rarely buys"),
    "items": ("value", "Items bought", "buys many items", "buys few items"),
    "items_per_order": ("value", "Items per order", "many items per order", "few items per order"),
    "purchase_interval_days": ("behaviour", "Days between orders", "long gaps between orders",
                               "buys again quickly"),
    "interval_regularity": ("behaviour", "Irregularity of order gaps (CV)", "irregular buyers", "regular buyers"),
    "n_returns": ("value", "Returns", "returns often", "rarely returns"),
    "returned_value": ("value", "Value returned", "returns much", "returns little"),
    "ad_impressions": ("value", "Ad impressions", "sees many ads", "sees few ads"),
    "ad_clicks": ("value", "Ad clicks", "clicks ads", "ignores ads"),
    "ctr": ("value", "Ad click-through rate", "ad-responsive", "ad-blind"),
    "mobile_share": ("context", "Share of activity on mobile", "mostly mobile", "mostly desktop"),
    "night_share": ("context", "Share of activity at night (22-05 h)", "at night", "by day"),
    "weekend_share": ("context", "Share of activity at weekends", "weekend-heavy", "on weekdays"),
}

_MAX_CATEGORIES = 30  # a text column with more distinct values is an identifier, not a category
MAX_DEFAULT_MISSING = 0.5  # a feature missing for more users than this is not chosen by default


# features whose values are proportions (shown as percentages) or sums of money
_SHARES = {"ctr", "conversion_rate", "mobile_share", "night_share", "weekend_share"}
_MONEY = {"revenue", "avg_order_value", "returned_value"}


@dataclass(frozen=True)
class FeatureInfo:
    """One candidate feature of a dataset."""

    name: str
    group: str
    label: str
    kind: str  # "numeric" or "categorical"
    high: str
    low: str
    unit: str = ""  # "share" (a proportion), "money", or "" (a count, days, minutes...)


@dataclass(frozen=True)
class Currency:
    """How money is written: a symbol before the amount (none by default) and its decimals."""

    symbol: str = ""
    decimals: int = 2

    SYMBOL_MAX = 5

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or len(self.symbol.strip()) > self.SYMBOL_MAX \
                or any(ch.isdigit() or ch in "<>&\"'`\\" for ch in self.symbol):
            raise InputError(f"currency symbol {self.symbol!r} should be at most {self.SYMBOL_MAX} characters, "
                             "without digits or quotes (€, £, $, CHF)")
        if isinstance(self.decimals, bool) or not isinstance(self.decimals, int) or not 0 <= self.decimals <= 4:
            raise InputError(f"currency decimals {self.decimals!r} should be a whole number from 0 to 4")
        object.__setattr__(self, "symbol", self.symbol.strip())

    def format(self, value: float) -> str:
        """``value`` as money: "€1,234.50", "-€3.00"."""
        sign = "-" if value < 0 else ""
        return f"{sign}{self.symbol}{abs(value):,.{self.decimals}f}"


def format_value(value: float, unit: str = "", currency: Currency | None = None) -> str:
    """A feature's value as people read it: a share as a percentage with one decimal, money as the
    ``currency`` writes it (two decimals, no symbol, by default), other numbers to three significant
    figures below 100 and whole above, with thousands separators."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "money":
        return (currency or Currency()).format(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def describe_feature(name: str, kind: str = "numeric", group: str | None = None) -> FeatureInfo:
    """Catalogue entry for a column, with generic words for columns the catalogue does not know."""
    if name in _KNOWN:
        g, label, high, low = _KNOWN[name]
        unit = "share" if name in _SHARES else "money" if name in _MONEY else ""
        return FeatureInfo(name, g, label, kind, high, low, unit)
    if name.startswith("type_share_"):
        what = name.removeprefix("type_share_").replace("_", " ")
        return FeatureInfo(name, "behaviour", f"Share of events: {what}", kind, f"often {what}", f"rarely {what}",
                           "share")
    if name.startswith("share_"):
        cat = name.removeprefix("share_").replace("_", " ")
        return FeatureInfo(name, "behaviour", f"Share of activity in {cat}", kind, f"into {cat}", f"little {cat}",
                           "share")
    pretty = name.replace("_", " ")
    return FeatureInfo(name, group or "attributes", pretty.capitalize(), kind, f"high {pretty}", f"low {pretty}")


def catalog(columns: pd.DataFrame, stats: pd.DataFrame | None = None) -> list[FeatureInfo]:
    """Candidate features of a feature table.

    Parameters
    ----------
    columns : DataFrame
        ``column_name`` and ``column_type`` (as from ``Store.columns``).
    stats : DataFrame, optional
        ``column_name`` and ``approx_unique`` (as from ``Store.column_stats``):
        text columns with more than 30 distinct values are left out, as are
        hashed identifiers and dates; with ``null_percentage``, so are columns
        without any value.
    """
    distinct = {} if stats is None else dict(zip(stats["column_name"], stats["approx_unique"]))
    empty = set() if stats is None or "null_percentage" not in stats else \
        set(stats.loc[pd.to_numeric(stats["null_percentage"], errors="coerce") >= 100, "column_name"])
    out = []
    for name, ctype in zip(columns["column_name"], columns["column_type"]):
        ctype = str(ctype).upper()
        if name == "user_id" or name == "churned" or name in empty:
            continue
        if is_numeric_type(ctype):
            out.append(describe_feature(name, "numeric"))
        elif ctype in ("VARCHAR", "BOOLEAN") or ctype.startswith("ENUM"):
            n = distinct.get(name)
            if ctype == "BOOLEAN" or (n is not None and n <= _MAX_CATEGORIES):
                out.append(describe_feature(name, "categorical"))
    return out


def default_features(infos: list[FeatureInfo], suggestions: pd.DataFrame | None = None,
                     missing: dict[str, float] | None = None) -> list[str]:
    """The engineered behaviour, value and context features; attributes only when nothing else exists.

    Parameters
    ----------
    infos : list of FeatureInfo
    suggestions : DataFrame, optional
        :func:`segcore.suggest.feature_suggestions` on the candidates: what it finds near-constant
        is left out, and of two duplicates (Spearman's rho rounding to 1.00) the second.
    missing : dict, optional
        Feature -> missing share (0-1): a feature missing for more than half the users is left out
        (filling in most of a column invents the feature rather than cleaning it).
    """
    from .suggest import DUPLICATE

    dropped = {f for f, share in (missing or {}).items() if share > MAX_DEFAULT_MISSING}
    if suggestions is not None and not suggestions.empty:
        dropped |= set(suggestions.loc[suggestions["issue"] == "near-constant", "feature"])
        dup = suggestions[(suggestions["issue"] == "correlated") & (suggestions["value"].abs() >= DUPLICATE)]
        for feature, partner in zip(dup["feature"], dup["partner"]):
            if partner not in dropped:
                dropped.add(feature)
    usable = [f for f in infos if f.name not in dropped]
    chosen = [f.name for f in usable if f.group != "attributes"]
    return chosen or [f.name for f in usable] or [f.name for f in infos]
