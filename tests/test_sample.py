"""The bundled sample: deterministic, the promised size, personas planted, committed files match the generator."""

import pandas as pd
import pandas.testing as pdt
import pytest

from segcore.sample import PERSONAS, SAMPLE_DIR, generate_sample


def test_generator_is_deterministic_and_scales():
    u1, e1, t1 = generate_sample(scale=0.02, seed=7)
    u2, e2, t2 = generate_sample(scale=0.02, seed=7)
    pdt.assert_frame_equal(u1, u2)
    pdt.assert_frame_equal(e1, e2)
    u3, _, _ = generate_sample(scale=0.02, seed=8)
    assert not u1["user_id"].equals(u3["user_id"])
    assert len(u1) == 400
    assert len(generate_sample(scale=0.05, seed=7)[0]) == 1000


def test_committed_sample_matches_generator_and_spec():
    users = pd.read_parquet(SAMPLE_DIR / "users.parquet")
    events = pd.read_parquet(SAMPLE_DIR / "events.parquet")
    truth = pd.read_csv(SAMPLE_DIR / "ground_truth.csv", dtype=str)
    assert len(users) == 20_000 and users["user_id"].is_unique
    assert len(events) >= 500_000
    assert set(events["user_id"]) <= set(users["user_id"])
    assert set(truth.columns) == {"user_id", "persona"}
    assert truth["persona"].nunique() == len(PERSONAS) == 6
    assert users["email"].str.contains("@").all()
    assert {"page_view", "click", "ad_impression", "ad_click", "add_to_cart", "purchase"} <= set(events["event_type"])
    purchases = events[events["event_type"] == "purchase"]
    assert purchases["amount"].gt(0).all() and events.loc[events["event_type"] != "purchase", "amount"].isna().all()
    span = events["timestamp"].max() - events["timestamp"].min()
    assert 170 <= span.days <= 190
    assert users["user_id"].str.startswith("0").any()  # ids with leading zeros exist
    # The committed files are the generator's default output, not hand-edited.
    u, e, t = generate_sample()
    assert u["user_id"].tolist() == users["user_id"].tolist()
    assert len(e) == len(events)
    assert t["persona"].tolist() == truth["persona"].tolist()


def test_events_per_user_sets_the_log_size_and_keeps_the_personas_apart():
    users, events, truth = generate_sample(scale=0.25, events_per_user=20)
    per_user = len(events) / len(users)
    assert 18 <= per_user <= 22  # 1M users -> about 20M events, as the scale benchmark needs
    # personas still differ in the direction planted: window shoppers make more events than lapsed users
    counts = events.groupby("user_id").size().rename("n").reset_index().merge(truth, on="user_id")
    by = counts.groupby("persona")["n"].mean()
    assert by["window_shopper"] > by["lapsed"]
    with pytest.raises(ValueError, match="events_per_user"):
        generate_sample(scale=0.01, events_per_user=1)
