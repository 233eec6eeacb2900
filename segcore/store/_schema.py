"""The store's schema, its version, and the migrations that bring an older store up to date.

A store says it is one in its table ``persona_lab_store``: ``('store', STORE_MARKER)`` and
``('schema_version', N)``. Version 1 is every store made before the marker (some of them before a
few columns were added); version 2 added the marker; version 3 the runs' names and pins and the
settings; version 4 the personas' edited narratives. A newer store is refused, not guessed at.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

__all__ = ["STORE_MARKER", "SCHEMA_VERSION", "MIGRATIONS", "create", "migrate", "check_file", "read_version"]

STORE_MARKER = "persona-lab"
SCHEMA_VERSION = 4

# The tables of a store as this version makes it (besides its datasets' own, named ds:<name>:<role>).
_TABLES = """
CREATE TABLE datasets (
    name VARCHAR PRIMARY KEY, kind VARCHAR, source VARCHAR, n_users BIGINT, n_events BIGINT,
    privacy VARCHAR, created_at TIMESTAMP, event_facts VARCHAR);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY, dataset VARCHAR, algo VARCHAR, k INTEGER, seed INTEGER,
    params VARCHAR, features VARCHAR, preprocessing VARCHAR, fingerprint VARCHAR,
    metrics VARCHAR, versions VARCHAR, created_at TIMESTAMP, explanation VARCHAR,
    label VARCHAR, pinned BOOLEAN DEFAULT FALSE, marked_at TIMESTAMP);
CREATE TABLE assignments (run_id VARCHAR, user_id VARCHAR, cluster INTEGER, probability DOUBLE);
CREATE TABLE personas (
    run_id VARCHAR, cluster INTEGER, name VARCHAR, description VARCHAR, colour VARCHAR, narrative VARCHAR,
    PRIMARY KEY (run_id, cluster));
CREATE TABLE projections (run_id VARCHAR, method VARCHAR, user_id VARCHAR, x FLOAT, y FLOAT);
CREATE TABLE projection_info (run_id VARCHAR, method VARCHAR, info VARCHAR, PRIMARY KEY (run_id, method));
CREATE TABLE persona_lab_store (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE settings (key VARCHAR PRIMARY KEY, value VARCHAR);
"""

# version -> the SQL that brings a store of the version before up to it. A store of version 1 may lack
# tables and the columns added while 0.1.0 was young (probability, explanation, event_facts) and has no marker.
MIGRATIONS = {
    2: _TABLES.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ") + """
ALTER TABLE assignments ADD COLUMN IF NOT EXISTS probability DOUBLE;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS explanation VARCHAR;
ALTER TABLE datasets ADD COLUMN IF NOT EXISTS event_facts VARCHAR;
""",
    # runs can be named and pinned (the last one named or pinned opens first); settings such as the currency
    3: """
CREATE TABLE IF NOT EXISTS settings (key VARCHAR PRIMARY KEY, value VARCHAR);
ALTER TABLE runs ADD COLUMN IF NOT EXISTS label VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS pinned BOOLEAN DEFAULT FALSE;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS marked_at TIMESTAMP;
""",
    # a persona card's narrative as the analyst edited it (NULL: the text generated from the numbers)
    4: """
ALTER TABLE personas ADD COLUMN IF NOT EXISTS narrative VARCHAR;
""",
}

# The tables of a store made before the marker: a file holding others is not ours.
_UNMARKED_TABLES = {"datasets", "runs", "assignments", "personas", "projections", "projection_info"}


def _mark(con) -> None:
    con.executemany("INSERT OR REPLACE INTO persona_lab_store VALUES (?, ?)",
                    [("store", STORE_MARKER), ("schema_version", str(SCHEMA_VERSION))])


def create(con) -> None:
    """Make the tables of a new store, in the transaction of ``con``."""
    con.execute(_TABLES)
    _mark(con)


def migrate(con, version: int) -> None:
    """Bring a store of ``version`` up to :data:`SCHEMA_VERSION`, in the transaction of ``con``."""
    for step in range(version + 1, SCHEMA_VERSION + 1):
        con.execute(MIGRATIONS[step])
    _mark(con)


def check_file(path: Path) -> None:
    """Refuse, in one line, a path that is not a DuckDB file (reading 16 bytes, writing nothing)."""
    try:
        head = b""
        if not path.is_dir():
            with open(path, "rb") as fh:
                head = fh.read(16)
    except OSError as exc:
        raise InputError(f"cannot read store {path}: {exc.strerror or exc}") from exc
    if path.is_dir() or head[8:12] != b"DUCK":
        what = "an SQLite database" if head.startswith(b"SQLite format 3") else \
            "a folder" if path.is_dir() else "not a DuckDB file"
        raise InputError(f"{path} is not a Persona Lab store ({what}): it was left untouched")


def read_version(con, path: Path) -> int | None:
    """The schema version of the DuckDB file open on ``con`` (read-only); None for an empty file (as a store
    whose creation was interrupted is left). Anything that is not a Persona Lab store is refused in one line."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'main'").fetchall()}
    marker = {}
    if "persona_lab_store" in tables:
        marker = dict(con.execute("SELECT key, value FROM persona_lab_store").fetchall())
    if marker.get("store") == STORE_MARKER:
        version = int(marker.get("schema_version", "0") or 0)
        if version > SCHEMA_VERSION:
            raise InputError(f"store {path} was made by a newer Persona Lab (schema {version}; this one "
                             f"reads up to {SCHEMA_VERSION}): upgrade persona-lab to open it")
        return version
    if not tables:
        return None
    foreign = {t for t in tables if not t.startswith("ds:")} - _UNMARKED_TABLES
    if not ({"datasets", "runs"} <= tables and not foreign):
        shown = ", ".join(sorted(foreign or tables)[:5])
        raise InputError(f"{path} is not a Persona Lab store (a DuckDB file with the tables {shown}): "
                         "it was left untouched")
    return 1
