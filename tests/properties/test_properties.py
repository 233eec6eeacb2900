"""Property tests (hypothesis): invariants that must hold for any input, bad input included."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import segcore
from segcore.errors import InputError, SegcoreError
from segcore.profile import profile_clusters

# Each example of the store tests opens a DuckDB file and imports: keep the counts modest.
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(values=arrays(np.float64, st.tuples(st.integers(6, 40), st.integers(1, 4)),
                     elements=st.floats(-1e6, 1e6, allow_nan=False, width=32)),
       k=st.integers(2, 4), data=st.data())
def test_profiles_do_not_depend_on_label_numbering(values, k, data):
    n = values.shape[0]
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    perm = np.array(data.draw(st.permutations(range(k))))
    frame = pd.DataFrame(values, columns=[f"f{i}" for i in range(values.shape[1])])
    a, b = profile_clusters(frame, labels), profile_clusters(frame, perm[labels])
    for c in np.unique(labels):
        pd.testing.assert_series_equal(a.means.loc[c], b.means.loc[perm[c]], check_names=False)
        pd.testing.assert_series_equal(a.z.loc[c], b.z.loc[perm[c]], check_names=False)
        assert a.sizes.loc[c, "size"] == b.sizes.loc[perm[c], "size"]
        assert a.descriptions[c] == b.descriptions[perm[c]]


_ids = st.text(alphabet="0123456789abcdefXYZ", min_size=1, max_size=12)
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=15)


@pytest.mark.slow
@SETTINGS
@given(ids=st.lists(_ids, min_size=1, max_size=25, unique=True), data=st.data())
def test_user_table_survives_a_trip_through_the_store(tmp_path_factory, ids, data):
    n = len(ids)
    frame = pd.DataFrame({
        "user_id": ids,
        "score": data.draw(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=n, max_size=n)),
        "label": data.draw(st.lists(_text, min_size=n, max_size=n)),
    })
    store = segcore.open_store(tmp_path_factory.mktemp("rt") / "s.duckdb", seed_sample=False)
    path = tmp_path_factory.mktemp("f") / "users.parquet"
    frame.to_parquet(path)
    segcore.import_file(store, path, "rt")
    back = store.read_table("rt", "users")
    expected = frame.sort_values("user_id").reset_index(drop=True)
    assert back["user_id"].tolist() == expected["user_id"].tolist()  # exactly as given, zeros and all
    assert np.allclose(back["score"].to_numpy(float), expected["score"].to_numpy(float))
    # detected PII is hashed or dropped, never kept; other text survives unchanged
    kept = back["label"].fillna("").tolist() if "label" in back else None
    if kept is not None and not any(p["column"] == "label" for p in store.dataset("rt").privacy):
        assert kept == expected["label"].fillna("").tolist()


@pytest.mark.slow
@SETTINGS
@given(emails=st.lists(st.emails(), min_size=3, max_size=20, unique=True))
def test_emails_are_always_hashed_never_stored(tmp_path_factory, emails):
    frame = pd.DataFrame({"user_id": [f"u{i:03d}" for i in range(len(emails))], "contact": emails})
    path = tmp_path_factory.mktemp("pii") / "u.parquet"
    frame.to_parquet(path)
    store = segcore.open_store(tmp_path_factory.mktemp("pii_s") / "s.duckdb", seed_sample=False)
    segcore.import_file(store, path, "p")
    stored = store.read_table("p", "users")["contact"].tolist()
    assert not any("@" in s for s in stored)
    assert stored == [hashlib.sha256(e.strip().lower().encode()).hexdigest() for e in frame["contact"]]


_cell = st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(max_size=8), st.just(""))


@SETTINGS
@given(rows=st.lists(st.lists(_cell, min_size=0, max_size=5), min_size=0, max_size=8),
       header=st.lists(st.text(max_size=6), min_size=0, max_size=5))
@pytest.mark.slow
def test_malformed_csv_never_crashes_and_never_corrupts(tmp_path_factory, rows, header):
    """Any CSV either imports or raises an InputError; what was stored before is untouched."""
    store = segcore.open_store(tmp_path_factory.mktemp("bad") / "s.duckdb", seed_sample=False)
    good = tmp_path_factory.mktemp("g") / "good.csv"
    good.write_text("user_id,x\n1,2\n")
    segcore.import_file(store, good, "keep")
    before = store.read_table("keep", "users")
    path = tmp_path_factory.mktemp("b") / "bad.csv"
    lines = [",".join(header)] + [",".join("" if c is None else str(c) for c in r) for r in rows]
    path.write_text("\n".join(lines))
    try:
        segcore.import_file(store, path, "bad", id_column=header[0] if header and header[0] else None)
    except SegcoreError as exc:
        assert str(exc)  # a message for a person
    pd.testing.assert_frame_equal(store.read_table("keep", "users"), before)
    assert store.dataset("keep").n_users == 1


@SETTINGS
@given(X=arrays(np.float64, st.tuples(st.integers(3, 30), st.integers(1, 3)),
                elements=st.floats(-1e3, 1e3, allow_nan=False)), k=st.integers(2, 6))
def test_fit_validates_or_returns_k_sized_labels(X, k):
    try:
        r = segcore.fit(X, k, seed=0)
    except InputError as exc:
        # never silently fewer segments: a k the data cannot support is refused, naming k
        # (numerically near-identical users count as one group, so no exact distinct-row rule applies)
        assert f"k={k}" in str(exc)
        return
    assert len(r.labels) == X.shape[0] and set(r.labels) == set(range(k))
    sizes = np.bincount(r.labels)
    assert (np.diff(sizes) <= 0).all()  # numbered by size


def _guarded_store(tmp_path_factory):
    store = segcore.open_store(tmp_path_factory.mktemp("g") / "s.duckdb", seed_sample=False)
    keep = tmp_path_factory.mktemp("k") / "keep.csv"
    keep.write_text("user_id,x\n1,2\n")
    segcore.import_file(store, keep, "keep")
    return store


@pytest.mark.slow
@SETTINGS
@given(content=st.binary(min_size=0, max_size=600), suffix=st.sampled_from([".csv", ".jsonl", ".parquet", ""]))
def test_arbitrary_bytes_import_or_get_a_message(tmp_path_factory, content, suffix):
    store = _guarded_store(tmp_path_factory)
    path = tmp_path_factory.mktemp("b") / f"blob{suffix}"
    path.write_bytes(content)
    try:
        segcore.import_file(store, path, "blob")
    except SegcoreError as exc:
        assert str(exc) and "\n" not in str(exc)
    assert list(store.list_datasets()["name"])[0] == "keep"
    assert store.read_table("keep", "users")["user_id"].tolist() == ["1"]


_name = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12)\
    .map(str.strip).filter(bool)


@pytest.mark.slow
@SETTINGS
@given(names=st.lists(_name, min_size=1, max_size=5, unique=True))
def test_any_column_names_are_stored_verbatim(tmp_path_factory, names):
    """SQL-looking, quoted, non-ASCII names: each survives exactly, or is refused with a message."""
    import csv
    import io

    names = [n for n in names if n != "user_id"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["user_id", *names])
    for i in range(6):
        w.writerow([f"u{i}", *[i * (j + 1) for j in range(len(names))]])
    store = _guarded_store(tmp_path_factory)
    path = tmp_path_factory.mktemp("n") / "names.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    try:
        segcore.import_file(store, path, "named")
    except SegcoreError as exc:
        assert str(exc) and "\n" not in str(exc)
        assert list(store.list_datasets()["name"]) == ["keep"]
        return
    stored = set(store.read_table("named", "users").columns)
    dropped = {p["column"] for p in store.dataset("named").privacy if p["action"] == "drop"}
    assert stored == ({"user_id", *names} - dropped)


_FORMS = ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d", "%d/%m/%Y",
          "%Y/%m/%d %H:%M:%S", "%d %b %Y %H:%M", "epoch"]


@SETTINGS
@given(stamps=st.lists(st.datetimes(min_value=pd.Timestamp("2001-01-01").to_pydatetime(),
                                    max_value=pd.Timestamp("2035-12-31").to_pydatetime()), min_size=3, max_size=30),
       form=st.sampled_from(_FORMS))
@pytest.mark.slow
def test_timestamps_in_any_supported_form_read_back_exactly(tmp_path_factory, stamps, form):
    stamps = [s.replace(microsecond=0) for s in stamps]
    stamps.append(stamps[0].replace(day=25))  # a day above 12 settles day/month order
    if "%S" not in form and form != "epoch":
        stamps = [s.replace(second=0) for s in stamps]
    if "%H" not in form and form != "epoch":
        stamps = [s.replace(hour=0, minute=0, second=0) for s in stamps]
    text = [str(int(pd.Timestamp(s).timestamp())) if form == "epoch" else s.strftime(form) for s in stamps]
    lines = ["user_id,when"] + [f"u{i % 3},{t}" for i, t in enumerate(text)]
    store = segcore.open_store(tmp_path_factory.mktemp("ts") / "s.duckdb", seed_sample=False)
    path = tmp_path_factory.mktemp("t") / "ev.csv"
    path.write_text("\n".join(lines))
    segcore.import_file(store, path, "ev", kind="events", mapping={"user_id": "user_id", "timestamp": "when"},
                        keep_events=True)
    got = store.read_table("ev", "events")["ts"]
    assert got.isna().sum() == 0
    assert sorted(pd.to_datetime(got).tolist()) == sorted(pd.Timestamp(s) for s in stamps)
