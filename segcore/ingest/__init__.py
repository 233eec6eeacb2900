"""Bring files in: look at them, propose what each column means, find personal data, and plan the import.

The flow is: inspect the file (format, encoding, delimiter: :func:`inspect_file`), peek at a sample
(DuckDB reads it where it lies; the file is never loaded whole into pandas), map columns to roles and
event types to kinds, detect PII, and build a :class:`FilePlan` whose
:class:`~segcore.store.TablePlan` names every column to keep and how to transform it. Nothing here
opens a store: :func:`segcore.workflow.import_file` hands the plans to the store, which copies the
file through them in one transaction, and sums the import up in an :class:`ImportReport`.
"""

from .._mapping import (
                        EVENT_KIND_LABELS,
                        EVENT_KINDS,
                        EVENT_ROLES,
                        REQUIRED_EVENT_ROLES,
                        SHAPES,
                        propose_event_vocabulary,
                        propose_mapping,
                        propose_shape,
                        timestamp_format,
)
from ._plan import (
                        FilePlan,
                        check_named,
                        check_vocabulary,
                        event_values,
                        events_plan,
                        peek_file,
                        propose_aggregates,
                        repeated_ids,
                        users_plan,
)
from ._report import NAMED, ImportReport, column_fates, count_warnings, join_warnings, masked_lines, user_column_fates
from ._sniff import FileInfo, detect_format, inspect_file, reader_error

__all__ = ["EVENT_KIND_LABELS", "EVENT_KINDS", "EVENT_ROLES", "REQUIRED_EVENT_ROLES", "SHAPES", "FileInfo", "FilePlan",
           "ImportReport", "NAMED", "check_named", "check_vocabulary", "column_fates", "count_warnings",
           "detect_format", "event_values", "events_plan", "inspect_file", "join_warnings", "masked_lines",
           "peek_file", "propose_aggregates", "propose_event_vocabulary", "propose_mapping", "propose_shape",
           "reader_error",
           "repeated_ids", "timestamp_format", "user_column_fates", "users_plan"]
