"""Experiment readouts per persona (issue 18): effects equal scipy's and statsmodels', a planted lift in one
persona is found and nowhere else, an A/A split of a real retailer's customers finds nothing, and the
heterogeneity test is Cochran's Q."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import proportion
from test_cli import segcore as cli

import segcore
from segcore.errors import InputError
from segcore.experiment import experiment_readout, pick_control

CDNOW = Path(__file__).resolve().parent / "data" / "cdnow" / "cdnow_sample.csv"


def _users(n=1200, seed=0, lift=None):
    """n users per persona A-D split at random into control and treatment; ``lift``: (persona, factor) on the
    treatment's purchase probability in that persona."""
    rng = np.random.default_rng(seed)
    persona = np.repeat(list("ABCD"), n)
    arm = rng.choice(["control", "treatment"], len(persona))
    buy = np.full(len(persona), 0.3)
    if lift:
        buy[(persona == lift[0]) & (arm == "treatment")] *= lift[1]
    orders = rng.binomial(4, buy)
    return pd.DataFrame({"persona": persona, "variant": arm, "n_purchases": orders,
                         "revenue": orders * rng.gamma(2.0, 20.0, len(persona)),
                         "recency_days": rng.exponential(40, len(persona))})


def test_an_effect_is_welchs_test_and_a_share_the_score_test():
    frame = _users(seed=1)
    out = experiment_readout(frame, "variant").effects.set_index(["scope", "kpi"])
    mine = frame["persona"] == "C"
    t, c = mine & (frame["variant"] == "treatment"), mine & (frame["variant"] == "control")
    ref = stats.ttest_ind(frame.loc[t, "revenue"], frame.loc[c, "revenue"], equal_var=False)
    row = out.loc[("C", "revenue_per_user")]
    assert row["p"] == pytest.approx(ref.pvalue) and row["effect"] == pytest.approx(
        frame.loc[t, "revenue"].mean() - frame.loc[c, "revenue"].mean())
    assert (row["effect_low"], row["effect_high"]) == pytest.approx(tuple(ref.confidence_interval(0.95)))
    # repeat-purchase rate: buyers with two or more orders among buyers, two-proportion score test
    bt, bc = t & (frame["n_purchases"] >= 1), c & (frame["n_purchases"] >= 1)
    yes_t, yes_c = int((frame.loc[bt, "n_purchases"] >= 2).sum()), int((frame.loc[bc, "n_purchases"] >= 2).sum())
    test = proportion.test_proportions_2indep(yes_t, int(bt.sum()), yes_c, int(bc.sum()), method="score")
    assert out.loc[("C", "repeat_rate"), "p"] == pytest.approx(test.pvalue)


def test_a_planted_lift_in_one_persona_is_found_there_only():
    readout = experiment_readout(_users(seed=2, lift=("B", 1.5)), "variant")
    orders = readout.effects[readout.effects["kpi"] == "orders_per_user"].set_index("scope")
    assert orders.loc["B", "significant"] and orders.loc["B", "effect"] > 0
    assert not orders.loc[["A", "C", "D"], "significant"].any()
    het = readout.heterogeneity.set_index("kpi").loc["orders_per_user"]
    assert het["p"] < 0.05 and het["personas"] == 4


def test_no_lift_is_found_about_as_rarely_as_the_level_allows():
    """Over 30 experiments without any effect, a readout claims one in few: every cell is corrected together."""
    claims = sum(bool(experiment_readout(_users(n=300, seed=s), "variant").effects["significant"].any())
                 for s in range(30))
    assert claims <= 5  # binomial(30, 0.05): P(more than 5) < 0.01 under the false discovery rate's bound


def test_heterogeneity_is_cochrans_q_over_the_personas():
    readout = experiment_readout(_users(seed=3, lift=("D", 1.3)), "variant")
    eff = readout.effects
    part = eff[(eff["kpi"] == "revenue_per_user") & (eff["scope"] != "All users")]
    se = (part["effect_high"] - part["effect_low"]) / (2 * stats.norm.ppf(0.975))
    w = 1 / se ** 2
    mean = (w * part["effect"]).sum() / w.sum()
    q = float((w * (part["effect"] - mean) ** 2).sum())
    het = readout.heterogeneity.set_index("kpi").loc["revenue_per_user"]
    assert het["q_statistic"] == pytest.approx(q) and het["p"] == pytest.approx(stats.chi2.sf(q, 3))


def test_bad_assignments_are_refused_in_one_line():
    frame = _users(n=50)
    with pytest.raises(InputError, match="(?i)at least two"):
        experiment_readout(frame.assign(variant="control"), "variant")
    with pytest.raises(InputError, match="(?i)at most 10 variants"):
        experiment_readout(frame.assign(variant=np.arange(len(frame)) % 40), "variant")
    with pytest.raises(InputError, match="(?i)not a variant"):
        experiment_readout(frame, "variant", control="B")
    assert pick_control(["A", "B"]) == "A" and pick_control(["new", "Control"]) == "Control"


def test_a_withheld_persona_counts_nowhere():
    frame = _users(n=400, seed=4)
    frame.loc[frame.index[:20], "persona"] = "tiny"
    readout = experiment_readout(frame, "variant", min_segment_size=50)
    assert readout.withheld == ["tiny"] and "tiny" not in set(readout.effects["scope"])
    assert sum(readout.users.values()) == len(frame) - 20


def test_a_real_retailers_customers_split_in_two(tmp_path, sample_store):
    """CDNOW with each customer given a variant by a coin that knows nothing of them (an A/A test): no effect
    holds up; then the same customers' spend raised by half in one persona's treatment group: found there."""
    rng = np.random.default_rng(7)
    log = pd.read_csv(CDNOW, dtype={"customer_id": str})
    customers = log["customer_id"].unique()
    arm = dict(zip(customers, rng.choice(["control", "treatment"], len(customers))))
    log["variant"] = log["customer_id"].map(arm)
    f = tmp_path / "cdnow_ab.csv"
    log.to_csv(f, index=False)
    store = tmp_path / "ab.duckdb"
    shutil.copy(sample_store.path, store)
    cli("import", str(f), "--name", "cdnow_ab", "--kind", "events", "--per-user", "variant=last", store=store)
    run_id = cli("run", "cdnow_ab", "--k", "3", "--features", "recency_days,n_purchases,revenue",
                 store=store).stdout.split()[-1]
    out = json.loads(cli("experiment", run_id, "--variant", "variant", "--json", store=store).stdout)
    assert out["control"] == "control" and out["users"] == pd.Series(arm).value_counts().to_dict()
    assert not any(e["significant"] for e in out["effects"]), [e for e in out["effects"] if e["significant"]]
    text = cli("experiment", run_id, "--variant", "variant", store=store).stdout
    assert "heterogeneity" in text and "nan" not in text.lower()
    # planted on the real customers: the treatment's revenue up by half in the largest persona
    frame = segcore.Store(store).segments(run_id, ["variant", "n_purchases", "revenue", "avg_order_value",
                                                   "recency_days", "purchase_interval_days"])
    target = frame["persona"].value_counts().idxmax()
    treated = (frame["persona"] == target) & (frame["variant"] == "treatment")
    frame.loc[treated, "revenue"] *= 1.5
    readout = experiment_readout(frame, "variant", shape="transactions", min_segment_size=50)
    revenue = readout.effects[readout.effects["kpi"] == "revenue_per_user"].set_index("scope")
    others = [p for p in revenue.index if p not in ("All users", target)]
    assert revenue.loc[target, "significant"] and not revenue.loc[others, "significant"].any()


def test_an_unknown_variant_column_names_the_candidates(tmp_path, sample_store, sample_run):
    store = tmp_path / "s.duckdb"
    shutil.copy(sample_store.path, store)
    done = cli("experiment", sample_run, "--variant", "arm", store=store, check=False)
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1
    assert "no column 'arm'" in done.stderr
