"""Every write the app makes to the store, by name: each calls segcore, then drops the answers cached for
this script run, so the rest of the run (and the next) reads the store as it now is.

Pages never write through ``data.store()`` themselves; loaders keyed by a dataset's version or a run id
need no clearing (a new version or run has a new key).
"""

from __future__ import annotations

import segcore

from . import data


def _written(result):
    data.new_script_run()
    return result


def import_file(path, name: str, **options):
    """Import an uploaded file (see :func:`segcore.workflow.import_file`); its report."""
    return _written(segcore.import_file(data.store(), path, name, **options))


def create_run(dataset: str, k, **options) -> str:
    """Fit and store a run (see :func:`segcore.workflow.create_run`); its id."""
    return _written(segcore.create_run(data.store(), dataset, k, **options))


def create_rfm_run(dataset: str, **options) -> str:
    return _written(segcore.create_rfm_run(data.store(), dataset, **options))


def update_personas(run_id: str, changes: dict, *, expected: dict | None = None) -> None:
    """Save persona edits, refused if someone else changed the same personas since ``expected`` was read."""
    _written(data.store().update_personas(run_id, changes, expected=expected))


def mark_run(run_id: str, *, label: str | None = None, pinned: bool | None = None) -> None:
    """Name and/or pin a run: new sessions open the run last named or pinned."""
    _written(data.store().mark_run(run_id, label=label, pinned=pinned))


def set_currency(symbol: str, decimals: int) -> None:
    """Write money with this symbol and these decimals on every page and export."""
    from segcore.features import Currency

    _written(data.store().set_currency(Currency(symbol, int(decimals))))
    data.currency.clear()


def restore_previous(dataset: str) -> None:
    _written(data.store().restore_previous(dataset))


def discard_previous(dataset: str) -> None:
    _written(data.store().discard_previous(dataset))
