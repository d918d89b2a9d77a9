"""What the log serves, read from its committed state and its files: tiles and bundles the
committed checkpoint covers, receipts (C2SP tlog-proof) and consistency proofs.

Only what the committed checkpoint covers is served: a tile the integrator wrote for a batch
it has not yet published is not visible, so every tile served is final and may be cached as
immutable (a full tile never changes; a partial tile of width W never changes either: a wider
one has another path).

Every request reads the published state afresh, in one hand-written statement (a receipt's
also gives the entry's index), so it is always the latest checkpoint and never what the
integrator has not published; proofs come from tiles kept in memory (`tile_cache`).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from django.db import connection
from django.db.models import Field, Model

from pollwatch.core.tlog.checkpoint import parse_checkpoint
from pollwatch.core.tlog.cosignature import cosignature_timestamp
from pollwatch.core.tlog.note import NoteSignature, parse_note
from pollwatch.core.tlog.receipt import Receipt
from pollwatch.core.tlog.tiles import tile_width
from pollwatch.ledger import tile_cache
from pollwatch.ledger.files import LogFiles
from pollwatch.ledger.keys import log_verifier
from pollwatch.ledger.models import LogEntry, LogIndex, LogState
from pollwatch.ledger.witnessing import configured_witnesses
from pollwatch.registry.models import Election

MAX_ID = (1 << 63) - 1  # entry ids are signed 64-bit in both databases


class NotServed(Exception):
    """Nothing to serve at this address (HTTP 404); the message says why."""


class NotYet(NotServed):
    """Not in a checkpoint yet: ask again in a second."""


@dataclass(frozen=True)
class PublishedLog:
    """An election's log as its latest published checkpoint has it."""

    election_id: int
    slug: str
    origin: str
    size: int
    checkpoint: str

    @property
    def files(self) -> LogFiles:
        return LogFiles.of_slug(self.slug)

    @property
    def version(self) -> str:
        """Names the checkpoint, cosignatures included (an ETag for what is served from it)."""
        return hashlib.sha256(self.checkpoint.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class LocatedEntry:
    """An entry the published checkpoint holds, at `index`."""

    log: PublishedLog
    entry_id: int
    index: int


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return connection.ops.quote_name(field.column)


@functools.cache
def _published_sql(vendor: str, with_entry: bool) -> str:
    """The log state of an election by slug (and an entry's index in it), in one statement:
    serving runs it on every request, where building the same query with the ORM would cost
    more than running it."""
    del vendor  # part of the cache key: quoting is the connection's
    state, election, log_index = (m._meta.db_table for m in (LogState, Election, LogIndex))
    columns = ", ".join(f"s.{_column(LogState, f)}" for f in ("origin", "size", "checkpoint"))
    sql = f"SELECT s.{_column(LogState, 'election')}, {columns}"
    if with_entry:
        sql += f", i.{_column(LogIndex, 'index')}"
    sql += (
        f" FROM {state} s INNER JOIN {election} e"
        f" ON e.{_column(Election, 'id')} = s.{_column(LogState, 'election')}"
    )
    if with_entry:
        sql += (
            f" LEFT JOIN {log_index} i ON i.{_column(LogIndex, 'entry')} = %s"
            f" AND i.{_column(LogIndex, 'election')} = s.{_column(LogState, 'election')}"
        )
    return sql + f" WHERE e.{_column(Election, 'slug')} = %s"


def _published(slug: str, entry_id: int | None) -> tuple[PublishedLog, int | None]:
    """The published log, and the index of `entry_id` in it if that entry has one."""
    parameters: list[str | int | None] = [slug]
    if entry_id is not None:
        # An id beyond the column's range matches nothing (and must not reach the driver).
        parameters.insert(0, entry_id if entry_id <= MAX_ID else None)
    with connection.cursor() as cursor:
        cursor.execute(_published_sql(connection.vendor, entry_id is not None), parameters)
        row = cursor.fetchone()
    if row is None or not row[3]:
        raise NotServed(f"election {slug!r} has no published log")
    log = PublishedLog(row[0], slug, row[1], row[2], row[3])
    return log, None if entry_id is None else row[4]


def published_log(slug: str) -> PublishedLog:
    """The election's log at its latest published checkpoint; NotServed if none."""
    return _published(slug, None)[0]


def locate_entry(slug: str, entry_id: int) -> LocatedEntry:
    """Entry `entry_id` of the election's log, if the latest checkpoint holds it: NotServed if
    the log has no such entry, NotYet if it is not in a checkpoint yet."""
    log, index = _published(slug, entry_id)
    if index is None or index >= log.size:
        if entry_id > MAX_ID or not (
            LogEntry.objects.filter(pk=entry_id, election_id=log.election_id).exists()
        ):
            raise NotServed(f"log {log.origin} has no entry {entry_id}")
        raise NotYet(f"entry {entry_id} is not in a checkpoint yet")
    return LocatedEntry(log, entry_id, index)


def tile_bytes(log: PublishedLog, level: int | None, index: int, width: int) -> bytes:
    """A hash tile (level >= 0) or entry bundle (level None) the committed tree covers."""
    if not 1 <= width <= tile_width(0 if level is None else level, index, log.size):
        raise NotServed("the log's checkpoint does not cover this tile")
    if level is None:  # read as it is: bundles are large, and fetched once by each mirror
        return log.files.tile_in_tree(log.size, None, index, width)
    return tile_cache.hash_tile(log.files, log.size, level, index, width)


def receipt(entry: LocatedEntry) -> bytes:
    """The `c2sp.org/tlog-proof@v1` receipt of `entry` against the latest checkpoint."""
    log = entry.log
    proof = tile_cache.inclusion_proof(log.files, entry.index, log.size)
    return Receipt(entry.index, tuple(proof), log.checkpoint.encode()).encode()


def consistency(log: PublishedLog, size1: int, size2: int | None) -> list[bytes]:
    """PROOF(size1, size2) (RFC 9162 §2.1.4.1) within the committed tree."""
    end = log.size if size2 is None else size2
    if not 0 < size1 <= end <= log.size:
        raise ValueError(f"need 0 < from <= to <= {log.size} (the log's size), got {size1}, {end}")
    return tile_cache.consistency_proof(log.files, log.size, size1, end)


@dataclass(frozen=True)
class WitnessView:
    """A configured witness, and its cosignature on the current checkpoint if there is one."""

    name: str
    url: str
    verifier_key: str
    cosigned_at: int | None  # the cosignature's timestamp (POSIX seconds)


@dataclass(frozen=True)
class LogSummary:
    origin: str
    size: int
    root_hash: bytes
    verifier_key: str
    checkpoint: str
    witnesses: tuple[WitnessView, ...]


def summary(log: PublishedLog) -> LogSummary:
    """The log as its public page and API show it; cosignatures are the checkpoint's other
    signature lines (each was verified with its witness key before it was published)."""
    verifier = log_verifier(log.origin)
    note = parse_note(log.checkpoint.encode())
    checkpoint = parse_checkpoint(note.text)
    signatures: dict[tuple[str, int], NoteSignature] = {
        (s.name, s.key_id): s for s in note.signatures
    }
    witnesses = []
    for witness in configured_witnesses():
        signature = signatures.get((witness.key.name, witness.key.key_id))
        witnesses.append(
            WitnessView(
                witness.key.name,
                witness.url,
                witness.key.key_string(),
                None if signature is None else cosignature_timestamp(signature),
            )
        )
    return LogSummary(
        log.origin,
        checkpoint.size,
        checkpoint.root_hash,
        verifier.key_string(),
        log.checkpoint,
        tuple(witnesses),
    )
