"""The report to share (issue 18): one self-contained HTML file with every section, nothing loaded from the
network, no user or data text unescaped, small segments withheld; opened in headless Chromium offline."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from test_cli import segcore as cli

import segcore
from segcore.report import render_html, write_html
from segcore.workflow import build_report

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
SECTIONS = ("data", "method", "map", "profiles", "personas", "kpis", "fairness")
HOSTILE_NAME = "</script><script>alert('name')</script>"
HOSTILE_TEXT = "<img src=x onerror=alert('narrative')> & =HYPERLINK(\"http://evil\")"


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory, sample_store, sample_run):
    """A copy of the sample store whose first persona has a name and a narrative that are markup."""
    path = tmp_path_factory.mktemp("report") / "report.duckdb"
    shutil.copy(sample_store.path, path)
    store = segcore.Store(path)
    store.update_personas(sample_run, {0: {"name": HOSTILE_NAME, "narrative": HOSTILE_TEXT}})
    return store


@pytest.fixture(scope="module")
def report(hostile_store, sample_run):
    return build_report(hostile_store, sample_run)


@pytest.fixture(scope="module")
def page(report):
    return render_html(report)


def test_every_section_is_there_with_its_charts(report, page):
    for key in SECTIONS:
        assert f'<section id="{key}">' in page
    # the map, profiles, KPIs, the sweep's three charts and one fairness chart per attribute
    for name in ("map", "heatmap", "sizes", "kpis", "elbow", "silhouette", "sizes_by_k"):
        assert name in report.figures
    assert page.count('class="plotly-graph-div"') == len(report.figures)
    assert len(report.cards) == report.run.k and all(not c.withheld for c in report.cards)
    # the sweep says where the run's k stands
    assert report.sweep is not None and f"k={report.sweep.recommended_k}" in page


def test_nothing_is_loaded_from_the_network(page):
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()) == 1  # plotly's JavaScript inlined once for every chart
    assert not re.search(r"""<script[^>]+src=|<link[^>]+href=|<img[^>]+src=["']?https?:""", page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_no_user_or_data_text_reaches_the_html_unescaped(page):
    assert HOSTILE_NAME not in page and HOSTILE_TEXT not in page
    assert "<img src=x" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in page  # shown as text
    # inside the charts' JSON, plotly writes < and > as \u003c and \u003e
    assert "alert('name')</script>" not in page


def test_a_small_segment_is_withheld_everywhere(hostile_store, sample_run):
    sizes = hostile_store.assignments(sample_run)["cluster"].value_counts()
    small = int(sizes.idxmin())
    name = hostile_store.personas(sample_run).set_index("cluster").loc[small, "name"]
    rep = build_report(hostile_store, sample_run, min_segment_size=int(sizes.min()) + 1, sweep=False)
    page = render_html(rep)
    assert [s.cluster for s in rep.withheld] == [small]
    card = next(c for c in rep.cards if c.cluster == small)
    assert card.withheld and not card.traits and not card.kpis and not card.narrative
    assert name not in set(rep.kpis.table.loc[~rep.kpis.table["withheld"], "segment"])
    assert small not in set(rep.figures["heatmap"].data[0].y) and name not in set(rep.figures["heatmap"].data[0].y)
    assert all(t.name.split(" (")[0] != name for t in rep.figures["map"].data)
    assert f"{sizes.min():,} users" in rep.map_note or "not on the map" in rep.map_note
    assert "Withheld (fewer than" in page and "No sweep of k was asked for." in page


def test_the_command_line_writes_the_report(tmp_path, sample_store, sample_run):
    store = tmp_path / "s.duckdb"
    shutil.copy(sample_store.path, store)
    out = tmp_path / "shared.html"
    done = cli("report", sample_run, "--out", str(out), "--no-sweep", store=store)
    assert done.stdout.strip() == str(out) and "opens offline" in done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = cli("report", sample_run, "--out", str(tmp_path / "shared.pdf"), store=store, check=False)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and ".html" in bad.stderr
    assert not (tmp_path / "shared.pdf").exists()


def test_a_failed_write_leaves_no_half_report(tmp_path, report, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("the report sent last week")

    def full_disk(src, dst):
        raise OSError("No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)  # the file is written, then cannot take the old one's place
    with pytest.raises(OSError):
        write_html(report, out)
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"] and out.read_text() == "the report sent last week"


@pytest.mark.browser
def test_the_report_opens_offline_in_chromium(tmp_path, report):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
        pytest.skip("chromium not installed")
    if not os.environ.get("CI"):
        pytest.importorskip("playwright")
    from playwright.sync_api import expect, sync_playwright

    path = write_html(report, tmp_path / "report.html")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1300, "height": 900}, offline=True)
        requests, problems = [], []
        # every request but the file itself is refused, and recorded
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                      else (requests.append(route.request.url), route.abort()))
        pg = context.new_page()
        pg.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        pg.on("pageerror", lambda e: problems.append(str(e)))
        pg.goto(path.as_uri())
        expect(pg.locator(".plotly-graph-div .main-svg").first).to_be_visible(timeout=30_000)
        for key in SECTIONS:
            expect(pg.locator(f"section#{key} h2")).to_be_visible()
        # every chart drawn, not just its div
        expect(pg.locator(".plotly-graph-div")).to_have_count(len(report.figures))
        for chart in pg.locator(".plotly-graph-div").all():
            expect(chart.locator(".main-svg").first).to_be_attached()
        # the hostile name is shown as text, and no script of it ran
        expect(pg.locator("section#personas .card h3").first).to_have_text(HOSTILE_NAME)
        pg.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert requests == [] and problems == []
