"""The house in order (issue 16): rooms of bounded size, SQL only in the store, a Store only in workflow and
the store, pages that read through cached loaders and write through named actions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.joinpath("segcore").rglob("*.py"), *ROOT.joinpath("dashboard").rglob("*.py")])


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imported(tree: ast.AST) -> set[str]:
    return {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | \
        {f"{'.' * n.level}{n.module or ''}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
        {f"{'.' * n.level}{n.module + '.' if n.module else ''}{a.name}" for n in ast.walk(tree)
         if isinstance(n, ast.ImportFrom) for a in n.names}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_450_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450


def test_only_the_store_speaks_sql():
    # library_versions reads duckdb's version string, nothing more
    allowed = {ROOT / "segcore" / "workflow" / "_runs.py"}
    speakers = [p for p in SOURCES if "duckdb" in {i.split(".")[0] for i in _imported(_tree(p))}
                and "store" not in p.relative_to(ROOT).parts and p not in allowed]
    assert speakers == []
    runs = (ROOT / "segcore" / "workflow" / "_runs.py").read_text(encoding="utf-8")
    assert "duckdb.connect" not in runs and "execute(" not in runs


def test_only_workflow_and_the_store_take_a_store():
    takers = []
    for path in SOURCES:
        parts = path.relative_to(ROOT).parts
        if parts[0] != "segcore" or parts[1] in ("store", "workflow"):
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                annotations = [a.annotation for a in node.args.args + node.args.kwonlyargs if a.annotation]
                if any("Store" in ast.unparse(a) for a in annotations):
                    takers.append(f"{path.name}:{node.name}")
    assert takers == []


def test_pages_read_through_loaders_and_write_through_actions():
    for path in ROOT.joinpath("dashboard", "views").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "data.store()" not in text, path.name
        assert "import plotly" not in text, path.name  # figures are drawn in components
        assert "session_state[\"" not in text and "session_state.get(\"" not in text, path.name  # keys.*


def test_components_draw_and_know_nothing_of_state():
    imported = _imported(_tree(ROOT / "dashboard" / "components.py"))
    assert not {i for i in imported if i.endswith(("state", "data", "actions"))}


def test_each_version_keyed_loader_has_a_cache_of_its_own(monkeypatch):
    from dashboard import data

    version = {"v": "1"}
    monkeypatch.setattr(data, "version", lambda dataset: version["v"])
    calls = []

    @data.by_dataset()
    def first(dataset, n):
        calls.append(("first", dataset, n))
        return ("first", n)

    @data.by_dataset()
    def second(dataset, n):
        calls.append(("second", dataset, n))
        return ("second", n)

    try:
        assert first("d", 1) == ("first", 1) and second("d", 1) == ("second", 1)  # one source, two caches
        assert first("d", 1) == ("first", 1) and len(calls) == 2  # the second call is served from the cache
        version["v"] = "2"  # the dataset was imported again
        assert first("d", 1) == ("first", 1) and len(calls) == 3
    finally:
        first.clear()
        second.clear()


def test_a_selection_reads_category_shares_as_percentages_and_numbers_in_their_units():
    import pandas as pd

    from segcore.charts import contrast_rows

    # 2,581 of 2,677 selected users hold the value: 96.4 %, not the "1%" a printf format made of 0.964
    diff = pd.DataFrame({"selected": [2581 / 2677, 12.5, 0.397, -1.0], "reference": [0.25, 4.0, 0.1, 2.0],
                         "z": [2.1, 1.3, 0.8, -0.5]}, index=["country=DE", "n_sessions", "device=mobile", "trend"])
    rows = contrast_rows(diff)
    assert rows["Selected"].tolist() == ["96.4%", "12.5", "39.7%", "-1"]
    assert rows["Everyone"].tolist() == ["25.0%", "4", "10.0%", "2"]
    # how many times the reference's value: 12.5 sessions against 4 is 3.1x; no ratio of a negative mean
    assert rows["Ratio"].tolist() == ["3.9x", "3.1x", "4x", ""]
    assert "Rest of Night owls" in contrast_rows(diff, "Rest of Night owls").columns


def test_charts_carry_their_values():
    import pandas as pd

    from segcore.charts import crosstab_heatmap, kpi_grid

    crosstab = pd.DataFrame([[90, 10], [5, 45]], index=["A1", "A2"], columns=["B1", "B2"])
    assert [list(row) for row in crosstab_heatmap(crosstab).data[0].text] == [["90 · 90%", "10 · 10%"],
                                                                             ["5 · 10%", "45 · 90%"]]
    kpis = pd.DataFrame({"persona": ["All users", "Big", "Small"], "conversion_rate": [0.1, 0.125, 0.05],
                         "revenue_per_user": [10.0, 20.5, 2.25]})
    fig = kpi_grid(kpis, {}, {"conversion_rate": "Conversion", "revenue_per_user": "Revenue per user"},
                   {"conversion_rate": "rate", "revenue_per_user": "money"})
    bars = [t for t in fig.data if t.type == "bar"]
    assert [list(t.text) for t in bars] == [["12.5%", "5.0%"], ["20.50", "2.25"]]
    # each chart's all-users baseline is a dashed line at its value, named once, in the legend
    lines = [t for t in fig.data if t.type == "scatter"]
    assert [set(t.y) for t in lines] == [{0.1}, {10.0}] and [t.showlegend for t in lines] == [True, False]
    assert not fig.layout.annotations or all("all users" not in a.text for a in fig.layout.annotations)


def test_pca_axes_say_what_grows_along_them():
    from segcore.charts import pca_axis_titles

    info = {"explained_variance_ratio": [0.31, 0.12],
            "loadings": [[["revenue", 0.52], ["recency_days", -0.41]], [["night_share", 0.7]]]}
    assert pca_axis_titles(info) == ("Axis 1 (31% of the variance): Revenue ↑, Days since last activity ↓",
                                     "Axis 2 (12% of the variance): Share of activity at night (22-05 h) ↑")
    # a PCA stored before loadings were kept: the shares alone
    assert pca_axis_titles({"explained_variance_ratio": [0.31, 0.12]}) == ("Axis 1 (31% of the variance)",
                                                                          "Axis 2 (12% of the variance)")


def test_the_kpi_table_fits_the_page_with_values_and_multiples():
    import pandas as pd

    from segcore.charts import kpi_table

    kpis = pd.DataFrame({"persona": ["Big", "All users", "Small"], "users": [300, 1000, 700],
                         "share": [0.3, 1.0, 0.7], "conversion_rate": [0.25, 0.1, float("nan")],
                         "conversion_rate_lift": [2.5, 1.0, float("nan")], "revenue_per_user": [30.0, 10.0, 1.5],
                         "revenue_per_user_lift": [3.0, 1.0, 0.15]})
    table = kpi_table(kpis, {"conversion_rate": "Conversion", "revenue_per_user": "Revenue per user"},
                      {"conversion_rate": "rate", "revenue_per_user": "money"})
    # one column per persona, all users first: a handful of columns however many KPIs there are
    assert list(table.columns) == ["KPI", "All users", "Big", "Small"]
    assert table.set_index("KPI").to_dict("index") == {
        "Users": {"All users": "1,000 (100%)", "Big": "300 (30%)", "Small": "700 (70%)"},
        "Conversion": {"All users": "10.0%", "Big": "25.0% (2.50x)", "Small": "–"},
        "Revenue per user": {"All users": "10.00", "Big": "30.00 (3.00x)", "Small": "1.50 (0.15x)"}}


def test_kpi_figures_carry_their_intervals_and_mark_what_holds_up():
    import pandas as pd

    from segcore.charts import kpi_grid, kpi_table

    kpis = pd.DataFrame({"persona": ["Big", "Small", "Tiny", "All users"], "users": [600, 380, 20, 1000],
                         "share": [0.6, 0.38, 0.02, 1.0], "conversion_rate": [0.25, 0.05, 0.1, 0.17],
                         "conversion_rate_lift": [1.47, 0.29, 0.59, 1.0]})
    evidence = pd.DataFrame([
        {"segment": "Big", "kpi": "conversion_rate", "value": 0.25, "ci_low": 0.22, "ci_high": 0.29,
         "diff_vs_rest": 0.2, "significant": True, "reason": None},
        {"segment": "Small", "kpi": "conversion_rate", "value": 0.05, "ci_low": 0.03, "ci_high": 0.08,
         "diff_vs_rest": -0.2, "significant": True, "reason": None},
        {"segment": "Tiny", "kpi": "conversion_rate", "value": float("nan"), "ci_low": float("nan"),
         "ci_high": float("nan"), "diff_vs_rest": float("nan"), "significant": False,
         "reason": "not enough data: 20 users"},
        {"segment": "All users", "kpi": "conversion_rate", "value": 0.17, "ci_low": 0.15, "ci_high": 0.19,
         "diff_vs_rest": float("nan"), "significant": False, "reason": None}])
    table = kpi_table(kpis, {"conversion_rate": "Conversion"}, {"conversion_rate": "rate"}, evidence=evidence)
    assert table.set_index("KPI").loc["Conversion"].to_dict() == {
        "All users": "17.0%", "Big": "25.0% (1.47x) ▲", "Small": "5.0% (0.29x) ▼", "Tiny": "not enough data"}
    bars = next(t for t in kpi_grid(kpis, {}, {"conversion_rate": "Conversion"}, {"conversion_rate": "rate"},
                                    evidence=evidence).data if t.type == "bar")
    assert list(bars.text) == ["25.0% ▲", "5.0% ▼", "not enough data"] and list(bars.y) == [0.25, 0.05, 0.0]
    # 95 % intervals as error bars around each value (none where there is not enough data)
    assert list(bars.error_y.array)[:2] == pytest.approx([0.04, 0.03]) and bars.error_y.visible
    assert list(bars.error_y.arrayminus)[:2] == pytest.approx([0.03, 0.02])
