"""Cluster profiles: what makes each segment different from the population.

For every cluster: its size and share, the mean and median of every feature,
the standardised difference of its mean from the population's
(``(mean_c - mean) / std``, Cohen's d against the whole population), the
features that differ most, and a one-line description built from them.
Categorical features enter as 0/1 indicator columns (``country=DE``) so that
their "mean" is the share of users in that category.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._common import finite_numbers
from .disclosure import withheld_sizes
from .errors import InputError
from .features import describe_feature, format_value
from .stability import UNSTABLE_BELOW

__all__ = ["Profiles", "SegmentSummary", "Trait", "profile_clusters", "indicator_frame", "contrast",
           "summarise_segments"]

MIN_ABS_Z = 0.4  # below this a difference is not worth a word in a description


@dataclass
class Profiles:
    """Per-cluster profiles (index of every frame: cluster)."""

    sizes: pd.DataFrame  # size, share
    means: pd.DataFrame
    medians: pd.DataFrame
    z: pd.DataFrame  # standardised difference from the population
    population_mean: pd.Series
    top: dict[int, list[tuple[str, float]]]
    descriptions: dict[int, str]


def indicator_frame(frame: pd.DataFrame, numeric: list[str], categorical: Sequence[str] = ()) -> pd.DataFrame:
    """Numeric columns as floats, categorical columns as 0/1 indicators named ``col=value``."""
    num = finite_numbers(frame[list(numeric)])
    if not categorical:
        return num
    cats = pd.get_dummies(frame[list(categorical)].astype("object"), prefix_sep="=", dtype=float)
    return pd.concat([num, cats], axis=1)


def _word(feature: str, z: float) -> str:
    if "=" in feature:
        col, val = feature.split("=", 1)
        return f"more {col.replace('_', ' ')} {val}" if z > 0 else f"fewer {col.replace('_', ' ')} {val}"
    info = describe_feature(feature)
    return info.high if z > 0 else info.low


def describe(top: list[tuple[str, float]]) -> str:
    """One line from the most distinguishing features: behaviour and value first, then context."""
    if not top:
        return "close to the average user on every feature"
    main = [_word(f, z) for f, z in top if "=" in f or describe_feature(f).group != "context"]
    context = [_word(f, z) for f, z in top if "=" not in f and describe_feature(f).group == "context"]
    text = ", ".join(main)
    if context:
        text = f"{text}; {' '.join(context)}" if text else " ".join(context)
    return text


def profile_clusters(values: pd.DataFrame, labels, *, top_n: int = 3) -> Profiles:
    """Profile clusters.

    Parameters
    ----------
    values : DataFrame
        Numeric feature values per user (see :func:`indicator_frame`), raw units.
    labels : array-like of int
        Cluster of each row of ``values``.
    top_n : int, default=3
        How many distinguishing features to keep per cluster.
    """
    labels = np.asarray(labels)
    if len(labels) != len(values):
        raise InputError(f"{len(labels)} labels for {len(values)} users")
    if len(labels) == 0:
        raise InputError("no users to profile")
    v = values.reset_index(drop=True)
    groups = v.groupby(labels)
    sizes = groups.size().rename("size").to_frame()
    sizes["share"] = sizes["size"] / len(v)
    means, medians = groups.mean(), groups.median()
    pop_mean, pop_std = v.mean(), v.std(ddof=0)
    z = (means - pop_mean) / pop_std.replace(0, np.nan)
    z = z.fillna(0.0)
    top, descriptions = {}, {}
    for c in z.index:
        row = z.loc[c]
        order = row.abs().sort_values(ascending=False, kind="stable")
        picked = [(f, float(row[f])) for f in order.index[:top_n] if abs(row[f]) >= MIN_ABS_Z]
        top[int(c)] = picked
        descriptions[int(c)] = describe(picked)
    for df in (sizes, means, medians, z):
        df.index = df.index.astype(int)
        df.index.name = "cluster"
    return Profiles(sizes, means, medians, z, pop_mean, top, descriptions)


def contrast(frame: pd.DataFrame, numeric: list[str], categorical: list[str], selected,
             reference=None) -> pd.DataFrame:
    """How a group of users differs from everyone (or from another group), feature by feature.

    Against everyone, the same numbers as :func:`profile_clusters` gives for a cluster made of the
    group (``z`` is Cohen's d against everyone), computed column by column so that a million users
    need no indicator table: a categorical feature gives one row per category, its mean being the
    share of users in it.

    Parameters
    ----------
    frame : DataFrame
        Raw feature values per user.
    numeric, categorical : list of str
        Columns of ``frame`` to compare.
    selected : array-like of bool, shape (len(frame),)
        The group.
    reference : array-like of bool, shape (len(frame),), optional
        The users to compare with (say, the rest of the group's segment); default everyone.
        Differences are in the reference's standard deviations.

    Returns
    -------
    DataFrame
        Index: feature (``col=value`` for a category); columns ``selected`` (the group's mean),
        ``reference`` (the reference users' mean) and ``z``, ordered by ``|z|``, largest first.
    """
    selected = np.asarray(selected, dtype=bool)
    if selected.shape != (len(frame),):
        raise InputError(f"{selected.shape[0] if selected.ndim else 0} selection flags for {len(frame)} users")
    if not selected.any():
        raise InputError("the selection holds no users")
    base = np.ones(len(frame), dtype=bool) if reference is None else np.asarray(reference, dtype=bool)
    if base.shape != (len(frame),):
        raise InputError(f"{base.shape[0] if base.ndim else 0} reference flags for {len(frame)} users")
    if not base.any():
        raise InputError("there are no users to compare the selection with")
    rows = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for col in numeric:
            v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            v = np.where(np.isinf(v), np.nan, v)
            if np.isnan(v).all():
                continue
            ref = v[base]
            rows[col] = (np.nanmean(v[selected]) if not np.isnan(v[selected]).all() else np.nan,
                         np.nanmean(ref) if not np.isnan(ref).all() else np.nan,
                         np.nanstd(ref) if not np.isnan(ref).all() else np.nan)
        n_ref, n_sel = int(base.sum()), int(selected.sum())
        for col in categorical:
            codes, values = pd.factorize(frame[col].astype("object"), sort=True)
            shares = np.bincount(codes[base & (codes >= 0)], minlength=len(values)) / n_ref
            group = np.bincount(codes[selected & (codes >= 0)], minlength=len(values)) / n_sel
            for value, p_sel, p in zip(values, group, shares, strict=True):
                rows[f"{col}={value}"] = (p_sel, p, np.sqrt(p * (1 - p)))
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["selected", "reference", "std"])
    z = (table["selected"] - table["reference"]) / table["std"].replace(0, np.nan)
    table = table.drop(columns="std").assign(z=z.fillna(0.0))
    table.index.name = "feature"
    return table.iloc[np.argsort(-table["z"].abs().to_numpy(), kind="stable")]


class Trait(NamedTuple):
    """One feature that sets a segment apart: its standardised difference and the two means it compares."""

    feature: str  # a column, or ``col=value`` for a category (its mean is a share of users)
    z: float  # (segment mean - everyone's mean) / everyone's standard deviation
    mean: float  # the segment's mean, in the feature's units
    overall: float  # everyone's mean

    @property
    def ratio(self) -> float | None:
        """The segment's mean as a multiple of everyone's, where that reads (both means non-negative,
        everyone's above zero); None otherwise."""
        if np.isfinite(self.mean) and np.isfinite(self.overall) and self.mean >= 0 and self.overall > 0:
            return float(self.mean / self.overall)
        return None

    def text(self, label=str, currency=None) -> str:
        """In words, the feature named by ``label``: "Purchases: 3.1 against 1 for the average user
        (3.1x), +1.2 sd"; a category's means are shares of users ("54% against 20% of all users"),
        a proportion's percentages, money as ``currency`` (a :class:`segcore.features.Currency`) writes it."""
        if "=" in self.feature:
            mean, overall = format_value(self.mean, "share"), f"{format_value(self.overall, 'share')} of all users"
        else:
            unit = describe_feature(self.feature).unit
            mean = format_value(self.mean, unit, currency)
            overall = f"{format_value(self.overall, unit, currency)} for the average user"
        ratio = f" ({self.ratio:.2g}x)" if self.ratio is not None else ""
        return f"{label(self.feature)}: {mean} against {overall}{ratio}, {self.z:+.1f} sd"


@dataclass(frozen=True)
class SegmentSummary:
    """One segment as every surface shows it (the CLI's ``profile``, the Profiles page): its size, and unless
    it is withheld (fewer users than the minimum segment size), what stands out, how stable it is and its rules."""

    cluster: int
    name: str
    size: int
    share: float
    withheld: bool
    description: str = ""
    top: tuple[tuple[str, float], ...] = ()
    traits: tuple[Trait, ...] = ()  # the same features as ``top``, with the means they compare
    stability: float | None = None
    rules: tuple[tuple[str, float, float], ...] = ()  # (rule, precision, coverage)

    @property
    def unstable(self) -> bool:
        """Whether resampled refits found it less often than :data:`segcore.stability.UNSTABLE_BELOW`."""
        return self.stability is not None and self.stability < UNSTABLE_BELOW


def summarise_segments(prof: Profiles, names: dict, *, stability: dict[int, float], rules: pd.DataFrame,
                       min_segment_size: int) -> list[SegmentSummary]:
    """Every segment of a run in one structure (``names``: cluster -> persona name; ``stability``: cluster ->
    mean Jaccard; ``rules``: cluster, rule, precision, coverage), small segments withheld."""
    small = set(withheld_sizes(prof.sizes["size"], min_segment_size))
    out = []
    for c, row in prof.sizes.iterrows():
        cluster, name, size, share = int(c), str(names.get(c, c)), int(row["size"]), float(row["share"])
        if c in small:
            out.append(SegmentSummary(cluster, name, size, share, withheld=True))
            continue
        mine = rules[rules["cluster"] == c] if len(rules) else rules
        traits = tuple(Trait(f, z, float(prof.means.loc[c, f]), float(prof.population_mean[f])) for f, z in prof.top[c])
        out.append(SegmentSummary(cluster, name, size, share, withheld=False, description=prof.descriptions[c],
                                  top=tuple(prof.top[c]), traits=traits, stability=stability.get(int(c)),
                                  rules=tuple((r.rule, float(r.precision), float(r.coverage))
                                              for r in mine.itertuples())))
    return out

