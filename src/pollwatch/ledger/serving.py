"""What the log serves, read from its committed state and its files: tiles and bundles the
committed checkpoint covers, receipts (C2SP tlog-proof) and consistency proofs.

Only what the committed checkpoint covers is served: a tile the integrator wrote for a batch
it has not yet published is not visible, so every tile served is final and may be cached as
immutable (a full tile never changes; a partial tile of width W never changes either: a wider
one has another path).

Every request reads the published state afresh, in one hand-written statement (a receipt's
also gives the entry's index), so it is always the latest checkpoint and never what the
integrator has not published; proofs come from tiles kept in memory (`tile_cache`).
What follows from a checkpoint alone (its bytes, ETag, root, the tiles of its tree) is kept
with it while it is the latest: a request whose statement returns the same checkpoint reuses
it, one that returns another (the log grew, or a witness cosigned) starts afresh. A receipt is
checked against the checkpoint's root before it is served.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Field, Model

from pollwatch.core.tlog.checkpoint import parse_checkpoint
from pollwatch.core.tlog.cosignature import cosignature_timestamp
from pollwatch.core.tlog.note import NoteSignature, parse_note
from pollwatch.core.tlog.proof import inclusion_path
from pollwatch.core.tlog.receipt import Receipt
from pollwatch.core.tlog.tiles import tile_width
from pollwatch.core.tlog.verify import root_from_inclusion_proof
from pollwatch.ledger import tile_cache
from pollwatch.ledger.files import LogFiles
from pollwatch.ledger.keys import log_verifier
from pollwatch.ledger.models import LogEntry, LogIndex, LogState
from pollwatch.ledger.witnessing import configured_witnesses
from pollwatch.registry.models import Election

MAX_ID = (1 << 63) - 1  # entry ids are signed 64-bit in both databases
KEPT_LOGS = 256
"""Published logs kept with what their checkpoint gives (one per election and data dir)."""

logger = logging.getLogger(__name__)


class NotServed(Exception):
    """Nothing to serve at this address (HTTP 404); the message says why."""


class NotYet(NotServed):
    """Not in a checkpoint yet: ask again in a second."""


class DamagedTiles(OSError):
    """The log's tiles on disk do not give its checkpoint's root: served like missing files
    (503, try again), as the integrator rebuilds them from the database."""


@dataclass(frozen=True)
class PublishedLog:
    """An election's log as its latest published checkpoint has it."""

    election_id: int
    slug: str
    origin: str
    size: int
    checkpoint: str

    # Worked out once per checkpoint: `_latest` keeps this object while it is the latest.
    @functools.cached_property
    def files(self) -> LogFiles:
        return LogFiles.of_slug(self.slug)

    @functools.cached_property
    def signed(self) -> bytes:
        """The signed checkpoint as served."""
        return self.checkpoint.encode()

    @functools.cached_property
    def version(self) -> str:
        """Names the checkpoint, cosignatures included (an ETag for what is served from it)."""
        return hashlib.sha256(self.signed).hexdigest()[:20]

    @functools.cached_property
    def root(self) -> bytes:
        """The root hash the checkpoint signs."""
        return parse_checkpoint(parse_note(self.signed).text).root_hash

    @functools.cached_property
    def tree(self) -> tile_cache.CachedTree:
        """The checkpoint's tree, its tiles held across requests (`CachedTree`)."""
        return tile_cache.CachedTree(self.files, self.size)


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
    more than running it. A scalar subquery rather than a join: PostgreSQL runs it in about
    two thirds of the time (0.13 against 0.19 ms, measured in a loop); each further table or
    subquery costs it ~0.02-0.04 ms more."""
    del vendor  # part of the cache key: quoting is the connection's
    state, election, log_index = (m._meta.db_table for m in (LogState, Election, LogIndex))
    log = f"s.{_column(LogState, 'election')}"
    columns = ", ".join(f"s.{_column(LogState, f)}" for f in ("origin", "size", "checkpoint"))
    sql = f"SELECT {log}, {columns}"
    if with_entry:
        sql += (
            f", (SELECT i.{_column(LogIndex, 'index')} FROM {log_index} i"
            f" WHERE i.{_column(LogIndex, 'entry')} = %s"
            f" AND i.{_column(LogIndex, 'election')} = {log})"
        )
    return sql + (
        f" FROM {state} s WHERE {log} = (SELECT e.{_column(Election, 'id')} FROM {election} e"
        f" WHERE e.{_column(Election, 'slug')} = %s)"
    )


@functools.cache
def _entry_sql(vendor: str) -> str:
    del vendor  # part of the cache key: quoting is the connection's
    return (
        f"SELECT 1 FROM {LogEntry._meta.db_table} WHERE {_column(LogEntry, 'id')} = %s"
        f" AND {_column(LogEntry, 'election')} = %s"
    )


def _has_entry(election_id: int, entry_id: int) -> bool:
    if entry_id > MAX_ID:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_entry_sql(connection.vendor), [entry_id, election_id])
        return cursor.fetchone() is not None


_latest: dict[tuple[str, str], PublishedLog] = {}


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
    return _kept(slug, row[0], row[1], row[2], row[3]), None if entry_id is None else row[4]


def _kept(slug: str, election_id: int, origin: str, size: int, checkpoint: str) -> PublishedLog:
    """The kept PublishedLog of this checkpoint, or a new one kept in its place."""
    key = (str(settings.DATA_DIR), slug)  # the data dir: tests and tools may point elsewhere
    log = _latest.get(key)
    fields = (checkpoint, election_id, size, origin)
    if log is None or (log.checkpoint, log.election_id, log.size, log.origin) != fields:
        log = PublishedLog(election_id, slug, origin, size, checkpoint)
        if len(_latest) >= KEPT_LOGS:
            _latest.clear()
        _latest[key] = log
    return log


def published_log(slug: str) -> PublishedLog:
    """The election's log at its latest published checkpoint; NotServed if none."""
    return _published(slug, None)[0]


def locate_entry(slug: str, entry_id: int) -> LocatedEntry:
    """Entry `entry_id` of the election's log, if the latest checkpoint holds it: NotServed if
    the log has no such entry, NotYet if it is not in a checkpoint yet."""
    log, index = _published(slug, entry_id)
    if index is None or index >= log.size:
        # A second statement, only for an entry without a receipt: a served receipt reads no
        # row of the large entry table.
        if not _has_entry(log.election_id, entry_id):
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
    return Receipt(entry.index, tuple(_inclusion_proof(entry)), entry.log.signed).encode()


def _inclusion_proof(entry: LocatedEntry) -> list[bytes]:
    """The entry's inclusion proof, once it leads from the leaf hash at its index to the
    checkpoint's root: the checkpoint's tree holds its tiles without looking at the files
    again, so a tile read while damaged is found here, and read again in case it has been
    rebuilt since. (That the leaf is the entry's is the integrator's to keep, and `pollwatch
    verify database`'s to check.)"""
    log, index = entry.log, entry.index
    for _ in range(2):
        proof = inclusion_path(log.tree, index, log.size)
        if root_from_inclusion_proof(log.tree(0, index), index, log.size, proof) == log.root:
            return proof
        log.tree.forget()
    logger.error("log %s: the tiles do not give the inclusion proof of entry %s (index %s)",
                 log.origin, entry.entry_id, entry.index)  # fmt: skip
    raise DamagedTiles(f"the tiles of log {log.origin} do not match its checkpoint")


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
