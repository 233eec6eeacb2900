"""Feature engineering in SQL: the per-user features of an event or transaction log.

The SQL files in ``sql/`` define the features per shape of log; this module reads which roles
and event kinds a log fills, fills the files' markers with the parts that depend on it (checked by
:func:`~segcore.store._sql.fill`), and says which features the log cannot support and why.
"""

from __future__ import annotations

import pandas as pd

from .._common import normalise_name
from .._mapping import EVENT_KINDS, propose_event_vocabulary
from ..pii import mask_text
from ._sql import execute, exists, fill, one_row_per_user, quote_ident, sql_resource, table_name

__all__ = ["build_features", "carried_name", "AGGREGATES", "CARRY_PREFIX"]

# Active days are counted in the per-user pass, one bit per day of the log in 64-day words, when the
# log spans fewer days than this; in a pass of their own otherwise. At 20M events each word added
# about 0.12 s to the per-user pass, and the days pass took 1.1 s: words pay up to about 8 of them.
MAX_BITMAP_DAYS = 7 * 64

# Columns of an event log that no role takes can be kept per user; in the temporary `events` relation they
# are named with this prefix, so that no file column can collide with a role's column.
CARRY_PREFIX = "carry:"
AGGREGATES = ("last", "sum", "mean")
_AGGREGATE_SQL = {"last": "arg_max({c}, ts)", "sum": "sum({c})", "mean": "avg({c})"}


def carried_name(column: str, aggregate: str) -> str:
    """The feature a column kept per user becomes: its own name for ``last``, else ``<column>_<aggregate>``."""
    return column if aggregate == "last" else f"{column}_{aggregate}"


# Roles read as per-user figures beside the feature SQL, only where a log has them:
# (role, column, aggregate over a user's events). A transaction log counts the products of its purchases.
_REACH = (("product", "n_products", "count(DISTINCT product) FILTER (event_type <> 'return')"),
          ("page", "n_pages", "count(DISTINCT page)"),
          ("channel", "channel", "pl_mask(arg_min(channel, ts))"))

# The event roles a log may leave empty, whose presence decides which features are built.
_OPTIONAL_ROLES = ("amount", "quantity", "unit_price", "device") + tuple(role for role, _, _ in _REACH)

# How many of a log's own event types (none of our kinds) become a share-of-events feature each.
MAX_TYPE_SHARES = 8

# How many of a log's event types an import lists in its facts.
_MAX_LISTED_TYPES = 50


def _event_types(con, vocabulary: dict[str, list[str]] | None):
    """Read the event types of the temporary relation ``events`` and translate them to our kinds.

    One pass gives the distinct types (clean already, or to be trimmed and lower-cased?) and how often
    each carries an amount. The vocabulary (proposed when None) is loaded into the temporary table
    ``event_vocab`` where it differs from our names. Returns the event type's SQL for clean_events.sql,
    its join, per kind the events and those with an amount, the log's own frequent types that are none
    of our kinds (value, column name), and the facts to keep: the vocabulary and the types seen.
    """
    raw = con.execute("SELECT event_type, count(*), count(amount) FROM events "
                      "WHERE event_type IS NOT NULL GROUP BY ALL").fetchall()
    counts = pd.DataFrame(raw, columns=["raw", "events", "with_amount"])
    counts["value"] = counts["raw"].astype(str).str.strip().str.lower()
    canonical = bool((counts["raw"] == counts["value"]).all())
    counts = counts.groupby("value", as_index=False)[["events", "with_amount"]].sum()
    event_type = "event_type" if canonical else "lower(trim(event_type))"
    vocab = vocabulary if vocabulary is not None else propose_event_vocabulary(counts)
    pairs = [(str(v).strip().lower(), kind) for kind, values in vocab.items() for v in values]
    kinds = dict(pairs)
    join = ""
    translate = [(v, k) for v, k in pairs if v != k]
    if translate:
        con.execute("CREATE OR REPLACE TEMP TABLE event_vocab (raw VARCHAR, kind VARCHAR)")
        con.executemany("INSERT INTO event_vocab VALUES (?, ?)", translate)
        join = f"LEFT JOIN event_vocab v ON v.raw = {event_type}"
        event_type = f"coalesce(v.kind, {event_type})"
    # "" for a type that is no kind of ours (None would not survive the group-by below)
    counts["kind"] = [kinds.get(v, v if v in EVENT_KINDS else "") for v in counts["value"]]
    counts = counts.sort_values(["events", "value"], ascending=[False, True])
    facts = {"vocabulary": {k: sorted(str(mask_text(v)) for v, kk in kinds.items() if kk == k)
                            for k in dict.fromkeys(kinds.values())},
             "event_types": [{"value": mask_text(v), "events": int(n), "kind": k or None} for v, n, k in
                             counts[["value", "events", "kind"]].head(_MAX_LISTED_TYPES).itertuples(index=False)],
             "event_types_total": int(len(counts))}
    other = [v for v, k in zip(counts["value"], counts["kind"]) if not k]
    names = [normalise_name(mask_text(v)) for v in other]  # an event type as part of a column name
    own = [(v, n) for i, (v, n) in enumerate(zip(other, names)) if n and n not in names[:i]][:MAX_TYPE_SHARES]
    per_kind = counts.groupby("kind")[["events", "with_amount"]].sum().to_dict("index")
    return event_type, join, per_kind, own, facts


def _ids_checked(sql: str) -> str:
    """``sql`` (per-user rows) as a subquery whose ids that are e-mail addresses are hashed (``pl_id``): the ids of
    a log that is not kept are read as written, and checked once per user rather than once per event."""
    return f"(SELECT * REPLACE (pl_id(user_id) AS user_id) FROM ({sql}))"


def build_features(con, name: str, *, shape: str, vocabulary: dict[str, list[str]] | None,
                    carry: dict[str, str], t_ref, first,
                    unsessioned: int, with_users: bool, pseudonyms: list[str], top: int,
                    unique_users: bool = False, progress=None, span: tuple[float, float] = (0.0, 1.0)) -> dict:
    """Engineer the per-user features of the log in the temporary relation ``events``.

    Returns what the import learnt about the log: its shape, whether its times carry a time of
    day, its event types with the kind each was read as, and the features left out with why.
    """
    # The SQL files read a relation called `events`: the caller points it at this dataset's events,
    # and knows from its scan of them the last event's time and how many events lack a session.
    facts: dict = {"shape": shape}
    clean = sql_resource("clean_events.sql")
    device_canonical = con.execute("SELECT coalesce(bool_and(v = lower(trim(v))), true) "
                                   "FROM (SELECT DISTINCT device AS v FROM events)").fetchall()[0][0]
    device = "device" if device_canonical else "lower(trim(device))"
    # which optional roles the log fills at all, asked once (each answered at the first row that has one)
    has = {role: exists(con, "events", f"{role} IS NOT NULL") for role in _OPTIONAL_ROLES}
    amount = "amount"
    if has["unit_price"]:
        amount = "coalesce(amount, quantity * unit_price)"  # an order line's value where it has no amount
    if shape == "transactions":
        event_type = f"CASE WHEN {amount} < 0 OR quantity < 0 THEN 'return' ELSE 'purchase' END"
        amount = f"CASE WHEN quantity < 0 THEN -abs({amount}) ELSE {amount} END"
        vocab_join, kinds, own_types = "", {}, []
    else:
        event_type, vocab_join, kinds, own_types, found = _event_types(con, vocabulary)
        facts |= found
    clean = fill(clean, device=device, event_type=event_type, amount=amount, vocab_join=vocab_join)
    con.execute(f"CREATE OR REPLACE TEMP VIEW clean_events AS {clean}")
    # A log whose every time is midnight holds dates only: nothing can be said about time of day or
    # session length, and sessions are not cut from it.
    timed = exists(con, "events", "ts IS NOT NULL AND ts <> date_trunc('day', ts)")
    facts["time_resolution"] = "time" if timed else "date"
    lo, hi = span
    if shape == "events" and unsessioned and timed:
        execute(con, f"CREATE OR REPLACE TEMP TABLE ev AS {sql_resource('sessionise.sql')}", None,
                 progress, lo, lo + (hi - lo) * 0.4, "cutting sessions at 30 minutes of inactivity")
        lo += (hi - lo) * 0.4
        ev_kind = "TABLE"
    elif shape == "events" and unsessioned:
        # dates only: a user's day stands in for the missing sessions, whose features are left out below
        con.execute("CREATE OR REPLACE TEMP VIEW ev AS SELECT * EXCLUDE (session_id), "
                    "coalesce(CAST(session_id AS VARCHAR), user_id || '#' || CAST(ts::DATE AS VARCHAR)) "
                    "AS session_id FROM clean_events")
        ev_kind = "VIEW"
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW ev AS SELECT * FROM clean_events")
        ev_kind = "VIEW"
    execute(con, f"CREATE OR REPLACE TEMP TABLE cat_map AS {sql_resource('category_map.sql')}",
             {"top": int(top)}, progress, lo, lo + (hi - lo) * 0.15, "counting categories")
    names = dict(con.execute("SELECT DISTINCT idx, name FROM cat_map WHERE idx < ?", [int(top)]).fetchall())
    if con.execute("SELECT count(*) FROM cat_map WHERE idx = ?", [int(top)]).fetchall()[0][0]:
        names[int(top)] = "other"
    sql = sql_resource("transaction_features.sql" if shape == "transactions" else "user_features.sql")
    counts_sql = "".join(f", count(*) FILTER (idx = {i}) AS cat_{i}" for i in names)
    # A user with categorised events but none in category c has share 0, not missing.
    shares = "".join(f", CASE WHEN u.categorised > 0 THEN u.cat_{i} / u.categorised END "
                     f"AS {quote_ident('share_' + names[i])}" for i in sorted(names, key=lambda i: names[i]))
    diversity = " + ".join([f"(u.cat_{i} > 0)::BIGINT" for i in names if i < top] or ["0::BIGINT"])
    tail = ""
    if top in names:
        diversity += " + coalesce(t.n_tail, 0)"
        tail = ("LEFT JOIN (SELECT user_id, count(DISTINCT name) AS n_tail FROM ev JOIN cat_map "
                f"USING (category) WHERE idx = {int(top)} GROUP BY user_id) t USING (user_id)")
    params = {"t_ref": t_ref}
    if t_ref is not None and first is not None and (t_ref.date() - first.date()).days < MAX_BITMAP_DAYS:
        words = range((t_ref.date() - first.date()).days // 64 + 1)
        bits = "".join(f", bit_or(1::UBIGINT << ((ts::DATE - $first_day) % 64)) "
                       f"FILTER ((ts::DATE - $first_day) // 64 = {w}) AS day_word_{w}" for w in words)
        active = " + ".join(f"coalesce(bit_count(u.day_word_{w}), 0)::BIGINT" for w in words)
        days_join = ""
        if shape == "events":
            params["first_day"] = first.date()
    else:
        bits, active, days_join = "", "d.active_days", "JOIN days d USING (user_id)"
    params.update({f"type_{j}": v for j, (v, _) in enumerate(own_types)})
    type_counts = "".join(f", count(*) FILTER (event_type = $type_{j}) AS type_{j}" for j in range(len(own_types)))
    type_columns = "".join(f", u.type_{j} / u.n_events AS {quote_ident('type_share_' + n)}"
                           for j, (_, n) in enumerate(own_types))
    parts = dict(category_counts=counts_sql, category_columns=shares, category_diversity=diversity, tail_join=tail)
    if shape == "events":  # a transaction log has neither event types of its own nor active-day words
        parts |= dict(type_counts=type_counts, type_columns=type_columns, day_bits=bits, active_days=active,
                      days_join=days_join)
    sql = fill(sql, **parts)
    left_out = _unsupported(con, shape=shape, kinds=kinds, has=has, timed=timed,
                            sessions_given=not unsessioned, categories=bool(names))
    feat_cols = {r[0] for r in con.execute(f"DESCRIBE {sql}", params).fetchall()}
    left_out = {f: why for f, why in left_out.items() if f in feat_cols}
    facts["left_out"] = left_out
    attrs = join = ""
    taken = set(feat_cols) - set(left_out)
    # products and pages: how many distinct ones a user bought or saw; a channel: the one they came by first
    reach = {out: expr for role, out, expr in _REACH if has[role] and out not in taken}
    if reach:
        attrs += "".join(f", r.{quote_ident(o)}" for o in reach)
        per_user = ", ".join(f"{e} AS {quote_ident(o)}" for o, e in reach.items())
        join += f"LEFT JOIN {_ids_checked(f'SELECT user_id, {per_user} FROM ev GROUP BY user_id')} r USING (user_id) "
        taken |= set(reach)
    if carry:
        # per user: the latest value of an attribute, or the sum or mean of a number, over every event
        outs = {c: carried_name(c, a) for c, a in carry.items() if carried_name(c, a) not in taken}
        aggs = ", ".join(_AGGREGATE_SQL[carry[c]].format(c=quote_ident(CARRY_PREFIX + c)) + f" AS {quote_ident(o)}"
                         for c, o in outs.items())
        if outs:
            attrs += "".join(f", c.{quote_ident(o)}" for o in outs.values())
            per_user = (f"SELECT user_id, {aggs} FROM events WHERE user_id IS NOT NULL AND ts IS NOT NULL "
                        "GROUP BY user_id")
            join += f"LEFT JOIN {_ids_checked(per_user)} c USING (user_id) "
            taken |= set(outs.values())
        facts["carried"] = outs
    if with_users:
        user_cols = [r[0] for r in con.execute(f"DESCRIBE {table_name(name, 'users')}").fetchall()]
        attrs += "".join(f", u.{quote_ident(c)}" for c in user_cols
                         if c != "user_id" and c not in taken and c not in pseudonyms)
        # one users row per id, so a repeated id cannot duplicate a user's features
        users_rel = (table_name(name, "users") if unique_users else
                     one_row_per_user(table_name(name, "users")))
        join += f"LEFT JOIN {users_rel} u USING (user_id)"
    exclude = f" EXCLUDE ({', '.join(map(quote_ident, left_out))})" if left_out else ""
    execute(con, f"CREATE TABLE {table_name(name, 'features')} AS SELECT f.*{exclude}{attrs} "
            f"FROM {_ids_checked(sql)} f {join} ORDER BY f.user_id", params, progress, lo + (hi - lo) * 0.15,
            lo + (hi - lo) * 0.85, "engineering per-user features")
    execute(con, f"CREATE TABLE {table_name(name, 'activity')} AS SELECT * FROM "
            f"{_ids_checked(_activity_sql(shape))}", None, progress, lo + (hi - lo) * 0.85, hi,
            "counting each user's activity per day")
    con.execute("DROP TABLE cat_map")
    con.execute(f"DROP {ev_kind} ev")
    con.execute("DROP VIEW clean_events")
    con.execute("DROP TABLE IF EXISTS event_vocab")
    return facts


def _activity_sql(shape: str) -> str:
    """activity.sql for the log's shape: per user and day, what the KPIs over time add up."""
    if shape == "transactions":
        return fill(sql_resource("activity.sql"), session_key="NULL::VARCHAR",
                    purchases="count(DISTINCT coalesce(CAST(order_id AS VARCHAR), CAST(ts AS VARCHAR))) "
                              "FILTER (event_type = 'purchase')", revenue="true")
    return fill(sql_resource("activity.sql"), session_key="session_id",
                purchases="count(*) FILTER (event_type = 'purchase')", revenue="event_type = 'purchase'")


def _unsupported(con, *, shape: str, kinds: dict, has: dict[str, bool], timed: bool, sessions_given: bool,
                 categories: bool) -> dict[str, str]:
    """Features the log cannot support, each with what it would need (these are not built). ``has``:
    whether the log fills each of ``_OPTIONAL_ROLES``."""
    out: dict[str, str] = {}

    def leave(features, why):
        for f in features:
            out.setdefault(f, why)

    money = has["amount"] or (has["quantity"] and has["unit_price"])
    if not categories:
        leave(["category_diversity"], "needs a category column")
    if shape == "transactions":
        if not money:
            leave(["revenue", "avg_order_value", "returned_value"], "needs an amount (or quantity and unit price)")
        if not has["quantity"]:
            leave(["items", "items_per_order"], "needs a quantity column")
        if not exists(con, "clean_events", "event_type = 'return'"):
            leave(["n_returns", "returned_value"], "the log has no returns: no row with a negative amount or quantity")
        return out
    if not timed:
        leave(["night_share", "avg_session_minutes"], "needs times of day (the log has dates only)")
        if not sessions_given:
            leave(["n_sessions", "events_per_session", "cart_rate", "conversion_rate"],
                  "needs session ids or times of day (the log has dates only)")
    purchases = kinds.get("purchase", {})
    if not purchases.get("events"):
        leave(["n_purchases", "revenue", "avg_order_value", "conversion_rate"],
              "needs purchase events: say which event type is a purchase")
    elif not purchases.get("with_amount"):
        leave(["revenue", "avg_order_value"], "needs amounts on purchase events")
    if not kinds.get("add_to_cart", {}).get("events"):
        leave(["add_to_cart", "cart_rate"], "needs add-to-cart events: say which event type adds to cart")
    if not kinds.get("product_view", {}).get("events"):
        leave(["product_views"], "needs product-view events: say which event type is a product view")
    if not kinds.get("ad_impression", {}).get("events"):
        leave(["ad_impressions", "ctr"], "needs ad impression events")
    if not kinds.get("ad_click", {}).get("events"):
        leave(["ad_clicks", "ctr"], "needs ad click events")
    if not has["device"]:
        leave(["mobile_share"], "needs a device column")
    return out
