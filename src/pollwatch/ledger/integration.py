"""The single integrator: pending entries -> contiguous indexes -> tiles -> signed checkpoint.

One batch of one election's log goes through three steps, as CT-style logs do:

1. **sequence** (one transaction): lock the log's state row, give the oldest pending entries
   the next indexes, advance `LogState.sequenced`. From here the order is fixed for good.
2. **integrate** (files): read the sequenced entries from the database, extend the tiles and
   entry bundles (`core.tlog.tiles.integrate`, checked against the last checkpoint's root) and
   write them; sign a checkpoint for the new size.
3. **publish** (one transaction): store the new size, root and signed checkpoint, on the
   condition that the size is still the one step 2 started from; then write the checkpoint
   file, and ask the witnesses to cosign it.

A crash anywhere leaves a consistent log. Before 1 commits, nothing happened. Between 1 and 3,
the entries keep their indexes and the next run integrates exactly them, in that order,
rewriting any tile it had written with the same bytes (so a full tile never changes once
written). After 3, only the checkpoint file may be stale, and `check_files` rewrites it. Tiles
are derived data: `check_files` compares them with the committed root at start and rebuilds
them from the database if they differ.

One integrator at a time: `integrator_lock` (PostgreSQL advisory lock; on SQLite an exclusive
`flock` on DATA_DIR/log/integrator.lock, released by the kernel if the process dies); each
step also locks the state row, and step 3 is a compare-and-set on the size.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from pollwatch.core.tlog import EMPTY_ROOT, TlogError, leaf_hash
from pollwatch.core.tlog.checkpoint import Checkpoint, sign_checkpoint
from pollwatch.core.tlog.tiles import (
    TILE_WIDTH,
    check_entry_bundle,
    extend_entry_bundles,
    integrate,
    parse_entry_bundle,
    root_from_tiles,
    tile_width,
)
from pollwatch.ledger.errors import LedgerError
from pollwatch.ledger.files import CHECKPOINT_FILE_LOCK, LOG_DIR, LogFiles
from pollwatch.ledger.keys import log_signer, new_origin
from pollwatch.ledger.models import LogCheckpoint, LogEntry, LogIndex, LogState, PendingEntry
from pollwatch.registry.models import Election

DEFAULT_BATCH = 4096
ADVISORY_KEY = 0x706F6C6C_6C6F67  # "polllog": one integrator per database
FAULT_ENV = "POLLWATCH_INTEGRATOR_FAULT"
"""Test hook: the name of a point at which the integrator kills itself with SIGKILL
("sequenced", "tiles-written", "published"), to test recovery from a crash there."""


def _fault_point(name: str) -> None:
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def integrator_lock() -> Iterator[None]:
    """Hold the one integrator lock for the block, or raise LedgerError if another process
    holds it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
            (acquired,) = cursor.fetchone()
        if not acquired:
            raise LedgerError(_("another integrator is running (PostgreSQL advisory lock held)"))
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
        return
    # SQLite has no advisory locks; its database is a local file, and so is this lock, which
    # the kernel releases when the process dies (a lock row would outlive a SIGKILL).
    path = Path(settings.DATA_DIR) / LOG_DIR / "integrator.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LedgerError(
                _("another integrator is running (lock file %(path)s held)") % {"path": path}
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def log_state(election: Election) -> LogState:
    """The election's log state, created (with its origin fixed) on first use."""
    state, _created = LogState.objects.get_or_create(
        election=election, defaults={"origin": new_origin(election), "root": EMPTY_ROOT}
    )
    return state


def _locked_state(election_id: int) -> LogState:
    """The state row, write-locked for the transaction: the UPDATE takes SQLite's write lock
    at once (a deferred transaction that reads first could fail to upgrade), and the row lock
    on PostgreSQL."""
    LogState.objects.filter(pk=election_id).update(updated_at=timezone.now())
    return LogState.objects.select_for_update().get(pk=election_id)


def sequence(election: Election, limit: int = DEFAULT_BATCH) -> int:
    """Step 1: give up to `limit` pending entries, oldest first, the next indexes. Returns how
    many were sequenced.

    Two statements in one transaction: number the oldest pending entries into LogIndex, then
    delete exactly the pending rows just numbered. Narrow inserts and deletes, no update of
    the wide entry rows."""
    log_state(election)
    index_table = LogIndex._meta.db_table
    pending_table = PendingEntry._meta.db_table
    with transaction.atomic():
        state = _locked_state(election.pk)
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO {index_table} (entry_id, election_id, "index") '
                f"SELECT entry_id, election_id, %s + ROW_NUMBER() OVER (ORDER BY entry_id) - 1 "
                f"FROM (SELECT entry_id, election_id FROM {pending_table} "
                f"WHERE election_id = %s ORDER BY entry_id LIMIT %s) AS oldest",
                [state.sequenced, election.pk, limit],
            )
            count = cursor.rowcount
            if count:
                cursor.execute(
                    f"DELETE FROM {pending_table} WHERE entry_id IN "
                    f"(SELECT entry_id FROM {index_table} "
                    f'WHERE election_id = %s AND "index" >= %s)',
                    [election.pk, state.sequenced],
                )
                if cursor.rowcount != count:
                    raise LedgerError(
                        f"sequencing {state.origin}: {count} entries numbered but "
                        f"{cursor.rowcount} pending rows removed"
                    )
        if count:
            state.sequenced += count
            state.save(update_fields=["sequenced"])
    if count:
        _fault_point("sequenced")
    return count


@dataclass(frozen=True)
class Published:
    """One integrated batch: the log's new size and root, and the signed checkpoint."""

    election_id: int
    old_size: int
    size: int
    root: bytes
    checkpoint: bytes


def _entries(election_id: int, start: int, end: int) -> list[bytes]:
    """The canonical bytes of entries start..end-1, checked to be exactly those indexes (one
    plain query: the ORM's per-row cost would be most of a large batch's time)."""
    entry_table, index_table = LogEntry._meta.db_table, LogIndex._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT i."index", e.canonical FROM {index_table} i '
            f"JOIN {entry_table} e ON e.id = i.entry_id "
            f'WHERE i.election_id = %s AND i."index" >= %s AND i."index" < %s '
            f'ORDER BY i."index"',
            [election_id, start, end],
        )
        rows = cursor.fetchall()
    entries = []
    for expected, (index, data) in enumerate(rows, start=start):
        if index != expected:
            raise LedgerError(f"log entry {expected} is missing from the database")
        entries.append(bytes(data))
    if len(entries) != end - start:
        raise LedgerError(f"log entry {start + len(entries)} is missing from the database")
    return entries


def _write_batch(files: LogFiles, size: int, root: bytes, entries: Sequence[bytes]) -> bytes:
    """Extend the tiles and bundles of the tree of `size` leaves (root `root`) by `entries`;
    returns the new root."""
    hashes = [leaf_hash(entry) for entry in entries]
    result = integrate(size, files.read_tile, hashes, old_root=root if size else None)
    bundles = extend_entry_bundles(size, files.read_bundle, entries)
    for tile in result.tiles:
        files.write(tile.path, tile.hashes)
    for bundle in bundles:
        files.write(bundle.path, bundle.data)
    return result.root


def integrate_sequenced(election: Election, limit: int = DEFAULT_BATCH) -> Published | None:
    """Steps 2 and 3 for up to `limit` sequenced entries; None if there were none."""
    state = LogState.objects.get(pk=election.pk)
    if state.sequenced == state.size:
        return None
    old_size, end = state.size, min(state.sequenced, state.size + limit)
    files = LogFiles.of(election)
    entries = _entries(election.pk, old_size, end)
    try:
        root = _write_batch(files, old_size, bytes(state.root), entries)
    except (TlogError, OSError):
        # The stored tiles do not give the last checkpoint's root: rebuild them from the
        # database, then extend.
        rebuild_files(state)
        root = _write_batch(files, old_size, bytes(state.root), entries)
    _fault_point("tiles-written")
    signed = sign_checkpoint(Checkpoint(state.origin, end, root), [log_signer(state.origin)])
    now = timezone.now()
    with transaction.atomic():
        updated = LogState.objects.filter(pk=election.pk, size=old_size).update(
            size=end, root=root, checkpoint=signed.decode(), updated_at=now
        )
        if not updated:
            raise LedgerError(
                f"log {state.origin} grew past size {old_size} under this integrator: "
                "is another one running without the lock?"
            )
        LogCheckpoint.objects.create(
            election_id=election.pk,
            size=end,
            root=root,
            checkpoint=signed.decode(),
            published_at=now,
        )
    _fault_point("published")
    with CHECKPOINT_FILE_LOCK:
        files.write_checkpoint(signed)
    return Published(election.pk, old_size, end, root, signed)


def check_files(state: LogState) -> bool:
    """Whether the log's files back its committed checkpoint: tiles giving its root, the last
    entry bundle matching its tile, the checkpoint file equal to the committed one. If not,
    rebuild them from the database. Returns True if a rebuild was needed."""
    files = LogFiles.of(state.election)
    files.clear_temporary()
    try:
        _check_files(files, state)
    except (TlogError, OSError, LedgerError):
        rebuild_files(state)
        return True
    return False


def _check_files(files: LogFiles, state: LogState) -> None:
    if state.size == 0:
        return
    if root_from_tiles(files.read_tile, state.size) != bytes(state.root):
        raise LedgerError(f"tiles of {state.origin} do not give the checkpoint's root")
    last = (state.size - 1) // TILE_WIDTH
    width = tile_width(0, last, state.size)
    bundle = parse_entry_bundle(files.read_bundle(last, width), width)
    check_entry_bundle(bundle, files.read_tile(0, last, width))
    if files.read_checkpoint().decode() != state.checkpoint:
        raise LedgerError(f"checkpoint file of {state.origin} is not the committed one")


def rebuild_files(state: LogState, chunk: int = 16 * TILE_WIDTH) -> None:
    """Write every tile and entry bundle of the committed tree again from the database's
    entries, check the root against the committed checkpoint, and write the checkpoint file.
    A root that differs means the database's entries are not the ones the log signed."""
    files = LogFiles.of(state.election)
    size, root = 0, EMPTY_ROOT
    while size < state.size:
        end = min(state.size, size + chunk)
        root = _write_batch(files, size, root, _entries(state.pk, size, end))
        size = end
    if root != bytes(state.root):
        raise LedgerError(
            f"the database's entries 0..{state.size - 1} of {state.origin} give root "
            f"{root.hex()}, not the signed checkpoint's {bytes(state.root).hex()}"
        )
    if state.checkpoint:
        files.write_checkpoint(state.checkpoint.encode())


def elections_with_work() -> list[Election]:
    """Elections whose log has pending or sequenced-but-unpublished entries."""
    pending = set(PendingEntry.objects.values_list("election_id", flat=True).distinct())
    behind = set(
        LogState.objects.filter(sequenced__gt=F("size")).values_list("election_id", flat=True)
    )
    return list(Election.objects.filter(pk__in=pending | behind).order_by("pk"))


def integrate_pending(
    batch: int = DEFAULT_BATCH, on_published: Callable[[Published], None] | None = None
) -> list[Published]:
    """Sequence and integrate everything pending now, in batches of at most `batch`.

    Entries that arrive while a pass works wait for the next pass: under a steady stream of
    submissions, going on at once would sign a checkpoint (and write its tiles, and send it to
    the witnesses) for every handful of entries; waiting for the next pass signs one per
    interval, for all of them."""
    published: list[Published] = []
    for election in elections_with_work():
        while True:
            fresh = sequence(election, batch)
            result = integrate_sequenced(election, batch)
            if result is None:
                break
            published.append(result)
            if on_published is not None:
                on_published(result)
            if fresh < batch and result.size - result.old_size < batch:
                break  # all that was pending, or sequenced earlier, when this batch began
    return published


def start_checks() -> list[str]:
    """At start: check every log's files against its committed state and rebuild those that
    do not match. Returns the origins rebuilt."""
    rebuilt = []
    for state in LogState.objects.select_related("election").order_by("pk"):
        if check_files(state):
            rebuilt.append(state.origin)
    return rebuilt


def run(
    *,
    once: bool,
    interval: float,
    batch: int = DEFAULT_BATCH,
    on_published: Callable[[Published], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """The integrator: under the lock, check the files, then integrate until stopped (or one
    pass with `once`). Returns the number of checkpoints published."""
    count = 0
    with integrator_lock():
        start_checks()
        while True:
            started = time.monotonic()
            count += len(integrate_pending(batch, on_published))
            if once or should_stop():
                return count
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
