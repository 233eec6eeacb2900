"""Profiles, persona suggestions, KPIs and exports: hand-worked cases and round trips."""

import io
import json

import numpy as np
import pandas as pd
import pytest

import segcore
from segcore.errors import InputError
from segcore.export import format_from_path, to_bytes, withhold_small
from segcore.kpi import segment_kpis
from segcore.profile import describe, profile_clusters


def test_profile_by_hand():
    values = pd.DataFrame({"revenue": [0.0, 0.0, 10.0, 30.0], "night_share": [1.0, 1.0, 0.0, 0.0]})
    prof = profile_clusters(values, [0, 0, 1, 1])
    assert prof.sizes["size"].tolist() == [2, 2] and prof.sizes["share"].tolist() == [0.5, 0.5]
    assert prof.means.loc[1, "revenue"] == 20 and prof.medians.loc[1, "revenue"] == 20
    pop_std = np.std([0, 0, 10, 30])
    assert prof.z.loc[1, "revenue"] == pytest.approx((20 - 10) / pop_std)
    assert prof.z.loc[0, "night_share"] == pytest.approx(1.0)
    assert prof.top[0][0][0] == "night_share"
    assert prof.descriptions[0] == "low spend; at night"
    assert prof.descriptions[1] == "high spend; by day"


def test_describe_without_differences():
    assert describe([]) == "close to the average user on every feature"


def test_suggested_personas_on_the_sample(sample_store, sample_run):
    personas = sample_store.personas(sample_run)
    assert personas["name"].is_unique and len(personas) == 6
    assert personas["colour"].str.fullmatch(r"#[0-9A-F]{6}").all()
    names = set(personas["name"])
    # the planted behaviours surface as names a marketer recognises
    assert {"Lapsed users", "New explorers", "Night owls", "High spenders", "Bargain hunters"} <= names


def test_kpis_by_hand():
    frame = pd.DataFrame({
        "persona": ["A", "A", "B"], "ad_impressions": [10, 0, 10], "ad_clicks": [1, 0, 3],
        "n_sessions": [2, 2, 4], "conversion_rate": [0.5, 0.0, 0.25], "revenue": [10.0, 0.0, 50.0],
        "recency_days": [5, 90, 10]})
    k = segment_kpis(frame, churn_days=60).set_index("segment")
    assert k.loc["A", "ctr"] == pytest.approx(0.1) and k.loc["B", "ctr"] == pytest.approx(0.3)
    assert k.loc["A", "conversion_rate"] == pytest.approx(1 / 4)
    assert k.loc["All users", "conversion_rate"] == pytest.approx(2 / 8)
    assert k.loc["A", "revenue_per_user"] == 5 and k.loc["All users", "revenue_per_user"] == 20
    assert k.loc["A", "churn_rate"] == 0.5 and k.loc["B", "churn_rate"] == 0
    assert k.loc["B", "ctr_lift"] == pytest.approx(0.3 / 0.2)
    with_flag = segment_kpis(frame.assign(churned=[False, False, True])).set_index("segment")
    assert with_flag.loc["B", "churn_rate"] == 1.0  # the dataset's flag wins over inactivity


def test_run_kpis_use_saved_names(sample_store, sample_run):
    k = segcore.run_kpis(sample_store, sample_run).table
    assert set(k["segment"]) == set(sample_store.personas(sample_run)["name"]) | {"All users"}
    assert k.loc[k["segment"] == "All users", "users"].item() == 20_000


@pytest.mark.parametrize("ext", ["csv", "parquet", "json"])
def test_export_round_trips(sample_store, sample_run, tmp_path, ext):
    out = tmp_path / f"seg.{ext}"
    frame, report = segcore.export_run(sample_store, sample_run, out, columns=["revenue", "recency_days"])
    assert report.withheld.empty and report.rows == 20_000
    if ext == "csv":
        back = pd.read_csv(out, dtype={"user_id": str})
    elif ext == "parquet":
        back = pd.read_parquet(out)
    else:
        back = pd.DataFrame(json.loads(out.read_text()))
    assert list(back.columns) == ["user_id", "cluster", "persona", "revenue", "recency_days"]
    assert back["user_id"].tolist() == frame["user_id"].tolist()  # leading zeros survive
    assert back["user_id"].str.startswith("0").any()
    assert back["persona"].tolist() == frame["persona"].tolist()
    assert np.allclose(back["revenue"].astype(float), frame["revenue"])


def test_small_segments_are_withheld():
    seg = pd.DataFrame({"user_id": list("abcdef"), "cluster": [0, 0, 0, 0, 1, 1],
                        "persona": ["Big"] * 4 + ["Tiny"] * 2})
    kept, withheld = withhold_small(seg, 3)
    assert set(kept["persona"]) == {"Big"} and withheld.to_dict("records") == [
        {"cluster": 1, "persona": "Tiny", "size": 2}]
    with pytest.raises(InputError):
        withhold_small(seg, 0)


def test_export_format_errors():
    with pytest.raises(InputError, match=r"\.csv, \.parquet or \.json"):
        format_from_path("x.xlsx")
    with pytest.raises(InputError):
        to_bytes(pd.DataFrame(), "xml")


def test_pca_projection_is_stored(store_copy):
    run_id = segcore.create_run(store_copy, "sample", 3, seed=2)
    coords, info = segcore.run_projection(store_copy, run_id, "pca")
    assert len(coords) == 20_000 and set(coords.columns) == {"user_id", "x", "y"}
    assert 0 < info["explained_variance_ratio"][1] <= info["explained_variance_ratio"][0] < 1
    again, _ = segcore.run_projection(store_copy, run_id, "pca")  # read back, not recomputed
    assert again.equals(coords)


def test_small_segments_are_withheld_from_every_kpi_and_from_the_baseline():
    frame = pd.DataFrame({"persona": ["Big"] * 60 + ["Tiny"] * 3, "revenue": [1.0] * 60 + [100.0] * 3,
                          "ad_impressions": 10, "ad_clicks": 1})
    k = segment_kpis(frame, min_segment_size=50).set_index("segment")
    assert k.loc["Tiny", "withheld"] and k.loc["Tiny", "users"] == 3
    assert np.isnan(k.loc["Tiny", "revenue_per_user"]) and np.isnan(k.loc["Tiny", "ctr_lift"])
    assert not k.loc["Big", "withheld"] and k.loc["Big", "revenue_per_user"] == 1.0
    # the baseline is over the users shown: with everyone in it (360 / 63), baseline x 63 - Big x 60 gave
    # the withheld segment's revenue away (issue 15)
    assert k.loc["All users", "revenue_per_user"] == 1.0 and k.loc["All users", "users"] == 60


def test_a_matrix_held_by_the_caller_gives_the_same_answers(sample_store, sample_run):
    """The app builds a run's matrix once and passes it on; results must not depend on that."""
    matrix = segcore.run_matrix(sample_store, sample_run)
    held = segcore.run_profiles(sample_store, sample_run, matrix=matrix)
    fresh = segcore.run_profiles(sample_store, sample_run)
    pd.testing.assert_frame_equal(held.z, fresh.z)
    pd.testing.assert_frame_equal(segcore.workflow.run_silhouettes(sample_store, sample_run, matrix=matrix),
                                  segcore.workflow.run_silhouettes(sample_store, sample_run))


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(tmp_path):
    from segcore.export import to_bytes, write

    frame = pd.DataFrame({"persona": ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3",
                                      "\tTab", "\rCR", "Plain", "-5", "+1.5e3"],
                          "revenue": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]})
    import csv

    rows = list(csv.reader(io.StringIO(to_bytes(frame, "csv").decode("utf-8"), newline="")))
    back = pd.DataFrame(rows[1:], columns=rows[0])
    assert back["persona"].tolist() == ["'=HYPERLINK(\"http://x\",\"y\")", "'+cmd|' /C calc'!A0", "'@SUM(1)", "'-2+3",
                                        "'\tTab", "'\rCR", "Plain", "-5", "+1.5e3"]
    assert back["revenue"].astype(float).tolist() == frame["revenue"].tolist()  # numbers unchanged
    out = tmp_path / "seg.csv"
    write(frame, out)
    assert pd.read_csv(out, dtype={"persona": str})["persona"].iloc[0].startswith("'=")
    # Parquet and JSON keep values as they are: no spreadsheet runs them
    assert pd.read_parquet(io.BytesIO(to_bytes(frame, "parquet")))["persona"].iloc[0].startswith("=")
    # a column name from the data is a cell of the header row, neutralised the same way
    header = next(csv.reader(io.StringIO(to_bytes(frame.rename(columns={"revenue": "=1+1"}), "csv").decode())))
    assert header == ["persona", "'=1+1"]


def test_exports_round_to_what_the_figures_support_and_name_columns_as_chosen(store_copy, sample_run):
    from segcore.features import Currency

    store = store_copy
    run_id = store.list_runs("sample")["run_id"].iloc[0]
    columns = ["revenue", "night_share", "avg_session_minutes", "n_sessions"]
    full, _ = segcore.export_run(store, run_id, columns=columns, rounded=False)
    assert (full["revenue"].round(2) != full["revenue"]).any()  # the stored figures have more decimals
    store.set_currency(Currency("€", 1))
    assert store.currency() == Currency("€", 1)  # kept in the store
    rounded, _ = segcore.export_run(store, run_id, columns=columns)
    # money to the currency's decimals, shares to 4, other measures to 2, counts as they are
    assert rounded["revenue"].tolist() == full["revenue"].round(1).tolist()
    assert rounded["night_share"].tolist() == full["night_share"].round(4).tolist()
    assert rounded["avg_session_minutes"].tolist() == full["avg_session_minutes"].round(2).tolist()
    assert rounded["n_sessions"].tolist() == full["n_sessions"].tolist()
    described, _ = segcore.export_run(store, run_id, columns=["revenue"], descriptions=True, headers="labels")
    assert list(described.columns) == ["User id", "Segment", "Persona", "Description", "Revenue (€)"]
    personas = store.personas(run_id).set_index("name")["description"]
    assert (described["Description"] == described["Persona"].map(personas)).all()
    with pytest.raises(InputError, match="headers='pretty' should be one of raw, labels"):
        segcore.export_run(store, run_id, headers="pretty")


@pytest.mark.parametrize("symbol, decimals, words", [
    ("12", 2, "without digits"), ("<b>", 2, "without digits or quotes"), ("EURO$$", 2, "at most 5"),
    ("€", 5, "from 0 to 4"), ("€", True, "from 0 to 4")])
def test_a_currency_that_cannot_be_written_is_refused(symbol, decimals, words):
    from segcore.features import Currency

    with pytest.raises(InputError, match=words):
        Currency(symbol, decimals)


def test_money_reads_as_the_currency_writes_it():
    from segcore.features import Currency, format_value

    assert Currency("€", 2).format(1234.5) == "€1,234.50" and Currency("£", 0).format(-3.6) == "-£4"
    assert format_value(1234.5, "money") == "1,234.50" and format_value(0.1234, "share") == "12.3%"
    assert format_value(float("nan"), "money") == "n/a" and format_value(1234.5) == "1,234"
