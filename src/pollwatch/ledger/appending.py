"""Appending a record to an election's log: the one write every logged submission makes.

`append_to_log` encodes the record as RFC 8785 canonical JSON and inserts a pending entry in
the caller's transaction, so a submission and its entry are committed together or not at all.
It costs two small INSERTs and a SHA-256; the integrator gives the entry its index within a second.
"""

from __future__ import annotations

from typing import Any

import rfc8785
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction

from pollwatch.core.tlog import leaf_hash
from pollwatch.core.tlog.tiles import MAX_ENTRY_BYTES
from pollwatch.ledger.errors import LedgerError
from pollwatch.ledger.kinds import Record, check_kind_name, logged_kind
from pollwatch.ledger.models import LogEntry, PendingEntry
from pollwatch.registry.models import Election


def canonical_bytes(record: Record, kind: str = "") -> bytes:
    """The record as RFC 8785 canonical JSON, refused if it cannot be (a float that is not
    finite, a key that is not a string, a value JSON has no type for) or is too long for
    an entry bundle (C2SP tlog-tiles: 65,535 bytes)."""
    try:
        data = rfc8785.dumps(record)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise LedgerError(f"{kind or 'log'} record is not canonical JSON: {error}") from None
    if len(data) > MAX_ENTRY_BYTES:
        raise LedgerError(
            f"{kind or 'log'} record is {len(data)} bytes as canonical JSON; a log entry "
            f"holds at most {MAX_ENTRY_BYTES}"
        )
    return data


def append_to_log(
    election: Election, kind: str, record: Record, *, source: models.Model | None = None
) -> LogEntry:
    """Append `record` to `election`'s log as a pending entry, in the caller's transaction.

    `source` is the row the record describes; give it (and register the kind, see `kinds`)
    so that `pollwatch verify database` can check the row against its leaf later."""
    check_kind_name(kind)
    data = canonical_bytes(record, kind)
    source_type = None
    source_pk = ""
    if source is not None:
        if source.pk is None:
            raise LedgerError(f"{kind} record's source row is not saved yet")
        source_type = ContentType.objects.get_for_model(source)
        source_pk = str(source.pk)
    entry = LogEntry(
        election=election,
        kind=kind,
        canonical=data,
        leaf_hash=leaf_hash(data),
        source_type=source_type,
        source_pk=source_pk,
    )
    if connection.vendor == "postgresql":
        _insert_in_one_statement(entry)
    else:  # SQLite runs in-process: two statements cost nothing worth saving
        with transaction.atomic():
            entry.save(force_insert=True)
            PendingEntry.objects.create(election=election, entry=entry)
    return entry


def _insert_in_one_statement(entry: LogEntry) -> None:
    """The entry and its pending row in one round trip, and no savepoint: the statement is
    atomic by itself, and a submission should not wait for the network three more times."""
    entries, pending = LogEntry._meta.db_table, PendingEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH new AS (INSERT INTO {entries} "
            f"(election_id, kind, canonical, leaf_hash, source_type_id, source_pk, created_at) "
            f"VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id, election_id) "
            f"INSERT INTO {pending} (entry_id, election_id) SELECT id, election_id FROM new "
            f"RETURNING entry_id",
            [
                entry.election_id,
                entry.kind,
                entry.canonical,
                entry.leaf_hash,
                entry.source_type_id,
                entry.source_pk,
                entry.created_at,
            ],
        )
        (entry.pk,) = cursor.fetchone()
    entry._state.adding = False
    entry._state.db = connection.alias


def append_row(election: Election, kind: str, row: Any) -> LogEntry:
    """Append `row` through its kind's registered record builder (the one `pollwatch verify
    database` uses to check it later)."""
    logged = logged_kind(kind)
    if logged is None:
        raise LedgerError(f"log record kind {kind!r} is not registered (see ledger.kinds)")
    if not isinstance(row, logged.model):
        raise LedgerError(f"a {kind} record is built from a {logged.model.__name__} row")
    return append_to_log(election, kind, logged.record(row), source=row)
