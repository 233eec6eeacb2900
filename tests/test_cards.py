"""Persona cards (issue 18): each trait's evidence equals scipy's and statsmodels', a planted difference is
claimed and none is not, angles follow only differences that hold up, and an edited narrative is kept."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import proportion
from statsmodels.stats.multitest import multipletests
from test_cli import segcore as cli

import segcore
from segcore.cards import persona_cards
from segcore.errors import InputError
from segcore.profile import SegmentSummary, Trait
from segcore.significance import trait_evidence
from segcore.workflow import run_cards


@pytest.fixture
def cli_store(tmp_path, sample_store):
    """A copy of the sample store for the command line to change."""
    import shutil

    return shutil.copy(sample_store.path, tmp_path / "cards.duckdb")


def _values(n=600, seed=0, lift=True):
    """Three segments of n users: segment 1 spends more and sits more in country DE (planted, unless
    ``lift`` is False); the others spend alike. Some revenue is missing."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2], n)
    planted = (labels == 1) & lift
    revenue = rng.gamma(2.0, 50.0, 3 * n) * np.where(planted, 1.5, 1.0)
    revenue[rng.random(3 * n) < 0.05] = np.nan
    de = (rng.random(3 * n) < np.where(planted, 0.5, 0.3)).astype(float)
    return pd.DataFrame({"revenue": revenue, "country=DE": de}, index=np.arange(3 * n) + 1000), labels


def test_a_traits_difference_is_welchs_test_on_the_values():
    values, labels = _values()
    ev = trait_evidence(values, labels, {1: ["revenue"], 2: ["revenue"]}).set_index("cluster")
    for seg in (1, 2):
        r = values["revenue"].to_numpy()
        mine, rest = r[labels == seg], r[labels != seg]
        mine, rest = mine[~np.isnan(mine)], rest[~np.isnan(rest)]
        ref = stats.ttest_ind(mine, rest, equal_var=False)
        ci = ref.confidence_interval(0.95)
        row = ev.loc[seg]
        assert row["mean"] == pytest.approx(mine.mean()) and row["rest"] == pytest.approx(rest.mean())
        assert row["p"] == pytest.approx(ref.pvalue, rel=1e-6)
        assert (row["diff_low"], row["diff_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    # corrected together, as statsmodels does with the whole vector
    p = ev["p"].to_numpy()
    assert ev["q"].to_numpy() == pytest.approx(multipletests(p, method="fdr_bh")[1])


def test_a_categorys_share_is_the_score_test_with_newcombes_interval():
    values, labels = _values()
    row = trait_evidence(values, labels, {1: ["country=DE"]}).iloc[0]
    de = values["country=DE"].to_numpy()
    yes, n = int(de[labels == 1].sum()), int((labels == 1).sum())
    rest_yes, rest_n = int(de[labels != 1].sum()), int((labels != 1).sum())
    test = proportion.test_proportions_2indep(yes, n, rest_yes, rest_n, method="score", compare="diff")
    low, high = proportion.confint_proportions_2indep(yes, n, rest_yes, rest_n, method="newcomb", compare="diff")
    assert row["method"] == "share" and row["p"] == pytest.approx(test.pvalue)
    assert (row["diff_low"], row["diff_high"]) == pytest.approx((low, high))


def test_a_withheld_segment_is_in_nobodys_rest():
    values, labels = _values()
    labels = labels.copy()
    labels[:10] = 9  # ten users in a segment below the minimum
    ev = trait_evidence(values, labels, {1: ["revenue"], 9: ["revenue"]}, min_segment_size=30).set_index("cluster")
    r = values["revenue"].to_numpy()
    rest = r[(labels != 1) & (labels != 9)]
    assert ev.loc[1, "rest"] == pytest.approx(np.nanmean(rest))
    assert np.isnan(ev.loc[9, "p"]) and "withheld" in ev.loc[9, "reason"]


def test_trait_evidence_refuses_what_it_cannot_test():
    values, labels = _values()
    with pytest.raises(InputError, match="(?i)no feature .age."):
        trait_evidence(values, labels, {1: ["age"]})
    with pytest.raises(InputError, match="(?i)labels for"):
        trait_evidence(values, labels[:5], {1: ["revenue"]})
    with pytest.raises(InputError, match="(?i)correction"):
        trait_evidence(values, labels, {1: ["revenue"]}, correction="bonferroni")


def _card(values, labels, seg, name):
    """The card of one segment of the generated values, its top traits being revenue and the DE share."""
    means, overall = values[labels == seg].mean(), values.mean()
    summary = SegmentSummary(seg, name, int((labels == seg).sum()), float((labels == seg).mean()), withheld=False,
                             description="d", top=(("revenue", 0.6), ("country=DE", 0.3)),
                             traits=(Trait("revenue", 0.6, means["revenue"], overall["revenue"]),),
                             rules=(("Revenue > 100", 0.8, 0.7),))
    personas = pd.DataFrame({"cluster": [seg], "name": [name], "colour": ["#123456"], "narrative": [None]})
    ev = trait_evidence(values, labels, {seg: ["revenue", "country=DE"]})
    return persona_cards([summary], personas, ev)[0]


def test_a_planted_difference_is_claimed_and_no_difference_is_not():
    values, labels = _values(n=800, seed=3)
    planted = _card(values, labels, 1, "Big spenders")
    assert all(t.significant for t in planted.traits)
    assert "Compared with the other users, their revenue" in planted.narrative
    # loyalty perks follow the planted spend, with the figures they rest on
    assert any(a.startswith("Loyalty perks") and "Revenue" in why for a, why in planted.angles)
    values, labels = _values(n=800, seed=3, lift=False)
    flat = _card(values, labels, 1, "Everyone else")
    assert not any(t.significant for t in flat.traits)
    assert "does not hold up" in flat.narrative and "Compared with" not in flat.narrative
    assert flat.angles == ()


def test_no_lift_is_claimed_on_most_seeds():
    """Over 40 generated snapshots without a planted difference, a card claims one about as rarely as the
    5 % level allows (the two traits of one segment, corrected together)."""
    claims = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        labels = np.repeat([0, 1], 300)
        values = pd.DataFrame({"revenue": rng.gamma(2.0, 50.0, 600), "country=DE": (rng.random(600) < 0.3) * 1.0})
        claims += bool(trait_evidence(values, labels, {1: ["revenue", "country=DE"]})["significant"].any())
    assert claims <= 6  # binomial(40, 0.05): P(more than 6) < 0.01


def test_cards_of_a_run_tell_only_what_holds_up(sample_store, sample_run):
    cards = run_cards(sample_store, sample_run)
    assert len(cards) == len(sample_store.personas(sample_run))
    for card in cards:
        assert card.narrative.startswith(card.name) and not card.edited
        stated = [t for t in card.traits if t.significant]
        for t in stated:  # a stated difference is one whose interval leaves out zero
            assert t.diff_low > 0 or t.diff_high < 0
        assert len(card.angles) <= 3
        # every KPI named in the narrative is one that differs after correction
        for k in card.kpis:
            if f"{k.label[0].lower() + k.label[1:]} " in card.narrative.split("KPIs:")[-1]:
                assert k.significant
        assert json.loads(json.dumps(card.to_dict()))["name"] == card.name


def test_an_edited_narrative_is_kept_with_the_run_and_can_go_back(cli_store):
    run_id = cli("run", "sample", "--k", "4", store=cli_store).stdout.split()[-1]
    text = "Our <b>best</b> customers: =HYPERLINK(\"x\")"
    cli("personas", run_id, "--narrative", f"1={text}", store=cli_store)
    store = segcore.Store(cli_store)
    first = {c.cluster: c for c in run_cards(store, run_id)}
    assert first[1].narrative == text and first[1].edited == text and first[1].generated != text
    again = {c.cluster: c for c in run_cards(store, run_id)}  # a re-render keeps it
    assert again[1].narrative == text and again[0].edited is None
    shown = json.loads(cli("cards", run_id, "--json", store=cli_store).stdout)["cards"]
    assert [c["narrative_edited"] for c in shown if c["cluster"] == 1] == [True]
    cli("personas", run_id, "--generated-narrative", "1", store=cli_store)
    assert {c.cluster: c for c in run_cards(store, run_id)}[1].edited is None


def test_a_narrative_too_long_is_refused_and_nothing_changes(cli_store):
    run_id = cli("run", "sample", "--k", "3", store=cli_store).stdout.split()[-1]
    before = segcore.Store(cli_store).personas(run_id)
    done = cli("personas", run_id, "--narrative", "0=" + "x" * 3001, store=cli_store, check=False)
    assert done.returncode != 0 and "longer than 3000 characters" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert segcore.Store(cli_store).personas(run_id).equals(before)


def test_cards_say_withheld_and_nothing_more(cli_store):
    run_id = cli("run", "sample", "--k", "5", store=cli_store).stdout.split()[-1]
    sizes = segcore.Store(cli_store).assignments(run_id)["cluster"].value_counts()
    smallest = int(sizes.idxmin())
    out = json.loads(cli("cards", run_id, "--json", "--min-size", str(int(sizes.min()) + 1),
                         store=cli_store).stdout)
    card = next(c for c in out["cards"] if c["cluster"] == smallest)
    assert card["withheld"] and card["narrative"] == "" and card["traits"] == [] and card["kpis"] == []


def test_a_segment_made_entirely_of_one_category_has_that_trait():
    """100 % against 0 %: the score test and Newcombe's interval hold at the bounds (no 'not enough data')."""
    labels = np.repeat([0, 1], 200)
    values = pd.DataFrame({"device=desktop": (labels == 0).astype(float)})
    row = trait_evidence(values, labels, {0: ["device=desktop"]}).iloc[0]
    assert row["significant"] and row["diff_vs_rest"] == 1.0 and row["diff_low"] > 0.95
    assert pd.isna(row["reason"])


def test_a_users_table_alone_gets_cards_kpis_and_a_report(tmp_path, sample_store):
    """No KPI to compute (no log): the KPIs say what they would need, the cards and report still come."""
    import shutil

    from segcore.sample import SAMPLE_DIR

    store = tmp_path / "crm.duckdb"
    shutil.copy(sample_store.path, store)
    cli("import", str(SAMPLE_DIR / "users.parquet"), "--name", "crm", store=store)
    run_id = cli("run", "crm", "--k", "3", store=store).stdout.split()[-1]
    kpis = json.loads(cli("kpis", run_id, "--json", store=store).stdout)
    assert kpis["kpis"] == [] and len(kpis["not_available"]) == 7
    cards = json.loads(cli("cards", run_id, "--json", store=store).stdout)["cards"]
    assert all(c["kpis"] == [] and c["traits"] for c in cards)
    done = cli("report", run_id, "--out", str(tmp_path / "crm.html"), "--no-sweep", store=store)
    assert "0 KPIs" in done.stderr and "This dataset supports none of the KPIs" in \
        (tmp_path / "crm.html").read_text(encoding="utf-8")
