"""Deterministic generator of the bundled e-commerce / content-site sample.

Six behavioural personas are planted. Each user draws its own rates around its
persona's (log-normal noise), so personas overlap the way real users do. Every
draw comes from one seeded ``numpy.random.Generator``: the same ``seed`` and
``scale`` give byte-identical tables.

The committed files in ``sample_data/`` are this module's default output::

    python sample_data/generate.py            # scale 1.0: ~20k users
    python sample_data/generate.py --scale 50 --out /tmp/big   # ~1M users
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._bundled import SAMPLE_DIR

__all__ = ["PERSONAS", "SAMPLE_DIR", "generate_sample", "write_sample"]

START = pd.Timestamp("2026-04-01")
DAYS = 183  # April to September 2026
EVENT_TYPES = ("page_view", "click", "ad_impression", "ad_click", "add_to_cart", "purchase")
CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "deals", "entertainment", "news")
COUNTRIES = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "SE")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")
CHANNELS = ("organic", "paid_search", "social", "email", "referral")


@dataclass(frozen=True)
class _Persona:
    name: str
    weight: float
    sessions: float  # mean sessions over the active window
    events_per_session: float
    # page_view, click, ad_impression, ad_click, add_to_cart, purchase (relative weights)
    event_mix: tuple[float, ...]
    amount_mean: float  # mean order value
    mobile: float  # probability a session is on a phone
    night: float  # probability a session starts between 22:00 and 05:00
    categories: tuple[float, ...]  # relative weights over CATEGORIES
    active: tuple[float, float]  # active window as fractions of the period
    age: tuple[float, ...]
    channel: tuple[float, ...]
    churn: float
    gap: float  # mean seconds between events in a session


PERSONAS: tuple[_Persona, ...] = (
    _Persona("loyal_high_spender", 0.15, 12, 6, (40, 18, 10, 0.3, 8, 5.0), 140, 0.25, 0.05,
             (4, 3, 4, 2, 2, 0.5, 0.5, 0.5), (0.0, 1.0), (0.5, 2, 3, 3, 2), (3, 1, 1, 4, 2), 0.03, 35),
    _Persona("bargain_hunter", 0.18, 10, 7, (30, 20, 22, 5.0, 10, 1.5), 28, 0.5, 0.12,
             (1, 1, 1, 1, 0.5, 7, 0.5, 0.2), (0.0, 1.0), (2, 3, 2, 1.5, 1), (1, 4, 3, 2, 1), 0.08, 30),
    _Persona("window_shopper", 0.20, 7, 11, (70, 25, 8, 0.2, 3, 0.1), 60, 0.45, 0.10,
             (2, 5, 4, 2, 1, 0.5, 0.5, 0.5), (0.0, 1.0), (1.5, 3, 2.5, 1.5, 1), (3, 2, 3, 1, 2), 0.10, 90),
    _Persona("night_mobile_browser", 0.15, 8, 4, (45, 20, 30, 0.5, 1, 0.1), 35, 0.92, 0.7,
             (0.5, 0.5, 0.2, 0.5, 1, 0.5, 5, 4), (0.0, 1.0), (5, 3, 1, 0.5, 0.2), (1, 1, 5, 0.5, 2), 0.12, 25),
    _Persona("lapsed", 0.17, 2.5, 4, (55, 15, 18, 0.8, 3, 0.5), 55, 0.5, 0.12,
             (2, 2, 2, 1, 1, 1, 1, 1), (0.0, 0.35), (1, 2, 2.5, 2, 1.5), (2, 2, 2, 2, 1), 0.75, 40),
    _Persona("new_explorer", 0.15, 3, 6, (50, 25, 14, 0.8, 4, 0.8), 50, 0.5, 0.12,
             (1, 1, 1, 1, 1, 1, 1, 1), (0.85, 1.0), (2.5, 3, 2, 1, 0.5), (2, 3, 3, 1, 3), 0.05, 45),
)

_FIRST = ("anna", "ben", "carla", "david", "emma", "felix", "grace", "hugo", "ines", "jonas",
          "kira", "liam", "maria", "noah", "olga", "paul", "rosa", "sami", "tara", "yusuf")
_LAST = ("smith", "muller", "garcia", "rossi", "martin", "jansen", "berg", "novak", "silva", "kim")
_DOMAINS = ("example.com", "mail.example.org", "inbox.example.net")


def _choice_rows(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one category per row, from the probability vector ``probs[rows]``."""
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(rows))
    return (u[:, None] > cdf[rows]).sum(axis=1)


def _norm(rows) -> np.ndarray:
    a = np.asarray(rows, dtype=float)
    return a / a.sum(axis=1, keepdims=True)


def generate_sample(scale: float = 1.0, seed: int = 20261123, events_per_user: float | None = None,
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Generate the sample tables.

    Parameters
    ----------
    scale : float, default=1.0
        Multiplies the number of users (20,000 at 1.0); events scale with it.
    seed : int, default=20261123
        Seed of the single random generator used for every draw.
    events_per_user : float, optional
        Target mean number of events per user. By default users make about 53
        events (the committed sample). A smaller target shortens both the number
        of sessions and their length, by the same factor, so personas keep
        their relative differences (``20`` gives 20M events for 1M users).

    Returns
    -------
    users : DataFrame
        One row per user: user_id, email, country, device, age_band,
        acquisition_channel, signup_date, churned.
    events : DataFrame
        One row per event: user_id, session_id, timestamp, event_type,
        category, device, amount (purchases only).
    truth : DataFrame
        user_id and the planted persona; for tests, never read by the app.
    """
    if not scale > 0:
        raise ValueError(f"scale={scale} should be > 0")
    if events_per_user is not None and not events_per_user >= 2:
        raise ValueError(f"events_per_user={events_per_user} should be >= 2")
    rng = np.random.default_rng(seed)
    n_users = max(int(round(20_000 * scale)), len(PERSONAS))
    weights = np.array([p.weight for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=n_users, p=weights / weights.sum())

    # Opaque hex ids; about one in sixteen starts with a zero, which importers must keep.
    ids = np.unique(rng.integers(0, 16**10, size=n_users + n_users // 50 + 10))
    rng.shuffle(ids)
    ids = ids[:n_users]
    user_id = np.array([f"{i:010x}" for i in ids], dtype=object)

    P = PERSONAS
    # Per-user rates: the persona's value times log-normal noise (overlap between personas).
    def noisy(values, sigma):
        return np.asarray(values, dtype=float)[persona] * rng.lognormal(0.0, sigma, n_users)

    sessions_mean = noisy([p.sessions for p in P], 0.35)
    eps_mean = noisy([p.events_per_session for p in P], 0.25)
    amount_mean = noisy([p.amount_mean for p in P], 0.35)
    gap_mean = noisy([p.gap for p in P], 0.3)
    if events_per_user is not None:
        # expected events per user is about sessions x events per session: shrink both alike
        factor = np.sqrt(events_per_user / np.mean(np.maximum(sessions_mean, 1) * np.maximum(eps_mean, 1.1)))
        sessions_mean = sessions_mean * factor
        eps_mean = eps_mean * factor
    mobile_p = np.clip(np.array([p.mobile for p in P])[persona] + rng.normal(0, 0.12, n_users), 0.02, 0.98)
    night_p = np.clip(np.array([p.night for p in P])[persona] + rng.normal(0, 0.08, n_users), 0.01, 0.95)
    lo = np.array([p.active[0] for p in P])[persona]
    hi = np.array([p.active[1] for p in P])[persona]
    # Active window: start and end jitter so that lapsed and new users blur at the edges.
    a0 = np.clip(lo + rng.normal(0, 0.04, n_users) * (lo > 0), 0, 0.97)
    a1 = np.clip(hi + rng.normal(0, 0.06, n_users) * (hi < 1), a0 + 0.02, 1.0)

    # Each user mixes its persona's event and category preferences with its own noise.
    mix = _norm([p.event_mix for p in P])[persona] * rng.lognormal(0, 0.25, (n_users, len(EVENT_TYPES)))
    cats = _norm([p.categories for p in P])[persona] * rng.lognormal(0, 0.4, (n_users, len(CATEGORIES)))
    mix, cats = _norm(mix), _norm(cats)

    n_sessions = np.maximum(1, rng.poisson(sessions_mean))
    s_user = np.repeat(np.arange(n_users), n_sessions)
    n_s = len(s_user)
    window = (a1 - a0)[s_user] * DAYS
    s_day = np.floor(a0[s_user] * DAYS + rng.random(n_s) * window)
    is_night = rng.random(n_s) < night_p[s_user]
    night_hour = (22 + rng.integers(0, 7, n_s)) % 24
    day_hour = np.clip(np.round(rng.normal(14, 3.2, n_s)), 6, 21)
    s_hour = np.where(is_night, night_hour, day_hour)
    s_start = (START.value // 1000 + ((s_day * 24 + s_hour) * 3600 + rng.integers(0, 3600, n_s)) * 1_000_000)
    s_mobile = rng.random(n_s) < mobile_p[s_user]
    s_events = 1 + rng.poisson(np.maximum(eps_mean[s_user] - 1, 0.1))

    e_session = np.repeat(np.arange(n_s), s_events)
    e_user = s_user[e_session]
    # Seconds between events in a session: exponential around the persona's pace.
    gaps = rng.exponential(gap_mean[e_user])
    first = np.r_[0, np.cumsum(s_events)[:-1]]
    cum = np.cumsum(gaps)
    offset = cum - np.repeat(cum[first] - gaps[first], s_events)
    # Whole seconds, as most trackers log them (and the file compresses far better).
    ts = (s_start[e_session] // 1_000_000 + offset.astype(np.int64)) * 1_000_000
    etype = _choice_rows(rng, mix, e_user)
    # The first event of a session is always a page view.
    etype[first] = 0
    cat = _choice_rows(rng, cats, e_user)
    is_purchase = etype == EVENT_TYPES.index("purchase")
    amount = np.where(is_purchase, np.round(rng.lognormal(np.log(amount_mean[e_user]) - 0.08, 0.4), 2), np.nan)

    events = pd.DataFrame({
        "user_id": pd.array(user_id[e_user], dtype="str"),
        "session_id": (e_session + 1).astype(np.int64),
        "timestamp": pd.to_datetime(ts, unit="us"),
        "event_type": pd.Categorical.from_codes(etype, EVENT_TYPES),
        "category": pd.Categorical.from_codes(cat, CATEGORIES),
        "device": pd.Categorical.from_codes(s_mobile[e_session].astype(int), ("desktop", "mobile")),
        "amount": amount,
    }).sort_values(["timestamp", "session_id"], kind="stable").reset_index(drop=True)

    mobile_share = np.bincount(s_user, weights=s_mobile, minlength=n_users) / n_sessions
    first_day = np.full(n_users, np.inf)
    np.minimum.at(first_day, s_user, s_day)
    # Users active from the start signed up up to 400 days earlier; newcomers on arrival.
    signup_lag = np.where(a0 < 0.5, rng.integers(0, 400, n_users), rng.integers(0, 3, n_users))
    signup = START + pd.to_timedelta(first_day - signup_lag, unit="D")
    first_names = np.array(_FIRST)[rng.integers(0, len(_FIRST), n_users)]
    last_names = np.array(_LAST)[rng.integers(0, len(_LAST), n_users)]
    domains = np.array(_DOMAINS)[rng.integers(0, len(_DOMAINS), n_users)]
    emails = [f"{first}.{last}{i % 1000}@{d}" for i, (first, last, d) in
              enumerate(zip(first_names, last_names, domains))]
    users = pd.DataFrame({
        "user_id": pd.array(user_id, dtype="str"),
        "email": pd.array(emails, dtype="str"),
        "country": pd.Categorical.from_codes(rng.integers(0, len(COUNTRIES), n_users), COUNTRIES),
        "device": np.where(mobile_share >= 0.5, "mobile", "desktop"),
        "age_band": pd.Categorical.from_codes(_choice_rows(rng, _norm([p.age for p in P]), persona), AGE_BANDS),
        "acquisition_channel": pd.Categorical.from_codes(
            _choice_rows(rng, _norm([p.channel for p in P]), persona), CHANNELS),
        "signup_date": signup.normalize().date,
        "churned": rng.random(n_users) < np.array([p.churn for p in P])[persona],
    })
    users["device"] = users["device"].astype("category")
    truth = pd.DataFrame({"user_id": users["user_id"],
                          "persona": pd.array([P[i].name for i in persona], dtype="str")})
    return users, events, truth


def write_sample(out: Path | str = SAMPLE_DIR, scale: float = 1.0, seed: int = 20261123,
                 events_per_user: float | None = None) -> dict[str, Path]:
    """Generate the sample and write ``users.parquet``, ``events.parquet`` and ``ground_truth.csv``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    users, events, truth = generate_sample(scale=scale, seed=seed, events_per_user=events_per_user)
    paths = {"users": out / "users.parquet", "events": out / "events.parquet", "truth": out / "ground_truth.csv"}
    users.to_parquet(paths["users"], index=False, compression="zstd")
    events.to_parquet(paths["events"], index=False, compression="zstd", row_group_size=500_000)
    truth.to_csv(paths["truth"], index=False)
    return paths
