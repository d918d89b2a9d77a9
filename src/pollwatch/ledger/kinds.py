"""The kinds of records the log holds, each with the one function that builds its record.

The same builder serves twice: when a row is accepted (`appending.append_row`) and when
`pollwatch verify database` rebuilds every logged row to compare it with its leaf. An app that
logs a kind registers it once, in a module `<app>/ledger_records.py`, which the ledger imports
when Django starts (as the admin finds `admin.py`):

    from pollwatch.ledger.kinds import register_kind

    register_kind(
        "protocol-copy",
        model=ProtocolCopy,
        record=lambda copy: {...},          # the row -> its record (JSON values only)
        rows=lambda election: ProtocolCopy.objects.filter(election=election),
    )

`rows` lists every row of the kind in an election, so a row that was added without being
logged is found too. A builder must depend only on what is stored in the row (and rows it
points to), never on the clock or the request; it spells times with `utc_iso`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from pollwatch.ledger.errors import LedgerError
from pollwatch.registry.models import Election

Record = dict[str, Any]
_KIND = re.compile(r"[a-z][a-z0-9-]{0,49}")


def utc_iso(value: datetime.datetime) -> str:
    """An aware time as UTC ISO 8601 with microseconds: one spelling per instant, so a record
    rebuilt from the stored row is the one logged whatever time zone the caller used."""
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class LoggedKind:
    kind: str
    model: type[models.Model]
    record: Callable[[Any], Record]
    rows: Callable[[Election], models.QuerySet[Any]]


_KINDS: dict[str, LoggedKind] = {}


def check_kind_name(kind: str) -> None:
    if not _KIND.fullmatch(kind):
        raise LedgerError(
            f"log record kind {kind!r} must be lowercase letters, digits and hyphens "
            "(at most 50, starting with a letter)"
        )


def register_kind(
    kind: str,
    *,
    model: type[models.Model],
    record: Callable[[Any], Record],
    rows: Callable[[Election], models.QuerySet[Any]],
) -> LoggedKind:
    """Register `kind`; registering the same kind again for another model is refused."""
    check_kind_name(kind)
    existing = _KINDS.get(kind)
    if existing is not None and existing.model is not model:
        raise LedgerError(
            f"log record kind {kind!r} is already registered for {existing.model.__name__}"
        )
    logged = LoggedKind(kind, model, record, rows)
    _KINDS[kind] = logged
    return logged


def logged_kind(kind: str) -> LoggedKind | None:
    """The registration of `kind`, or None if no app registered it."""
    return _KINDS.get(kind)


def logged_kinds() -> list[LoggedKind]:
    return sorted(_KINDS.values(), key=lambda k: k.kind)
