"""Appending a record to an election's log: the one write every logged submission makes.

`append_to_log` encodes the record as RFC 8785 canonical JSON and inserts a pending entry in
the caller's transaction, so a submission and its entry are committed together or not at all.
It costs two small INSERTs and a SHA-256; the integrator gives the entry its index within a second.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    (entry,) = append_many_to_log(election, kind, [(record, source)])
    return entry


def append_many_to_log(
    election: Election, kind: str, records: Sequence[tuple[Record, models.Model | None]]
) -> list[LogEntry]:
    """`append_to_log` for several records of one kind (each with its source row or None),
    in one statement: submissions committed together append together."""
    check_kind_name(kind)
    entries = [_entry(election, kind, record, source) for record, source in records]
    if not entries:
        return entries
    if connection.vendor == "postgresql":
        _insert_in_one_statement(entries)
    else:  # SQLite runs in-process: two statements cost nothing worth saving
        with transaction.atomic():
            LogEntry.objects.bulk_create(entries)
            PendingEntry.objects.bulk_create(
                PendingEntry(election=election, entry=entry) for entry in entries
            )
    return entries


def _entry(election: Election, kind: str, record: Record, source: models.Model | None) -> LogEntry:
    data = canonical_bytes(record, kind)
    source_type = None
    source_pk = ""
    if source is not None:
        if source.pk is None:
            raise LedgerError(f"{kind} record's source row is not saved yet")
        source_type = ContentType.objects.get_for_model(source)
        source_pk = str(source.pk)
    return LogEntry(
        election=election,
        kind=kind,
        canonical=data,
        leaf_hash=leaf_hash(data),
        source_type=source_type,
        source_pk=source_pk,
    )


# Every column a parameter of one array: the text is the same for any number of entries, so
# psycopg prepares it once (one VALUES row per entry would be a new statement for each count).
_INSERT = (
    f"WITH new AS (INSERT INTO {LogEntry._meta.db_table} "
    "(election_id, kind, canonical, leaf_hash, source_type_id, source_pk, created_at) "
    "SELECT election_id, kind, canonical, leaf_hash, source_type_id, source_pk, created_at "
    "FROM unnest(%s::bigint[], %s::text[], %s::bytea[], %s::bytea[], %s::integer[], "
    "%s::text[], %s::timestamptz[]) WITH ORDINALITY AS r(election_id, kind, canonical, "
    "leaf_hash, source_type_id, source_pk, created_at, position) ORDER BY position "
    "RETURNING id, election_id) "
    f"INSERT INTO {PendingEntry._meta.db_table} (entry_id, election_id) "
    "SELECT id, election_id FROM new ORDER BY id RETURNING entry_id"
)


def _insert_in_one_statement(entries: list[LogEntry]) -> None:
    """The entries and their pending rows in one round trip, and no savepoint: the statement
    is atomic by itself, and a submission should not wait for the network three more times."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                [entry.election_id for entry in entries],
                [entry.kind for entry in entries],
                [entry.canonical for entry in entries],
                [entry.leaf_hash for entry in entries],
                [entry.source_type_id for entry in entries],
                [entry.source_pk for entry in entries],
                [entry.created_at for entry in entries],
            ],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    # The sequence numbers the rows in the order they are selected, the entries' order.
    for entry, pk in zip(entries, ids, strict=True):
        entry.pk = pk
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
