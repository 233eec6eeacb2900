"""The real app in a real browser: Playwright drives Debian's chromium against `streamlit run`.

Walks every page from a fresh store (seeded on first start), runs a sweep, fits a run, selects users
on the map, renames a persona in the data editor, downloads an export and reads it back. A screenshot
of every page lands in test-artifacts/. Needs /usr/bin/chromium: skipped without it, except under CI
where a missing browser is a failure.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)

if not os.environ.get("CI"):  # playwright comes with the test extra; a machine without it skips, CI fails
    pytest.importorskip("playwright", reason="playwright not installed (pip install -e '.[test]')")

from _app_server import app_server  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

_STORE_OF: dict[str, str] = {}


def server_store(url: str) -> str:
    """The store file the server at ``url`` was started on."""
    return _STORE_OF[url]


_UPLOADS_OF: dict[str, Path] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("browser") / "persona_lab.duckdb"
    uploads = tmp_path_factory.mktemp("uploads")
    # Started the way the README's `make run` starts it: `segcore app` on a new store (seeded on start); its
    # temporary files go to a folder of its own, and a closed session ends after 2 s instead of 2 minutes.
    with (tmp_path_factory.mktemp("log") / "streamlit.log").open("w") as log, \
            app_server(store, log=log, umap_worker=True,
                       env={"TMPDIR": str(uploads), "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2"}) as url:
        _STORE_OF[url] = str(store)
        _UPLOADS_OF[url] = uploads
        yield url


def _uploaded_files(url: str) -> list[Path]:
    """The uploads the server at ``url`` holds on disk."""
    return [p for p in _UPLOADS_OF[url].rglob("*") if p.is_file() and "persona_upload_" in str(p)]


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _session(browser, url: str) -> Page:
    """A new browser context: a separate Streamlit session, as a second user would have."""
    pg = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
    pg.goto(url)
    _settle(pg)
    return pg


@pytest.fixture(scope="module")
def page(server, browser):
    yield _session(browser, server)


def _settle(pg: Page, timeout: float = 240_000) -> None:
    """Wait until the script has finished and nothing is still loading (Streamlit's own e2e recipe)."""
    app = pg.locator("[data-testid=stApp]")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout)
    pg.wait_for_timeout(250)  # let a rerun triggered by the last action begin
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout)
    expect(pg.locator("[data-testid=stSkeleton]")).to_have_count(0, timeout=timeout)
    expect(pg.locator("[data-testid=stStatusWidget]")).to_have_count(0, timeout=timeout)


def _check(pg: Page, name: str) -> None:
    """No exception or error on the page; keep a screenshot for people to look at."""
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    expect(pg.locator("[data-testid=stException]")).to_have_count(0)
    expect(pg.locator("[data-testid=stAlertContentError]")).to_have_count(0)


def _goto(pg: Page, title: str) -> None:
    pg.locator("[data-testid=stSidebarNav] a").filter(has_text=title).first.click()
    _settle(pg)
    expect(pg.locator("h1").filter(has_text=title).first).to_be_visible()


def test_walk_from_sample_to_downloaded_personas(page: Page):
    pg = page
    # Data: the seeded sample, with its e-mails hashed
    # grid cells live in the data grid's (hidden) accessibility table: attached, not "visible"
    expect(pg.get_by_text("bundled sample").first).to_be_attached()
    expect(pg.get_by_text("email hashed").first).to_be_attached()
    _check(pg, "1_data")

    _goto(pg, "Features")
    expect(pg.get_by_text("Clustering matrix: 20,000 users").first).to_be_visible()
    _check(pg, "2_features")

    _goto(pg, "Segment")
    pg.get_by_role("button", name="Compare k").click()
    _settle(pg)
    expect(pg.get_by_text("Recommended: k = ").first).to_be_visible()
    expect(pg.locator("[data-testid=stPlotlyChart]")).to_have_count(3)  # elbow, silhouette, sizes per k
    expect(pg.get_by_text("Segment sizes at each k").first).to_be_visible()
    pg.get_by_role("button", name="Fit ").click()
    _settle(pg)
    expect(pg.get_by_text("Fitted ").first).to_be_visible()
    _check(pg, "3_segment")

    _goto(pg, "Explore")
    chart = pg.locator("[data-testid=stPlotlyChart]").first
    expect(chart.locator(".nsewdrag").first).to_be_visible(timeout=60_000)
    chart.hover()
    chart.locator(".modebar-btn[data-val=select]").first.click()
    box = chart.locator(".nsewdrag").first.bounding_box()
    pg.mouse.move(box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.15)
    pg.mouse.down()
    pg.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=8)
    pg.mouse.up()
    _settle(pg)
    heading = pg.get_by_text("selected users").first
    expect(heading).to_be_visible(timeout=60_000)
    # every user inside the box, not only the 2,000 dots drawn over the shading of all 20,000
    assert int(heading.inner_text().split()[0].replace(",", "")) > 2_000
    expect(pg.get_by_text("What they share").first).to_be_attached()
    expect(pg.get_by_role("button", name=re.compile(r"Download the [\d,]+ selected users \(CSV\)"))).to_be_visible()
    # the PCA axes say which features grow along them
    expect(chart.locator(".xtitle")).to_contain_text("Axis 1 (")
    _check(pg, "4_explore")
    # the same selection against the rest of the segment most of it falls in
    pg.get_by_text("The rest of ").first.click()
    _settle(pg)
    expect(pg.get_by_text("against the segment's other users").first).to_be_visible()
    _check(pg, "4_explore_rest_of_segment")

    _goto(pg, "Profiles")
    expect(pg.get_by_text("How each segment differs").first).to_be_visible()
    _check(pg, "5_profiles")
    # the silhouette blades, each named with its mean on the axis
    knife = pg.locator("[data-testid=stPlotlyChart]").nth(2)
    knife.scroll_into_view_if_needed()
    expect(knife.locator(".ytick").first).to_contain_text("(0.")
    _check(pg, "5b_profiles_silhouette")

    _goto(pg, "Personas")
    grid = pg.locator("[data-testid=stDataFrame]").first
    expect(grid).to_be_visible()
    # The grid is a canvas: click the first data cell (column "Segment"), then move right with the
    # keyboard and open each cell with Enter until one can be edited: "Persona name", the first
    # editable column. Step by step, because a loaded machine has dropped the first key press after
    # the click (CI: the editor opened read-only on "Users").
    box = grid.bounding_box()
    pg.mouse.click(box["x"] + 20, box["y"] + 35 + 17)
    editor = pg.locator("textarea.gdg-input")
    for _ in range(4):
        pg.keyboard.press("ArrowRight")
        pg.keyboard.press("Enter")
        try:
            expect(editor).to_be_editable(timeout=3000)
            break
        except AssertionError:
            pg.keyboard.press("Escape")
    expect(editor).to_be_editable()
    editor.fill("Weekend Regulars")
    editor.press("Enter")
    _settle(pg)
    pg.get_by_role("button", name="Save personas").click()
    _settle(pg)
    expect(pg.get_by_text("Saved. Every page now uses these names.")).to_be_visible()
    # each persona's colour picker is labelled with its name
    expect(pg.locator("[data-testid=stColorPicker]").filter(has_text="Weekend Regulars")).to_have_count(1)
    # name and pin the run: the run picker shows it
    pg.get_by_label("Name of this run", exact=True).fill("Spring launch")
    pg.get_by_text("Pin: open this run first").click()
    pg.get_by_role("button", name="Save", exact=True).click()
    _settle(pg)
    picker = pg.locator("[data-testid=stSidebar]").get_by_role("combobox", name="Segmentation run")
    expect(picker).to_have_value(re.compile("Spring launch"))
    # one card per persona, with what sets it apart and the angles to try
    expect(pg.get_by_text("Angles to try")).to_have_count(len(pg.locator("[data-testid=stColorPicker]").all()))
    _check(pg, "6_personas")

    _goto(pg, "KPIs")
    expect(pg.get_by_text("CTR, all users").first).to_be_visible()
    # the differences that hold up after correction are marked, with 95 % error bars
    expect(pg.get_by_text("correcting all").first).to_be_visible()
    expect(pg.locator("[data-testid=stPlotlyChart] .errorbar").first).to_be_attached()
    _check(pg, "7_kpis")

    _goto(pg, "Fairness")
    expect(pg.get_by_text("four-fifths rule").first).to_be_visible()
    expect(pg.locator("[data-testid=stPlotlyChart]")).to_have_count(2)
    _check(pg, "8_fairness")

    _goto(pg, "Export")
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download CSV").click()
    data = Path(dl.value.path()).read_bytes()
    exported = pd.read_csv(io.BytesIO(data), dtype={"user_id": str})
    assert {"user_id", "cluster", "persona"} <= set(exported.columns)
    assert len(exported) == 20_000
    assert "Weekend Regulars" in set(exported["persona"])
    _settle(pg)
    _check(pg, "9_export")

    # the report to share, one click from the sidebar of any page: every section, the new name, offline
    with pg.expect_download(timeout=240_000) as dl:
        pg.locator("[data-testid=stSidebar]").get_by_role("button", name="Report to share (HTML)").click()
    assert dl.value.suggested_filename.endswith(".html")
    report = Path(dl.value.path()).read_text(encoding="utf-8")
    for section in ("data", "method", "map", "profiles", "personas", "kpis", "fairness"):
        assert f'<section id="{section}">' in report
    assert "<h3>Weekend Regulars</h3>" in report and "default-src 'none'" in report


def test_two_sessions_and_a_cli_import_share_one_store(server, browser, tmp_path):
    """One user sweeps, another exports, and a command-line job imports, all at once on one store."""
    sweeper, exporter = _session(browser, server), _session(browser, server)
    _goto(sweeper, "Segment")
    _goto(exporter, "Export")
    events = tmp_path / "events.csv"
    pd.read_parquet(ROOT / "sample_data" / "events.parquet").to_csv(events, index=False)
    env = {**os.environ, "SEGCORE_STORE": server_store(server)}

    sweeper.get_by_role("button", name="Compare k").click()
    job = subprocess.Popen([sys.executable, "-m", "segcore.cli", "import", str(events), "--name", "concurrent",
                            "--kind", "events"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with exporter.expect_download(timeout=240_000) as dl:
        exporter.get_by_role("button", name="Download CSV").click()
    exported = pd.read_csv(dl.value.path(), dtype={"user_id": str})
    out, err = job.communicate(timeout=300)
    _settle(sweeper)
    _settle(exporter)

    assert job.returncode == 0, err
    assert "locked" not in err.lower() and "busy" not in err.lower()
    assert "dataset 'concurrent': 20,000 users from 1,064,375 events" in out
    assert len(exported) == 20_000
    expect(sweeper.get_by_text("Recommended: k = ").first).to_be_visible()
    for pg, name in ((sweeper, "concurrent_sweep"), (exporter, "concurrent_export")):
        _check(pg, name)
        expect(pg.get_by_text("locked").first).to_have_count(0)

    import segcore

    s = segcore.Store(server_store(server))
    assert set(s.list_datasets()["name"]) >= {"sample", "concurrent"}
    assert len(s.read_table("concurrent")) == 20_000 and len(s.read_table("sample")) == 20_000


def test_import_an_event_log_in_the_browser(server, browser, tmp_path):
    """Upload a semicolon, Latin-1, day/month event log; the roles are proposed from contents."""
    from test_app import _event_log

    pg = _session(browser, server)
    f = tmp_path / "kassen export.csv"
    f.write_bytes(_event_log())
    pg.locator("[data-testid=stFileUploader] input[type=file]").first.set_input_files(str(f))
    _settle(pg)
    expect(pg.get_by_text("semicolon-separated, latin-1, decimal comma").first).to_be_visible()
    pg.get_by_text("an event", exact=True).click()
    _settle(pg)
    expect(pg.get_by_text("Timestamps read as format %d/%m/%Y %H:%M").first).to_be_visible()
    assert [p.name for p in _uploaded_files(server)] == ["kassen export.csv"]
    pg.get_by_role("button", name="Import").click()
    _settle(pg)
    expect(pg.get_by_text("is imported and selected in the sidebar").first).to_be_visible()
    _check(pg, "0_import")
    assert _uploaded_files(server) == []  # deleted once imported (they stayed in /tmp for ever before)


def test_an_upload_goes_with_its_session(server, browser, tmp_path):
    """A file uploaded and never imported is deleted when the browser session ends."""
    f = tmp_path / "left behind.csv"
    f.write_text("user_id,age\nu1,30\nu2,40\n")
    pg = _session(browser, server)
    pg.locator("[data-testid=stFileUploader] input[type=file]").first.set_input_files(str(f))
    _settle(pg)
    expect(pg.get_by_text("Each row is").first).to_be_visible(timeout=60_000)  # the upload was read
    assert [p.name for p in _uploaded_files(server)] == ["left behind.csv"]
    pg.context.close()
    deadline = time.monotonic() + 60
    while _uploaded_files(server) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _uploaded_files(server) == []


def test_a_real_transaction_log_from_upload_to_kpis(server, browser):
    """CDNOW (tests/data): uploaded, read as a transaction log of dates, segmented; its KPIs have values."""
    pg = _session(browser, server)
    pg.locator("[data-testid=stFileUploader] input[type=file]").first.set_input_files(
        str(ROOT / "tests" / "data" / "cdnow" / "cdnow_sample.csv"))
    _settle(pg)
    expect(pg.get_by_text("an order or order line: every row a purchase").first).to_be_visible()
    pg.get_by_role("button", name="Import").click()
    _settle(pg)
    expect(pg.get_by_text("is imported and selected in the sidebar").first).to_be_visible()
    expect(pg.get_by_text("times are dates only").first).to_be_visible()
    expect(pg.get_by_role("combobox", name="Dataset")).to_match_aria_snapshot('- combobox "Dataset": cdnow_sample')
    _check(pg, "0_import_cdnow")
    _goto(pg, "Segment")
    pg.get_by_role("button", name="Fit ").click()
    _settle(pg)
    expect(pg.get_by_text("Fitted ").first).to_be_visible()
    _goto(pg, "KPIs")
    expect(pg.get_by_text("Revenue per user, all users").first).to_be_visible()
    expect(pg.get_by_text("Repeat-purchase rate, all users").first).to_be_visible()
    expect(pg.get_by_text("a transaction log records purchases only").first).to_be_visible()
    metrics = " ".join(pg.locator("[data-testid=stMetricValue]").all_inner_texts())
    assert metrics and "nan" not in metrics.lower(), metrics
    _check(pg, "7b_kpis_cdnow")


def test_umap_from_the_background_worker_then_instant_on_return(server, browser):
    """UMAP is computed in the worker that app start warmed up; the map then comes from the store."""
    pg = _session(browser, server)
    _goto(pg, "Explore")
    pg.get_by_text("UMAP (keeps neighbourhoods, slower)").click()
    _settle(pg)
    button = pg.get_by_role("button", name="Compute UMAP")
    if button.count():  # the walk's run has no UMAP yet, unless an earlier attempt stored one
        started = time.monotonic()
        button.click()
        # while it runs, the bar says what the worker is doing and how far it is
        expect(pg.get_by_text(re.compile(r"Laying out the map: epoch \d+ of \d+\.")).first).to_be_visible(
            timeout=60_000)
        _check(pg, "4a_explore_umap_progress")
        _settle(pg)
        print(f"UMAP of the sample from the click: {time.monotonic() - started:.1f} s")
    expect(pg.get_by_text("UMAP (fitted on 20,000 users)").first).to_be_attached(timeout=60_000)
    expect(pg.locator("[data-testid=stPlotlyChart] .nsewdrag").first).to_be_visible()
    expect(pg.get_by_role("button", name="Download the users' positions (UMAP, CSV)")).to_be_visible()
    _check(pg, "4b_explore_umap")
    _goto(pg, "Profiles")
    _goto(pg, "Explore")
    pg.get_by_text("UMAP (keeps neighbourhoods, slower)").click()
    started = time.monotonic()
    _settle(pg)
    expect(pg.get_by_role("button", name="Compute UMAP")).to_have_count(0)
    expect(pg.get_by_text("UMAP (fitted on 20,000 users)").first).to_be_attached()
    assert time.monotonic() - started < 10  # read from the store, not refitted (generous for CI)
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download the users' positions (UMAP, CSV)").click()
    positions = pd.read_csv(io.BytesIO(Path(dl.value.path()).read_bytes()), dtype={"user_id": str})
    assert len(positions) == 20_000 and positions["user_id"].is_unique


_XSS = {  # each sets a flag if it ever runs as HTML or script
    "column": '<img src=x onerror="window.__xss=1">',
    "category": "<script>window.__xss=2</script>",
    "name": '<iframe srcdoc="<script>parent.__xss=3</script>"></iframe>',
    "description": '<img src=x onerror="window.__xss=4"> ![pixel](http://127.0.0.1:9/pixel.png) :red[red]',
}


def test_names_and_data_never_run_as_html(server, browser, tmp_path):
    """Payloads in a column name, a category value, a persona name and a description, on every page:
    nothing runs, nothing is injected, no request leaves the server, and the text is shown as written."""
    import segcore

    n = 900  # 300 users: segments above the minimum size, so every page shows them
    log = pd.DataFrame({"user_id": [f"u{i % 300}" for i in range(n)],
                        "ts": [f"2024-03-{1 + i % 28:02d} {i % 24:02d}:10" for i in range(n)],
                        "event_type": ["view", "view", "purchase"] * (n // 3),
                        # clustered on (profiles, rules), and a sensitive attribute (fairness)
                        "plan": [_XSS["category"] if (i % 300) < 150 else "basic" for i in range(n)],
                        "country": [_XSS["category"] if (i % 300) % 2 else "DE" for i in range(n)],
                        _XSS["column"]: [float(i % 7) for i in range(n)]})
    f = tmp_path / "xss.csv"
    log.to_csv(f, index=False)
    env = {**os.environ, "SEGCORE_STORE": server_store(server)}

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "segcore.cli", *args], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("import", str(f), "--name", "xss", "--kind", "events", "--map", "user_id=user_id", "timestamp=ts",
        "event_type=event_type")
    feature = _XSS["column"] + "_mean"
    run_id = cli("run", "xss", "--k", "2", "--features", f"n_events,{feature},plan").split()[-1]
    store = segcore.Store(server_store(server))
    personas = store.personas(run_id)
    personas.loc[0, ["name", "description"]] = [_XSS["name"], _XSS["description"]]
    store.save_personas(run_id, personas)

    pg = _session(browser, server)
    outside = []
    pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    pg.get_by_role("combobox", name="Dataset").click()
    pg.get_by_role("option", name="xss").click()
    _settle(pg)
    for title in ("Data", "Features", "Segment", "Explore", "Profiles", "Compare", "Personas", "KPIs", "Fairness",
                  "Export"):
        _goto(pg, title)
        if title == "Fairness":
            expect(pg.get_by_text("four-fifths rule").first).to_be_visible()
        _check(pg, f"xss_{title.lower()}")
        assert pg.evaluate("window.__xss") is None, title
        assert pg.locator("img[src='x'], iframe[srcdoc]").count() == 0, title
        assert not pg.locator("[data-testid=stMarkdown] .red, [data-testid=stMarkdown] img").count(), title
    _goto(pg, "Profiles")
    expect(pg.get_by_text(_XSS["name"]).first).to_be_attached()  # shown as written
    assert not outside, outside


def test_every_page_works_offline_with_its_assets_served_locally(server, browser):
    """With every request outside the app's server blocked, every page draws, and its icon is local (a
    navigation page's material icon as favicon was fetched from a font server on the internet)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside = []

    def block(route):
        if route.request.url.startswith(server) or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    ctx.route("**/*", block)
    pg = ctx.new_page()
    pg.goto(server)
    _settle(pg)
    for title in ("Data", "Features", "Segment", "Explore", "Profiles", "Compare", "Personas", "KPIs", "Fairness",
                  "Export"):
        _goto(pg, title)
        icons = pg.eval_on_selector_all("link[rel~='icon']", "links => links.map(l => l.href)")
        assert icons and all(i.startswith((server, "data:")) for i in icons), (title, icons)
        assert pg.locator("[data-testid=stException]").count() == 0, title
    ctx.close()
    assert not outside, outside


def test_quick_removals_of_features_are_all_kept(server, browser):
    """Two chips removed as fast as a user clicks, then the choice used: both removals count (before the
    picker was a form, each removal reran the page, and a quick second click was lost)."""
    pg = _session(browser, server)
    _goto(pg, "Features")
    expect(pg.get_by_text("28 features chosen").first).to_be_visible()
    pg.get_by_role("button", name="Remove Events", exact=True).click()
    pg.get_by_role("button", name="Remove Active days", exact=True).click()
    pg.get_by_role("button", name="Use these features").click()
    _settle(pg)
    expect(pg.get_by_text("26 features chosen").first).to_be_visible()
    expect(pg.get_by_role("button", name="Remove Events", exact=True)).to_have_count(0)
    pg.context.close()
