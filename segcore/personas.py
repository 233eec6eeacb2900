"""Persona suggestions: a name, a description and a colour per cluster.

Names come from the cluster's most distinguishing features (see
:mod:`segcore.profile`) through a small table of marketing archetypes; the
analyst edits them afterwards and the edits are stored with the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._methods import NOISE
from .errors import InputError
from .profile import Profiles, describe

__all__ = ["PALETTE", "UNASSIGNED", "MATCH_FLOOR", "suggest_personas", "carry_colours", "match_segments",
           "carry_personas", "persona_problems", "check_personas",
           "NAME_MAX", "DESCRIPTION_MAX", "NARRATIVE_MAX", "COLOUR_RULE"]

NAME_MAX, DESCRIPTION_MAX, NARRATIVE_MAX = 60, 300, 3000
COLOUR_RULE = r"#[0-9A-Fa-f]{6}"

UNASSIGNED = "Unassigned"
MATCH_FLOOR = 0.5  # a new segment whose best one-to-one match shares less (Jaccard) with it is a new persona

# Carto "Safe": distinguishable with the common colour-vision deficiencies.
PALETTE = ("#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288", "#AA4499",
           "#44AA99", "#999933", "#882255", "#661100", "#6699CC", "#888888")

# (feature, direction, name): the first rule that matches a cluster's strongest features wins.
_ARCHETYPES = (
    ("recency_days", 1, "Lapsed users"),
    ("tenure_days", -1, "New explorers"),
    ("night_share", 1, "Night owls"),
    ("revenue", 1, "High spenders"),
    ("avg_order_value", 1, "Big-basket buyers"),
    ("items_per_order", 1, "Bulk buyers"),
    ("n_returns", 1, "Frequent returners"),
    ("purchase_interval_days", -1, "Quick repeat buyers"),
    ("product_views", 1, "Product browsers"),
    ("share_deals", 1, "Bargain hunters"),
    ("ctr", 1, "Ad responders"),
    ("cart_rate", 1, "Cart fillers"),
    ("events_per_session", 1, "Window shoppers"),
    ("avg_session_minutes", 1, "Window shoppers"),
    ("conversion_rate", 1, "Converters"),
    ("n_sessions", 1, "Regulars"),
    ("mobile_share", 1, "Mobile-first users"),
    ("mobile_share", -1, "Desktop users"),
    ("n_sessions", -1, "Occasional visitors"),
)


def _name(top: list[tuple[str, float]], z: pd.Series, taken: set[str]) -> str:
    strong = [(f, v) for f, v in sorted(z.items(), key=lambda kv: -abs(kv[1])) if abs(v) >= 0.5][:6]
    # Archetypes first (a named behaviour beats a category), then "<category> fans".
    for feature, value in strong:
        for rule_feature, sign, name in _ARCHETYPES:
            if feature == rule_feature and value * sign > 0 and name not in taken:
                return name
    for feature, value in strong:
        if feature.startswith("share_") and value > 0:
            name = f"{feature.removeprefix('share_').replace('_', ' ').capitalize()} fans"
            if name not in taken:
                return name
    # No archetype fits: name it by its strongest difference ("Recently active users").
    return "Average users" if not top else f"{describe(top[:1]).split(';')[0].strip().capitalize()} users"


def suggest_personas(profiles: Profiles) -> pd.DataFrame:
    """One row per cluster: cluster, name, description, colour (names unique)."""
    rows, taken = [], {UNASSIGNED}
    # Name the most distinctive clusters first so they get the most specific names.
    order = profiles.z.abs().max(axis=1).sort_values(ascending=False, kind="stable").index
    for c in order:
        if int(c) == NOISE:  # not a segment: users a density method could not place
            rows.append({"cluster": NOISE, "name": UNASSIGNED, "description": "in no dense group: users the "
                         "method could not place with confidence", "colour": "#BBBBBB"})
            continue
        name = _name(profiles.top[int(c)], profiles.z.loc[c], taken)
        base, i = name, 2
        while name in taken:
            name, i = f"{base} {i}", i + 1
        taken.add(name)
        rows.append({"cluster": int(c), "name": name, "description": profiles.descriptions[int(c)],
                     "colour": PALETTE[int(c) % len(PALETTE)]})
    return pd.DataFrame(rows).sort_values("cluster").reset_index(drop=True)


def persona_problems(personas: pd.DataFrame) -> list[str]:
    """What stops a table of personas (``name``, ``description``, ``colour``) from being saved, a phrase
    each; empty when nothing does. Two personas of one name would merge into one row of every KPI and
    export, so names must differ (ignoring case and surrounding spaces)."""
    names = personas["name"].map(lambda v: v.strip() if isinstance(v, str) else "")
    problems = []
    if (names == "").any():
        problems.append("every segment needs a persona name")
    long = names[names.str.len() > NAME_MAX]
    if not long.empty:
        problems.append(f"persona name {long.iloc[0][:20]!r}... is longer than {NAME_MAX} characters")
    twice = names[(names != "") & names.str.casefold().duplicated()]
    if not twice.empty:
        problems.append(f"persona name {twice.iloc[0]!r} is used twice: names must differ")
    if (personas["description"].fillna("").astype(str).str.len() > DESCRIPTION_MAX).any():
        problems.append(f"a persona description is longer than {DESCRIPTION_MAX} characters")
    if "narrative" in personas and (personas["narrative"].fillna("").astype(str).str.len() > NARRATIVE_MAX).any():
        problems.append(f"a persona's narrative is longer than {NARRATIVE_MAX} characters")
    if not personas["colour"].fillna("").astype(str).str.fullmatch(COLOUR_RULE).all():
        problems.append("persona colours must look like #1A2B3C")
    return problems


def carry_colours(personas: pd.DataFrame, earlier: dict[str, str]) -> pd.DataFrame:
    """``personas`` with each name that an earlier run of the dataset used in its colour there, so a persona
    keeps its colour from run to run (``earlier``: name -> colour). No two personas of the run share a
    colour: a persona whose colour is taken gets the first palette colour still free."""
    out = personas.copy()
    used: set[str] = set()
    carried = set()
    for i, name in out["name"].items():
        colour = earlier.get(name)
        if colour and colour.upper() not in used:
            out.at[i, "colour"] = colour
            used.add(colour.upper())
            carried.add(i)
    for i in out.index:
        if i in carried:
            continue
        colour = str(out.at[i, "colour"])
        if colour.upper() in used:
            colour = next((c for c in PALETTE if c.upper() not in used), colour)
        out.at[i, "colour"] = colour
        used.add(colour.upper())
    return out


def check_personas(personas: pd.DataFrame) -> pd.DataFrame:
    """``personas`` with names stripped of surrounding spaces; raises InputError with the first of
    :func:`persona_problems`."""
    problems = persona_problems(personas)
    if problems:
        raise InputError(problems[0])
    return personas.assign(name=personas["name"].str.strip())


def match_segments(users, labels, earlier: pd.DataFrame, floor: float = MATCH_FLOOR) -> dict[int, tuple[int, float]]:
    """Which segment of an earlier run each new segment continues, by the users they share.

    Parameters
    ----------
    users, labels : array-like
        Each user's id and new segment.
    earlier : DataFrame
        user_id and cluster of the earlier run.
    floor : float, default=MATCH_FLOOR
        A pair sharing less (Jaccard: users in both over users in either) is no match.

    Returns
    -------
    dict
        new segment -> (earlier segment, Jaccard), from the optimal one-to-one assignment
        (``scipy.optimize.linear_sum_assignment`` on the overlap), pairs at or above ``floor`` only.
        Unassigned users (-1) are matched with nothing.
    """
    from scipy.optimize import linear_sum_assignment

    new = pd.DataFrame({"user_id": pd.Series(users).astype(str).to_numpy(), "new": np.asarray(labels)})
    old = earlier.assign(user_id=earlier["user_id"].astype(str))[["user_id", "cluster"]]
    both = new.merge(old, on="user_id", how="inner")
    both = both[(both["new"] != NOISE) & (both["cluster"] != NOISE)]
    if both.empty:
        return {}
    shared = pd.crosstab(both["new"], both["cluster"])
    size_new = new[new["new"] != NOISE]["new"].value_counts().reindex(shared.index).to_numpy()[:, None]
    size_old = old[old["cluster"] != NOISE]["cluster"].value_counts().reindex(shared.columns).to_numpy()[None, :]
    jaccard = shared.to_numpy() / (size_new + size_old - shared.to_numpy())
    rows, cols = linear_sum_assignment(-jaccard)
    return {int(shared.index[r]): (int(shared.columns[c]), float(jaccard[r, c]))
            for r, c in zip(rows, cols) if jaccard[r, c] >= floor}


def carry_personas(personas: pd.DataFrame, earlier: pd.DataFrame,
                   matches: dict[int, tuple[int, float]]) -> pd.DataFrame:
    """``personas`` with each matched segment's name, description, colour and narrative taken from the
    earlier persona it continues (``earlier``: that run's personas). A new segment keeps its suggestion,
    renamed with a number if a carried name took it, and a colour no carried persona has."""
    out = personas.copy()
    if "narrative" not in out:
        out["narrative"] = None
    before = earlier.set_index("cluster")
    carried = set()
    for i, row in out.iterrows():
        match = matches.get(int(row["cluster"]))
        if match is None or match[0] not in before.index:
            continue
        was = before.loc[match[0]]
        for field in ("name", "description", "colour", "narrative"):
            if field in was and not (isinstance(was[field], float) and np.isnan(was[field])):
                out.at[i, field] = was[field]
        carried.add(i)
    taken = {str(out.at[i, "name"]).casefold() for i in carried}
    colours = {str(out.at[i, "colour"]).upper() for i in carried}
    for i in out.index:
        if i in carried:
            continue
        base, name, n = str(out.at[i, "name"]), str(out.at[i, "name"]), 2
        while name.casefold() in taken:
            name, n = f"{base} {n}", n + 1
        out.at[i, "name"] = name
        taken.add(name.casefold())
        if str(out.at[i, "colour"]).upper() in colours:
            out.at[i, "colour"] = next((c for c in PALETTE if c.upper() not in colours), out.at[i, "colour"])
        colours.add(str(out.at[i, "colour"]).upper())
    return out
