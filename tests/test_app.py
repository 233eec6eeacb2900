"""Page logic through Streamlit's AppTest, from the app's entry point (fast; no browser, no JavaScript)."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import segcore
from segcore.errors import SegcoreError

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = ["data", "features", "segment", "explore", "profiles", "compare", "personas", "kpis", "experiment", "fairness",
         "export"]


@pytest.fixture
def app_store(tmp_path, sample_store, sample_run, monkeypatch):
    """A private copy of the sample store with one run, and fresh Streamlit caches."""
    dst = tmp_path / "app.duckdb"
    shutil.copy(sample_store.path, dst)
    monkeypatch.setenv("SEGCORE_STORE", str(dst))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield segcore.Store(dst)
    st.cache_data.clear()
    st.cache_resource.clear()


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    if page != "data":
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


def _seen(text: str) -> str:
    """Markdown as a reader sees it: the app escapes every punctuation character of user and data text."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_sample(app_store, page):
    at = _open(page)
    _clean(at)
    assert at.title[0].value.lower().startswith(page.replace("kpis", "KPIs").lower())
    assert at.sidebar.selectbox[0].value == "sample"
    assert at.sidebar.selectbox[1].value == app_store.list_runs("sample")["run_id"].iloc[0]


def test_data_page_says_the_event_log_is_not_kept(app_store):
    at = _open("data")
    _clean(at)
    assert next(r for r in at.radio if r.label == "Table").options == ["Users", "Per-user features",
                                                                     "Activity per user and day"]
    assert any("event log itself is not kept" in c.value for c in at.caption)


@pytest.mark.slow
def test_sweep_then_fit_selects_the_new_run(app_store):
    at = _open("segment")
    at.slider[0].set_value((4, 7)).run()
    at.button[0].click().run()
    _clean(at)
    rec = [i.value for i in at.info if "Recommended" in i.value]
    assert len(rec) == 1 and re.search(r"Recommended: k = [567]\.", rec[0]), rec
    sizes = json.loads(next(c for c in at.get("plotly_chart") if "Segment sizes" in c.proto.spec).proto.spec)
    assert {t["y"][0] for t in sizes["data"]} >= {"k=4"}  # a bar per k, each split into its segments
    k_input = next(n for n in at.number_input if n.label == "Number of segments (k)")
    assert k_input.value in (5, 6, 7)  # the fit defaults to the recommendation
    before = set(app_store.list_runs()["run_id"])
    next(b for b in at.button if b.label.startswith("Fit")).click().run()
    _clean(at)
    new = set(app_store.list_runs()["run_id"]) - before
    assert len(new) == 1
    assert at.sidebar.selectbox[1].value == new.pop()
    assert any("Fitted" in s.value for s in at.success)
    # revisiting the page shows the sweep again without recomputing (kept for the session)
    at.switch_page("views/data.py").run()
    at.switch_page("views/segment.py").run()
    at.slider[0].set_value((4, 7)).run()
    assert any("Recommended" in i.value for i in at.info)


def test_persona_edit_is_saved_to_the_store(app_store):
    run_id = app_store.list_runs("sample")["run_id"].iloc[0]
    at = _open("personas")
    at.session_state[f"personas_{run_id}"] = {"edited_rows": {0: {"name": "Weekend browsers"}},
                                             "added_rows": [], "deleted_rows": []}
    at.run()
    save = next(b for b in at.button if b.label == "Save personas")
    assert not save.disabled
    save.click().run()
    _clean(at)
    assert app_store.personas(run_id).loc[0, "name"] == "Weekend browsers"


def test_persona_colours_are_picked_not_typed(app_store):
    run_id = app_store.list_runs("sample")["run_id"].iloc[0]
    at = _open("personas")
    pickers = at.color_picker
    names = app_store.personas(run_id)["name"].tolist()
    assert len(pickers) == len(names) and [_seen(c.label) for c in pickers] == names
    pickers[2].pick("#123abc").run()
    next(b for b in at.button if b.label == "Save personas").click().run()
    _clean(at)
    assert app_store.personas(run_id).loc[2, "colour"] == "#123ABC"


def test_a_persona_cards_narrative_is_edited_saved_and_reset(app_store):
    run_id = app_store.list_runs("sample")["run_id"].iloc[0]
    at = _open("personas")
    _clean(at)
    names = app_store.personas(run_id)["name"].tolist()
    # one card per persona, its narrative from the numbers, with what sets it apart and angles to try
    texts = [m.value for m in at.markdown]
    assert all(any(_seen(t).startswith(f"**{n}** ·") for t in texts) for n in names)
    assert sum(t == "**Angles to try**" for t in texts) == len(names)
    area = next(a for a in at.text_area if a.key == f"narrative_text_{run_id}_1")
    generated = area.value
    assert generated.startswith(names[1])
    area.input("Our <script>alert(1)</script> best customers")  # a form: sent with its button
    next(b for b in at.button if b.label == "Save the narrative" and b.form_id == f"narrative_{run_id}_1").click().run()
    _clean(at)
    assert app_store.personas(run_id).loc[1, "narrative"] == "Our <script>alert(1)</script> best customers"
    # shown as written, never as HTML, and marked as edited
    assert any(_seen(m.value) == "Our <script>alert(1)</script> best customers" for m in at.markdown)
    assert any("narrative edited" in m.value for m in at.markdown)
    form = f"narrative_{run_id}_1"
    next(b for b in at.button if b.label == "Use the generated text" and b.form_id == form).click().run()
    _clean(at)
    assert app_store.personas(run_id)["narrative"].isna().all()
    assert next(a for a in at.text_area if a.key == f"narrative_text_{run_id}_1").value == generated


def test_a_named_run_opens_first_in_a_new_session(app_store):
    import dataclasses
    from datetime import timedelta

    older = app_store.list_runs("sample")["run_id"].iloc[0]
    rec = app_store.run(older)
    app_store.save_run(dataclasses.replace(rec, run_id="newer", created_at=rec.created_at + timedelta(hours=1)),
                       app_store.assignments(older), app_store.personas(older))
    assert _open("profiles").sidebar.selectbox[1].value == "newer"  # nothing named: the newest
    at = _open("personas")
    at.sidebar.selectbox[1].set_value(older).run()
    next(t for t in at.text_input if t.label == "Name of this run").input("Spring <b>launch</b>")
    next(c for c in at.checkbox if c.label.startswith("Pin")).check()
    next(b for b in at.button if b.label == "Save").click().run()
    _clean(at)
    assert app_store.run(older).label == "Spring <b>launch</b>" and app_store.run(older).pinned
    fresh = _open("kpis")
    assert fresh.sidebar.selectbox[1].value == older  # a new session opens the run named and pinned
    # the picker shows the name as text, with the pin
    assert "Spring <b>launch</b>" in fresh.sidebar.selectbox[1].format_func(older)


def test_duplicate_persona_names_cannot_be_saved(app_store):
    run_id = app_store.list_runs("sample")["run_id"].iloc[0]
    other = app_store.personas(run_id).loc[1, "name"]
    at = _open("personas")
    at.session_state[f"personas_{run_id}"] = {"edited_rows": {0: {"name": other}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert any("used twice" in w.value for w in at.warning)
    assert next(b for b in at.button if b.label == "Save personas").disabled


def test_export_withholds_small_segments(app_store):
    at = _open("export")
    at.number_input[0].set_value(3500).run()
    _clean(at)
    assert any("Withheld" in w.value for w in at.warning)
    assert at.get("download_button")


def test_the_currency_set_in_the_sidebar_is_used_on_every_page_and_export(app_store):
    at = _open("kpis")
    next(t for t in at.sidebar.text_input if t.label == "Currency symbol").input("€")
    next(n for n in at.sidebar.number_input if n.label == "Decimals").set_value(1)
    next(b for b in at.sidebar.button if b.label == "Save").click().run()
    _clean(at)
    assert app_store.currency().symbol == "€" and app_store.currency().decimals == 1
    revenue = next(m for m in at.metric if m.label == "Revenue per user, all users")
    assert revenue.value.startswith("€") and len(revenue.value.split(".")[1]) == 1
    at = _open("export")
    at.multiselect[0].set_value(["revenue"]).run()
    next(r for r in at.radio if r.label == "Column names").set_value("labels").run()
    next(c for c in at.checkbox if c.label == "Persona descriptions").check().run()
    _clean(at)
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["User id", "Segment", "Persona", "Description", "Revenue (€)"]
    assert (shown["Revenue (€)"].round(1) == shown["Revenue (€)"]).all()


def test_kpis_mark_the_differences_that_hold_up_after_correction(app_store):
    at = _open("kpis")
    _clean(at)
    table = at.dataframe[0].value.set_index("KPI")
    # the sample's planted personas differ a lot: most cells hold up, in both directions
    cells = " ".join(table.drop(index="Users").drop(columns="All users").to_numpy().ravel())
    assert "▲" in cells and "▼" in cells
    assert any("correcting all" in c.value for c in at.caption)
    next(r for r in at.radio if r.label.startswith("Correct the tests")).set_value("holm").run()
    _clean(at)
    # over time: a line per persona per month, then per week
    assert [h.value for h in at.subheader] == ["Over time"]
    assert any("Open markers" in c.value for c in at.caption)
    next(r for r in at.radio if r.label == "Per").set_value("week").run()
    _clean(at)
    assert any("a week only partly inside the log" in c.value for c in at.caption)


def test_export_offers_the_hashed_email_kept_in_the_users_table(app_store):
    at = _open("export")
    extra = at.multiselect[0]
    assert "Email (SHA-256)" in extra.options and "Revenue" in extra.options
    extra.set_value(["email"]).run()
    _clean(at)
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["user_id", "cluster", "persona", "email"]
    assert shown["email"].str.fullmatch("[0-9a-f]{64}").all()


def test_core_errors_are_shown_as_messages(app_store, monkeypatch):
    def boom(*a, **k):
        raise SegcoreError("run 'x' no longer matches dataset 'sample'")

    monkeypatch.setattr(segcore, "run_profiles", boom)
    at = _open("profiles")
    assert not at.exception
    # shown as a sentence: a capital and a full stop
    assert [_seen(e.value) for e in at.error] == ["Run 'x' no longer matches dataset 'sample'."]


def test_unexpected_failures_never_show_a_traceback(app_store, monkeypatch):
    def boom(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(segcore, "run_kpis", boom)
    at = _open("kpis")
    assert not at.exception
    assert "Something went wrong" in at.error[0].value and "unchanged" in at.error[0].value


def test_upload_a_users_file_with_personal_data(app_store):
    at = _open("data")
    csv = b"customer,email,phone,plan,spend\n00042,Ann@Example.com,+44 20 7946 0018,gold,10\n" \
          b"00100,bo@example.org,+44 20 7946 0019,free,0\n00007,cy@example.net,+44 20 7946 0020,free,3\n"
    at.get("file_uploader")[0].upload("crm export.csv", csv, "text/csv")
    at.run()
    _clean(at)
    next(s for s in at.selectbox if s.label == "User id column").set_value("customer")
    next(t for t in at.text_input if t.label == "Dataset name").set_value("crm")
    at.run()
    labels = [_seen(s.label) for s in at.selectbox]
    assert any(t.startswith("email: email") for t in labels) and any(t.startswith("phone: phone") for t in labels)
    next(b for b in at.button if b.label == "Import").click().run()
    _clean(at)
    assert any("imported and selected" in s.value for s in at.success)
    assert at.sidebar.selectbox[0].value == "crm"
    users = app_store.read_table("crm", "users")
    assert users["user_id"].tolist() == ["00007", "00042", "00100"]
    import hashlib
    sha = lambda v: hashlib.sha256(v.encode()).hexdigest()  # noqa: E731
    assert users["email"].tolist() == [sha("cy@example.net"), sha("ann@example.com"), sha("bo@example.org")]
    assert users["phone"].tolist() == [sha("+442079460020"), sha("+442079460018"), sha("+442079460019")]
    assert {p["column"]: p["action"] for p in app_store.dataset("crm").privacy} == {"email": "hash", "phone": "hash"}


def test_a_bad_upload_gets_a_message_and_changes_nothing(app_store):
    before = app_store.list_datasets()
    at = _open("data")
    at.get("file_uploader")[0].upload("broken.parquet", b"\x00\x01 definitely not parquet", "application/octet-stream")
    at.run()
    assert not at.exception
    assert at.error and "broken.parquet" in _seen(at.error[0].value)
    assert app_store.list_datasets().equals(before)


@pytest.mark.slow
def test_hdbscan_from_the_segment_page_reports_unassigned_users(app_store):
    at = _open("features")
    at.select_slider[0].set_value(5).run()  # PCA to 5 components, as the Segment page advises
    at.switch_page("views/segment.py").run()
    at.selectbox[0].set_value("hdbscan").run()
    _clean(at)
    assert not any(s.label == "Range of k to compare" for s in at.slider)  # HDBSCAN has no k to sweep
    next(b for b in at.button if b.label.startswith("Fit")).click().run()
    _clean(at)
    rec = app_store.run(at.sidebar.selectbox[1].value)
    assert rec.algo == "hdbscan" and rec.preprocessing["pca"] == 5 and rec.k >= 2
    assert rec.metrics["unassigned"] > 0
    assert any("Unassigned" in s.value for s in at.success)
    at.switch_page("views/personas.py").run()
    _clean(at)
    assert "Unassigned" in set(app_store.personas(rec.run_id)["name"])


@pytest.mark.slow
def test_compare_page_shows_agreement_of_two_runs(app_store):
    segcore.create_run(app_store, "sample", 5, seed=0)
    at = _open("compare")
    _clean(at)
    assert at.metric[0].label.startswith("Agreement") and 0.5 < float(at.metric[0].value) < 1.0


@pytest.mark.slow
def test_profiles_of_a_ward_run_show_the_merge_tree(app_store):
    kmeans_charts = len(_open("profiles").get("plotly_chart"))
    segcore.create_run(app_store, "sample", 6, algo="ward", seed=0)  # newest run: the page's default
    at = _open("profiles")
    _clean(at)
    assert len(at.get("plotly_chart")) == kmeans_charts + 1


def test_kpis_page_withholds_small_segments(app_store):
    at = _open("kpis")
    next(n for n in at.number_input if n.label == "Minimum segment size").set_value(3500).run()
    _clean(at)
    assert any("withheld" in w.value for w in at.warning)


def _event_log() -> bytes:
    """A European export: semicolons, Latin-1, day/month dates, decimal commas, German column names."""
    rows = ["kunde;zeit;aktion;betrag;gerät"]
    for i in range(400):
        day, month = 1 + i % 28, 1 + (i // 28) % 12
        rows.append(f"k{i % 40:03d};{day:02d}/{month:02d}/2026 {i % 24:02d}:15;"
                    f"{['view', 'click', 'purchase'][i % 3]};{i % 50},{i % 10}0;{['mobile', 'desktop'][i % 2]}")
    rows.append("k001;später;view;0,00;mobile")
    return "\n".join(rows).encode("latin-1")


@pytest.mark.slow
def test_upload_an_event_log_with_a_users_table_to_join(app_store):
    at = _open("data")
    at.get("file_uploader")[0].upload("events.csv", _event_log(), "text/csv")
    at.run()
    _clean(at)
    assert any("semicolon-separated, latin-1, decimal comma" in _seen(e.label) for e in at.expander)
    next(r for r in at.radio if r.label == "Each row is").set_value("events").run()
    roles = {s.label: s.value for s in at.selectbox if s.label in segcore.EVENT_ROLES}
    # proposed from contents: no column is named like a role
    assert roles["user_id"] == "kunde" and roles["timestamp"] == "zeit" and roles["amount"] == "betrag"
    assert roles["event_type"] == "aktion" and roles["device"] == "gerät"
    assert next(t for t in at.text_input if t.label == "Timestamp format").value == "%d/%m/%Y %H:%M"
    users = b"kunde,age_band,country\n" + b"".join(f"k{i:03d},{['18-24', '25-34'][i % 2]},DE\n".encode()
                                                    for i in range(50))
    at.get("file_uploader")[1].upload("users.csv", users, "text/csv")
    at.run()
    next(s for s in at.selectbox if s.label == "Its user id column").set_value("kunde")
    next(t for t in at.text_input if t.label == "Dataset name").set_value("shop")
    next(c for c in at.checkbox if c.label == "Keep the event log in the store").check()
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    _clean(at)
    shown = " ".join(m.value for m in [*at.markdown, *at.text])
    assert "1 of 401 values in column 'zeit'" in shown  # the unreadable 'später' is counted, not dropped silently
    assert "10 of 50 users in the users table have no events" in shown
    feats = app_store.read_table("shop")
    assert len(feats) == 40 and set(feats["age_band"]) == {"18-24", "25-34"}
    assert feats["revenue"].sum() > 0  # decimal commas read as numbers
    assert len(app_store.read_table("shop", "events")) == 401  # kept, as asked


@pytest.mark.slow
def test_replacing_a_dataset_asks_first_and_can_be_undone(app_store):
    at = _open("data")
    at.get("file_uploader")[0].upload("s.csv", b"user_id,x\n1,2\n2,3\n", "text/csv")
    at.run()
    next(t for t in at.text_input if t.label == "Dataset name").set_value("sample").run()
    assert next(b for b in at.button if b.label == "Import").disabled  # not without saying so
    next(c for c in at.checkbox if c.label.startswith("Replace the existing dataset")).check().run()
    next(b for b in at.button if b.label == "Import").click().run()
    _clean(at)
    assert app_store.dataset("sample").n_users == 2
    assert app_store.list_runs("sample").empty and app_store.previous_version("sample").n_runs == 1
    at = _open("data")
    assert any("is kept until you confirm" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Restore the replaced version").click().run()
    _clean(at)
    assert app_store.dataset("sample").n_users == 20000 and len(app_store.list_runs("sample")) == 1
    assert app_store.previous_version("sample") is None


def test_fairness_page_flags_groups_below_four_fifths(app_store):
    at = _open("fairness")
    _clean(at)
    assert set(at.multiselect[0].value) == {"age_band", "country"}  # suggested from the names
    assert any("fall below the four-fifths rule" in w.value for w in at.warning)
    assert len(at.get("plotly_chart")) == 2


def test_fairness_offers_who_users_are_and_its_table_follows_the_attribute(app_store):
    at = _open("fairness")
    options = set(at.multiselect[0].options)
    assert {"age_band", "country"} <= options
    # behaviour is no protected group, and a hashed e-mail is no attribute
    assert not options & {"revenue", "n_sessions", "recency_days", "night_share", "email"}
    warning = next(w.value for w in at.warning if "four-fifths" in w.value)
    counts = {attribute: int(n) for n, attribute in re.findall(r"(\d+) for (\w+)", _seen(warning))}
    assert sum(counts.values()) == int(re.match(r"(\d+) group", warning).group(1))
    for attribute in ("country", "age_band"):
        next(r for r in at.radio if r.key == "fair_attr").set_value(attribute).run()
        assert set(at.dataframe[0].value["attribute"]) == {attribute}
        shown = int(at.dataframe[0].value["flagged"].sum())
        assert shown == counts.get(attribute, 0)  # the summary counts what the table shows


from _bad_files import REFUSED  # noqa: E402

# The file-borne cases of the battery, as a user meets them in the app (no CLI-only overrides).
_UI_CASES = [c for c in REFUSED if not ({"read_options", "mapping"} & set(c[3]))]


@pytest.mark.parametrize("case,fname,content,kwargs,flags,words", _UI_CASES, ids=[c[0] for c in _UI_CASES])
def test_bad_uploads_get_a_message_naming_the_file_and_change_nothing(app_store, monkeypatch, case, fname, content,
                                                                      kwargs, flags, words):
    if "max_bytes" in kwargs:
        monkeypatch.setenv("SEGCORE_MAX_IMPORT_MB", str(kwargs["max_bytes"] / (1 << 20)))
    before = app_store.list_datasets()
    at = _open("data")
    at.get("file_uploader")[0].upload(fname, content, "application/octet-stream")
    at.run()
    if not at.error and kwargs.get("kind") == "events":
        next(r for r in at.radio if r.label == "Each row is").set_value("events").run()
    if case == "no id column":  # the app asks for the id column instead of guessing one
        assert next(b for b in at.button if b.label == "Import").disabled
        assert any("Pick the column that identifies users" in i.value for i in at.info)
        return
    if not at.error:
        next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    assert at.error, case
    message = _seen(at.error[0].value)
    assert fname in message and "persona_upload" not in message, message
    for w in words:
        if not w.startswith("--"):
            assert w.replace("'", "").lower() in message.replace("'", "").lower(), (w, message)
    assert " --" not in message and "(--" not in message, message  # no command-line flags in the app
    assert message.rstrip("\"')").endswith("."), message  # a sentence
    assert app_store.list_datasets().equals(before)


def test_explore_shades_every_user_and_samples_the_dots_above_the_dot_limit(app_store, monkeypatch):
    import base64
    import io
    import json

    from PIL import Image

    from dashboard import data

    monkeypatch.setattr(data, "MAP_DOTS", 500)  # the sample's 20,000 users then exceed it, as 1M would
    at = _open("explore")
    _clean(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    dots = [t for t in spec["data"] if t["type"] == "scatter"]
    assert len(dots) == len(spec["data"]) == 6
    assert sum(len(base64.b64decode(t["x"]["bdata"])) // 4 for t in dots) == 500  # float32 positions
    # the legend counts every user of each persona, not the dots
    assert sum(int(t["name"].rsplit("(", 1)[1].rstrip(")").replace(",", "")) for t in dots) == 20_000
    assert any("Shading: all 20,000 users. Dots: a random 500 of them" in c.value for c in at.caption)
    (image,) = spec["layout"]["images"]
    png = Image.open(io.BytesIO(base64.b64decode(image["source"].split(",", 1)[1])))
    assert png.mode == "RGBA" and png.width >= 120
    assert spec["layout"]["xaxis"]["range"] == pytest.approx([image["x"], image["x"] + image["sizex"]])
    assert any("every user inside counts" in c.value for c in at.caption)


def test_a_map_selection_takes_every_user_inside_not_only_the_dots(app_store):
    import numpy as np

    from dashboard import data

    run_id = app_store.list_runs("sample")["run_id"].iloc[0]
    coords, _ = segcore.run_projection(app_store, run_id, "pca")
    x0, x1 = np.quantile(coords["x"], [0.2, 0.7])
    y0, y1 = np.quantile(coords["y"], [0.1, 0.6])
    counts, differences = data.map_selection(run_id, "pca", "", (("box", (x1, x0), (y0, y1)),))
    inside = coords["x"].between(x0, x1) & coords["y"].between(y0, y1)
    assert int(counts.sum()) == int(inside.sum()) > data.MAP_DOTS
    clusters = app_store.assignments(run_id).set_index("user_id")["cluster"]
    expected = clusters.loc[coords.loc[inside, "user_id"]].value_counts()
    assert counts.sort_index().to_dict() == expected.sort_index().to_dict()
    assert differences["z"].abs().iloc[0] > 0.3  # a box over part of the map is not the average user
    assert data.map_selection(run_id, "pca", "", (("box", (1e6, 2e6), (1e6, 2e6)),)) is None


def test_selection_regions_reads_boxes_and_lassos_and_skips_a_lasso_click():
    from types import SimpleNamespace

    from dashboard.components import selection_regions

    event = SimpleNamespace(selection={
        "points": [], "box": [{"xref": "x", "yref": "y", "x": [2.0, 1.0], "y": [0.0, 3.0]}],
        "lasso": [{"x": [0.0, 1.0, 1.0], "y": [0.0, 0.0, 1.0]}, {"x": [5.0], "y": [5.0]}]})
    assert selection_regions(event) == (("box", (2.0, 1.0), (0.0, 3.0)),
                                        ("lasso", (0.0, 1.0, 1.0), (0.0, 0.0, 1.0)))
    assert selection_regions(None) == () and selection_regions(SimpleNamespace(selection=None)) == ()


_REAL = Path(__file__).resolve().parent / "data"


def _upload(log: Path) -> AppTest:
    """The Data page with a real log (tests/data) uploaded under its own name."""
    at = _open("data")
    at.get("file_uploader")[0].upload(log.name, log.read_bytes(), "text/csv")
    at.run()
    _clean(at)
    return at


@pytest.mark.slow
def test_import_a_real_transaction_log_and_read_its_kpis(app_store):
    """CDNOW (tests/data): proposed as a transaction log, imported, selected; its KPIs are the ones it supports."""
    log = _REAL / "cdnow" / "cdnow_sample.csv"
    at = _upload(log)
    assert next(r for r in at.radio if r.label == "Each row is").value == "events"  # customer ids repeat
    roles = {s.label: s.value for s in at.selectbox if s.label in segcore.EVENT_ROLES}
    assert roles["user_id"] == "customer_id" and roles["timestamp"] == "date"
    assert roles["amount"] == "dollar_value" and roles["quantity"] == "number_of_cds"
    assert next(r for r in at.radio if r.label == "Each row of this log is").value == "transactions"
    next(b for b in at.button if b.label == "Import").click().run()
    _clean(at)
    assert at.sidebar.selectbox[0].value == "cdnow_sample"  # the new dataset, selected
    shown = " ".join(t.value for t in at.text)
    assert "a transaction log: every row is a purchase" in shown and "times are dates only" in shown
    assert "Column 'number_of_cds': used as quantity" in shown
    assert "persona_upload" not in shown
    rec = app_store.dataset("cdnow_sample")
    assert rec.source == "cdnow_sample.csv" and rec.n_users == 2357
    feats = app_store.read_table("cdnow_sample")
    assert feats["revenue"].sum() == pytest.approx(pd.read_csv(log)["dollar_value"].sum())

    segcore.create_run(app_store, "cdnow_sample", 3, seed=0)
    at.switch_page("views/kpis.py")
    at.run()
    _clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"Revenue per user, all users", "Orders per user, all users",
                            "Average order value, all users", "Repeat-purchase rate, all users",
                            "Churn rate, all users"}
    assert not any("nan" in v.lower() for v in metrics.values()), metrics
    assert any("CTR needs ad impressions and clicks: a transaction log records purchases only" in _seen(c.value)
               for c in at.caption)
    assert any("own average gap between orders" in _seen(c.value) for c in at.caption)


def test_a_users_file_whose_ids_repeat_asks_first(app_store):
    at = _open("data")
    at.get("file_uploader")[0].upload("orders.csv", b"user_id,x\n1,2\n1,3\n2,3\n", "text/csv")
    at.run()
    assert next(r for r in at.radio if r.label == "Each row is").value == "events"
    next(r for r in at.radio if r.label == "Each row is").set_value("users").run()
    anyway = next(c for c in at.checkbox if c.label.startswith("1 row repeats a user id"))
    assert next(b for b in at.button if b.label == "Import").disabled
    anyway.check().run()
    assert not next(b for b in at.button if b.label == "Import").disabled


@pytest.mark.slow
def test_import_a_clickstream_in_its_own_words_and_read_its_kpis(app_store):
    """retentioneering's ecom log (tests/data): its event types proposed as our kinds and changeable."""
    log = _REAL / "retentioneering_ecom" / "ecom_extract.csv"
    at = _upload(log)
    assert next(r for r in at.radio if r.label == "Each row of this log is").value == "events"
    vocab = {m.label: m.value for m in at.multiselect}
    assert vocab["Purchase"] == ["purchase"] and vocab["Add to cart"] == ["add_to_cart"]
    assert vocab["Product view"] == ["product_view"] and vocab["Ad impression"] == []
    # the user says wishlist additions are what they count as add to cart here
    next(m for m in at.multiselect if m.label == "Add to cart").set_value(["add_to_cart", "wishlist_add"]).run()
    next(b for b in at.button if b.label == "Import").click().run()
    _clean(at)
    assert at.sidebar.selectbox[0].value == "ecom_extract"
    shown = " ".join(t.value for t in at.text)
    assert "add to cart = 'add_to_cart', 'wishlist_add'" in shown
    assert "Column 'acquisition_channel': used as channel" in shown
    assert "Column 'user_cohort': kept per user as its last value" in shown
    events = pd.read_csv(log)
    feats = app_store.read_table("ecom_extract").set_index("user_id")
    carts = events["event"].isin(["add_to_cart", "wishlist_add"]).groupby(events["user_id"]).sum()
    assert (feats["add_to_cart"] == carts.reindex(feats.index)).all()

    segcore.create_run(app_store, "ecom_extract", 3, seed=0)
    at.switch_page("views/kpis.py")
    at.run()
    _clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert {"Conversion rate, all users", "Orders per user, all users", "Churn rate, all users"} <= set(metrics)
    assert "Revenue per user, all users" not in metrics and "CTR, all users" not in metrics
    assert not any("nan" in v.lower() for v in metrics.values()), metrics
    assert any("revenue per user needs amounts" in _seen(c.value) for c in at.caption)


def test_personal_data_choices_for_any_column_and_the_upload_deleted(app_store, tmp_path, monkeypatch):
    """A column the detector cannot know (free-text names) is named on the page and dropped; text with an e-mail
    inside is masked; the uploaded copy is deleted once imported (issue 15)."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rows = ["user_id,age,remark,favourite", *[f"u{i},{20 + i % 40},met at the fair,shoes" for i in range(60)],
            "u60,33,write to ann.smith@example.org,bags"]
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.get("file_uploader")[0].upload("crm.csv", "\n".join(rows).encode(), "text/csv")
    at.run()
    _clean(at)
    assert [p.name for p in tmp_path.glob("persona_upload_*/*/*")] == ["crm.csv"]
    named = next(m for m in at.multiselect if m.label == "Other columns holding personal data")
    assert "remark" in named.options and "user_id" not in named.options
    named.set_value(["favourite"]).run()
    choice = next(s for s in at.selectbox if s.label == "favourite")
    assert choice.value == "drop" and choice.options == ["hash (SHA-256)", "drop the column",
                                                         "mask what is inside each value", "keep as it is"]
    next(b for b in at.button if b.label == "Import").click().run()
    _clean(at)
    shown = " ".join(t.value for t in at.text)
    assert "Privacy: column 'favourite' (named by you) dropped." in shown
    assert "1 value of column 'remark' of 'crm.csv' held e-mail addresses" in shown
    stored = app_store.read_table("crm", "users")
    assert "favourite" not in stored.columns
    assert (stored["remark"] == "write to [email]").sum() == 1
    assert list(tmp_path.glob("persona_upload_*/*/*")) == []


@pytest.mark.slow
def test_a_minimum_below_the_default_needs_ticking_and_holds_on_every_page(app_store):
    at = _open("kpis")
    size = next(n for n in at.number_input if n.label == "Minimum segment size")
    assert size.min == 50
    next(c for c in at.checkbox if c.label == "Allow below 50").check().run()
    _clean(at)
    next(n for n in at.number_input if n.label == "Minimum segment size").set_value(10).run()
    _clean(at)
    at.switch_page("views/export.py").run()
    _clean(at)
    assert next(n for n in at.number_input if n.label == "Minimum segment size").value == 10


def test_feature_choices_wait_for_use_and_none_is_lost(app_store):
    at = _open("features")
    _clean(at)
    behaviour = next(m for m in at.multiselect if m.label.startswith("Behaviour"))
    value = next(m for m in at.multiselect if m.label.startswith("Value"))
    before = list(at.session_state["features"]["sample"])
    gone = [behaviour.value[0], value.value[0]]
    # two removals in a row, as quick as a user clicks: until they are used, nothing is applied (a rerun
    # between the two would have lost the first)
    behaviour.set_value(behaviour.value[1:])
    value.set_value(value.value[1:])
    at.run()
    assert at.session_state["features"]["sample"] == before
    behaviour = next(m for m in at.multiselect if m.label.startswith("Behaviour"))
    value = next(m for m in at.multiselect if m.label.startswith("Value"))
    behaviour.set_value([f for f in behaviour.value if f not in gone])
    value.set_value([f for f in value.value if f not in gone])
    next(b for b in at.button if b.label == "Use these features").click().run()
    _clean(at)
    after = at.session_state["features"]["sample"]
    assert set(after) == set(before) - set(gone)
    assert any(f"{len(after)} features chosen" in c.value for c in at.caption)


def test_the_suggestions_are_applied_in_one_click(app_store):
    from dashboard.state import apply_suggestions

    at = _open("features")
    _clean(at)
    # choose a near-constant feature and a duplicate by hand, then follow the suggestions
    extra = next(m for m in at.multiselect if m.label.startswith("Behaviour"))
    extra.set_value(list(dict.fromkeys(extra.value + list(extra.options))))
    next(b for b in at.button if b.label == "Use these features").click().run()
    _clean(at)
    chosen = list(at.session_state["features"]["sample"])
    suggestions = next(b for b in at.button if b.label == "Apply the suggestions")
    assert not suggestions.disabled
    suggestions.click().run()
    _clean(at)
    after = at.session_state["features"]["sample"]
    assert len(after) < len(chosen) and set(after) < set(chosen)
    advice = pd.DataFrame({"feature": ["a", "c", "d"], "issue": ["near-constant", "correlated", "correlated"],
                           "partner": [None, "b", "x"]})
    assert apply_suggestions(["a", "b", "c", "d"], advice) == ["b", "d"]  # d's partner x is not chosen


def test_the_explore_map_choice_is_kept_across_visits(app_store):
    at = _open("explore")
    _clean(at)
    next(r for r in at.radio if r.label == "Map").set_value("umap").run()
    at.switch_page("views/profiles.py").run()
    at.switch_page("views/explore.py").run()
    assert next(r for r in at.radio if r.label == "Map").value == "umap"


def test_an_experiment_is_read_out_per_persona(app_store, tmp_path):
    """CDNOW's customers with a variant each, imported with the variant kept per user: the page reads it out."""
    rng = np.random.default_rng(3)
    log = pd.read_csv(_REAL / "cdnow" / "cdnow_sample.csv", dtype={"customer_id": str})
    arm = dict(zip(log["customer_id"].unique(), rng.choice(["control", "new_offer"], log["customer_id"].nunique())))
    log["variant"] = log["customer_id"].map(arm)
    f = tmp_path / "ab.csv"
    log.to_csv(f, index=False)
    segcore.import_file(app_store, f, "ab", kind="events", aggregates={"variant": "last"})
    segcore.create_run(app_store, "ab", 3, features=["recency_days", "n_purchases", "revenue"])
    at = _open("experiment")
    at.sidebar.selectbox[0].set_value("ab").run()
    _clean(at)
    assert next(s for s in at.selectbox if s.label == "Variant column").value == "variant"
    assert next(s for s in at.selectbox if s.label == "Control").value == "control"
    assert any("new_offer" in _seen(c.value) and "users" in c.value for c in at.caption)
    table = at.dataframe[0].value.set_index("KPI")
    assert list(table.columns)[0] == "All users" and "Revenue per user" in table.index


def test_the_report_buttons_make_their_files_when_clicked(app_store):
    from dashboard import readouts

    run_id = app_store.list_runs("sample")["run_id"].iloc[0]
    page = readouts.private_report_download(run_id, 1.0, 0.0, 50)().decode()
    assert "differentially private (epsilon = 1)" in page and "needs a stated cap on money" in page
    # a setting the release refuses: a one-line page in the file, never a traceback
    refused = readouts.private_report_download(run_id, 50.0, 0.0, 50)().decode()
    assert "No private report could be made: Epsilon 50.0 should be above 0" in refused
    at = _open("export")
    _clean(at)
    assert any(e.label == "A private report for people outside the team" for e in at.expander)


def test_kpis_of_a_users_table_say_what_they_would_need(app_store):
    from segcore.sample import SAMPLE_DIR

    segcore.import_file(app_store, SAMPLE_DIR / "users.parquet", "crm")
    segcore.create_run(app_store, "crm", 3)
    at = _open("kpis")
    at.sidebar.selectbox[0].set_value("crm").run()
    _clean(at)
    assert any("supports none of the KPIs" in i.value for i in at.info)
