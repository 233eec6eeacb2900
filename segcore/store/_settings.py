"""The settings room: choices that hold for the whole store, such as how money is written."""

from __future__ import annotations

import json

from ..features import Currency
from ._connection import _Connections


class _Settings(_Connections):
    """The store's settings (mixed into :class:`~segcore.store.Store`)."""

    def _setting(self, key: str) -> dict | None:
        rows = self._df("SELECT value FROM settings WHERE key = ?", [key])
        return None if rows.empty else json.loads(rows["value"].iloc[0])

    def currency(self) -> Currency:
        """How money is written on every page, report and export (no symbol, two decimals until set)."""
        saved = self._setting("currency")
        return Currency(**saved) if saved else Currency()

    def set_currency(self, currency: Currency) -> None:
        """Write money with ``currency``'s symbol and decimals from now on."""
        with self._transaction() as con:
            con.execute("INSERT OR REPLACE INTO settings VALUES ('currency', ?)",
                        [json.dumps({"symbol": currency.symbol, "decimals": currency.decimals})])
