"""A private release (issue 18): OpenDP's Laplace noise at the scale its accounting gives for the stated epsilon,
unbiased around the exact figures, small segments withheld by their noisy size, money only with a stated cap."""

import numpy as np
import pandas as pd
import pytest
from test_cli import segcore as cli

from segcore.dp_release import SURVIVAL, dp_release
from segcore.errors import InputError
from segcore.kpi import kpi_availability


def _frame(sizes=(4000, 3000), seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for i, n in enumerate(sizes):
        orders = rng.binomial(4, 0.2 + 0.2 * i, n)
        parts.append(pd.DataFrame({"persona": f"P{i}", "n_purchases": orders,
                                   "revenue": orders * rng.gamma(2.0, 20.0, n),
                                   "recency_days": rng.exponential(40 + 40 * i, n)}))
    return pd.concat(parts, ignore_index=True)


def _specs(frame):
    return kpi_availability(frame.columns)[0]


def test_each_query_gets_its_share_of_epsilon_at_the_laplace_scale():
    frame = _frame()
    rel = dp_release(frame, _specs(frame), epsilon=1.0, caps={"money": 500})
    # count, then per KPI its numerator, and its denominator unless that is the count of users:
    # revenue per user 1, orders per user 1, repeat rate 2, churn 2
    assert [k.name for k in rel.shown] == ["revenue_per_user", "orders_per_user", "repeat_rate", "churn_rate"]
    assert rel.queries == 1 + 1 + 1 + 2 + 2 and rel.epsilon_per_query == pytest.approx(1 / rel.queries)
    # a count's sensitivity is 1: Laplace scale 1 / epsilon per query (OpenDP's search, to its tolerance)
    assert rel.count_scale == pytest.approx(rel.queries, rel=1e-6)
    assert rel.table["users_noise_sd"].iloc[0] == pytest.approx(np.sqrt(2) * rel.queries, rel=1e-6)
    assert set(rel.caps) == {"money", "orders"}


def test_the_noise_is_centred_on_the_exact_figures_with_its_stated_spread():
    frame = _frame(sizes=(2000, 1500))
    specs = [s for s in _specs(frame) if s.name in ("orders_per_user", "churn_rate")]
    runs = [dp_release(frame, specs, epsilon=1.0).table.set_index("segment") for _ in range(120)]
    users = np.array([r.loc["P0", "users"] for r in runs], dtype=float)
    sd = runs[0].loc["P0", "users_noise_sd"]
    assert abs(users.mean() - 2000) < 4 * sd / np.sqrt(len(users))
    assert users.std() == pytest.approx(sd, rel=0.25)
    orders = np.array([r.loc["P1", "orders_per_user"] for r in runs])
    exact = frame.loc[frame["persona"] == "P1", "n_purchases"].mean()
    assert abs(orders.mean() - exact) < 4 * orders.std() / np.sqrt(len(orders))


def test_a_small_segment_is_withheld_by_its_noisy_size():
    frame = _frame(sizes=(3000, 5))
    rel = dp_release(frame, _specs(frame), epsilon=0.5)
    assert list(rel.table["segment"]) == ["P0"] and rel.withheld == 1
    assert SURVIVAL * rel.count_scale > 200  # the threshold it had to clear, far above 5 users and their noise


def test_money_needs_a_stated_cap_and_bad_settings_are_refused():
    frame = _frame()
    rel = dp_release(frame, _specs(frame), epsilon=1.0)
    assert set(rel.left_out) == {"revenue_per_user"}  # the frame has no order values: no average order value
    assert "stated cap" in rel.left_out["revenue_per_user"]
    for bad in (0, -1, 11, float("nan")):
        with pytest.raises(InputError, match="(?i)epsilon"):
            dp_release(frame, _specs(frame), epsilon=bad)
    with pytest.raises(InputError, match="(?i)no cap named"):
        dp_release(frame, _specs(frame), epsilon=1.0, caps={"dollars": 5})
    with pytest.raises(InputError, match="(?i)positive"):
        dp_release(frame, _specs(frame), epsilon=1.0, caps={"money": -5})


def test_shares_stay_shares_after_the_noise():
    frame = _frame(sizes=(400, 300))
    for _ in range(20):
        table = dp_release(frame, _specs(frame), epsilon=0.2).table
        for k in ("repeat_rate", "churn_rate"):
            if k in table:
                assert table[k].dropna().between(0, 1).all()


def test_the_private_report_holds_only_private_figures(tmp_path, sample_store, sample_run):
    import shutil

    store = tmp_path / "s.duckdb"
    shutil.copy(sample_store.path, store)
    out = tmp_path / "private.html"
    done = cli("report", sample_run, "--out", str(out), "--dp-epsilon", "1", "--clip", "money=1000", store=store)
    assert "private release (epsilon = 1" in done.stderr
    page = out.read_text(encoding="utf-8")
    assert "differentially private (epsilon = 1)" in page and "default-src 'none'" in page
    for exact in ('id="personas"', 'id="map"', 'id="profiles"', 'id="fairness"', "plotly-graph-div"):
        assert exact not in page
    bad = cli("report", sample_run, "--out", str(out), "--dp-epsilon", "0", store=store, check=False)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
