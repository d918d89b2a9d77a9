"""The ledger's own error: a record, a kind or a log that cannot be used, said in words."""

from __future__ import annotations


class LedgerError(ValueError):
    """Refused by the ledger; nothing was changed."""
