"""The battery of broken files, shared by the segcore/CLI tests (test_bad_input) and the app's (test_app)."""

from __future__ import annotations


def latin1_cities() -> bytes:
    return "user_id,city\n1,Zürich\n2,Genève\n".encode("latin-1")


def late_ragged() -> bytes:
    """A ragged row after the first megabyte, past what the sniffing reads: DuckDB must catch it."""
    rows = ["user_id,x,y"] + [f"u{i},{i},{i % 7}" for i in range(90_000)] + ["u_bad,1"]
    return "\n".join(rows).encode()


# (case, file name, bytes, import arguments, CLI flags, words the message must contain)
REFUSED = [
    ("empty file", "empty.csv", b"", {}, [], ["'empty.csv'", "is empty"]),
    ("header only", "header.csv", b"user_id,x\n", {}, [], ["'header.csv'", "header but no rows"]),
    ("binary data", "photo.csv", bytes(range(256)) * 40, {}, [], ["'photo.csv'", "binary"]),
    ("binary named parquet", "fake.parquet", b"\x00\x01 not parquet", {}, [], ["'fake.parquet'", "not a Parquet"]),
    ("wrong encoding", "cities.csv", latin1_cities(), {"read_options": {"encoding": "utf-8"}}, ["--encoding", "utf-8"],
     ["'cities.csv'", "not valid utf-8", "line 2", "--encoding latin-1"]),
    ("ragged rows", "ragged.csv", b"user_id,x\n1,2\n3\n4,5\n", {}, [],
     ["line 3 of 'ragged.csv'", "1 field where", "header has 2"]),
    ("ragged row late in a big file", "late.csv", late_ragged(), {}, [],
     ["line 90002 of 'late.csv'", "2 fields where the header has 3", "fix or remove the row"]),
    ("duplicate column names", "dup.csv", b"user_id,spend,spend\n1,2,3\n", {}, [],
     ["column 'spend' appears twice", "'dup.csv'", "rename one"]),
    ("blank column name", "blank.csv", b",user_id,x\n0,1,2\n", {}, [],
     ["column 1 of 'blank.csv' has no name", "row index"]),
    ("one column only", "semi.csv", b"user_id;x\n1;2\n", {"read_options": {"delimiter": ","}},
     ["--delimiter", ","], ["'semi.csv'", "single column", "--delimiter"]),
    ("all ids missing", "noids.csv", b"user_id,x\n,1\n,2\n", {}, [],
     ["id column 'user_id'", "'noids.csv'", "no values"]),
    ("no id column", "noid.csv", b"name_x,score\na,1\n", {}, [], ["'noid.csv'", "no 'user_id' column", "--id"]),
    ("timestamps that never parse", "ev.csv", b"user_id,ts,event_type\nu1,soon,view\nu2,later,view\n",
     {"kind": "events"}, ["--kind", "events"],
     ["timestamp column 'ts'", "'ev.csv'", "'soon'", "--date-format"]),
    ("event log without a timestamp", "nots.csv", b"user_id,event_type\nu1,view\n", {"kind": "events"},
     ["--kind", "events"], ["map a column to timestamp", "'nots.csv'"]),
    ("bad JSON line", "bad.jsonl", b'{"user_id": "a", "x": 1}\n{"user_id": "b", "x": \n', {}, [],
     ["line 3 of 'bad.jsonl'", "not valid JSON", "one JSON object per line"]),
    ("file over the size limit", "big.csv", b"user_id,x\n" + b"1,2\n" * 1000, {"max_bytes": 1000},
     ["--max-mb", "0.0001"], ["'big.csv'", "over the import limit", "SEGCORE_MAX_IMPORT_MB"]),
    ("unknown role", "roles.csv", b"user_id,ts\nu1,2026-01-01\n", {"kind": "events", "mapping": {"buyer": "user_id"}},
     ["--kind", "events", "--map", "buyer=user_id"], ["unknown role 'buyer'"]),
    ("mapped column missing", "roles2.csv", b"user_id,ts\nu1,2026-01-01\n",
     {"kind": "events", "mapping": {"user_id": "user_id", "timestamp": "when"}},
     ["--kind", "events", "--map", "user_id=user_id", "--map", "timestamp=when"],
     ["column 'when'", "not in 'roles2.csv'"]),
]
