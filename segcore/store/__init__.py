"""The DuckDB store: the only part of segcore that speaks SQL.

One file holds everything: datasets (users, their engineered features, the counts a quality report
needs from the event log, and the log itself when asked to keep it), runs, assignments, personas and
projections. The :class:`Store` is made of rooms, one module each:

- ``_connection``: opening the file with retry, one connection per public call, transactions;
- ``_schema``: the tables, the schema version and the migrations;
- ``_plans``: what ingest asks to read from a file, and the SQL that reads it (:class:`TablePlan`);
- ``_files``: looking into a file before an import (no store needed: :func:`peek`, :func:`value_counts`,
  :func:`repeated_ids`);
- ``_loader`` and ``_features``: the import, and the per-user features built in SQL (``sql/``);
- ``_datasets`` and ``_runs``: reading and writing datasets, runs, personas, segments, projections;
- ``_records``: the typed records they return (:class:`DatasetRecord`, :class:`RunRecord`).

Identifiers are always quoted with :func:`quote_ident`; values are always bound.
"""

from ._connection import default_store_path, memory_limit
from ._datasets import DATASET_NAME_RULE, PREVIOUS_SUFFIX
from ._features import AGGREGATES, CARRY_PREFIX, carried_name
from ._files import READ_ERRORS, peek, repeated_ids, value_counts
from ._plans import CSV_OPTIONS, ColumnPlan, TablePlan
from ._records import DatasetRecord, RunRecord
from ._runs import RUN_LABEL_MAX
from ._schema import SCHEMA_VERSION, STORE_MARKER
from ._sql import quote_ident
from ._store import Store

__all__ = ["Store", "DatasetRecord", "RunRecord", "ColumnPlan", "TablePlan", "quote_ident", "default_store_path",
           "memory_limit", "DATASET_NAME_RULE", "AGGREGATES", "CARRY_PREFIX", "carried_name", "CSV_OPTIONS",
           "PREVIOUS_SUFFIX", "SCHEMA_VERSION", "STORE_MARKER", "peek", "value_counts", "repeated_ids", "READ_ERRORS",
           "RUN_LABEL_MAX"]
