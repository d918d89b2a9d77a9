"""What the log serves, read from its committed state and its files: tiles and bundles the
committed checkpoint covers, receipts (C2SP tlog-proof) and consistency proofs.

Only what the committed checkpoint covers is served: a tile the integrator wrote for a batch
it has not yet published is not visible, so every tile served is final and may be cached as
immutable (a full tile never changes; a partial tile of width W never changes either: a wider
one has another path).
"""

from __future__ import annotations

from dataclasses import dataclass

from pollwatch.core.tlog.checkpoint import parse_checkpoint
from pollwatch.core.tlog.cosignature import cosignature_timestamp
from pollwatch.core.tlog.note import NoteSignature, parse_note
from pollwatch.core.tlog.receipt import receipt_from_tiles
from pollwatch.core.tlog.tiles import consistency_proof_from_tiles, tile_width
from pollwatch.ledger.files import LogFiles
from pollwatch.ledger.keys import log_verifier
from pollwatch.ledger.models import LogEntry, LogIndex, LogState
from pollwatch.ledger.witnessing import configured_witnesses


class NotServed(Exception):
    """Nothing to serve at this address (HTTP 404); the message says why."""


class NotYet(NotServed):
    """Not in a checkpoint yet: ask again in a second."""


def published_state(slug: str) -> LogState:
    state = LogState.objects.select_related("election").filter(election__slug=slug).first()
    if state is None or not state.checkpoint:
        raise NotServed(f"election {slug!r} has no published log")
    return state


def tile_bytes(state: LogState, level: int | None, index: int, width: int) -> bytes:
    """A hash tile (level >= 0) or entry bundle (level None) the committed tree covers."""
    if not 1 <= width <= tile_width(0 if level is None else level, index, state.size):
        raise NotServed("the log's checkpoint does not cover this tile")
    return LogFiles.of(state.election).tile_in_tree(state.size, level, index, width)


def receipt(state: LogState, entry_id: int) -> bytes:
    """The `c2sp.org/tlog-proof@v1` receipt of entry `entry_id` against the latest checkpoint."""
    index = (
        LogIndex.objects.filter(entry_id=entry_id, election_id=state.pk)
        .values_list("index", flat=True)
        .first()
    )
    if index is None or index >= state.size:
        if not LogEntry.objects.filter(pk=entry_id, election_id=state.pk).exists():
            raise NotServed(f"log {state.origin} has no entry {entry_id}")
        raise NotYet(f"entry {entry_id} is not in a checkpoint yet")
    read_tile = LogFiles.of(state.election).tree_reader(state.size)
    return receipt_from_tiles(index, state.checkpoint.encode(), read_tile).encode()


def consistency(state: LogState, size1: int, size2: int | None) -> list[bytes]:
    """PROOF(size1, size2) (RFC 9162 §2.1.4.1) within the committed tree."""
    end = state.size if size2 is None else size2
    if not 0 < size1 <= end <= state.size:
        raise ValueError(
            f"need 0 < from <= to <= {state.size} (the log's size), got {size1}, {end}"
        )
    read_tile = LogFiles.of(state.election).tree_reader(state.size)
    return consistency_proof_from_tiles(read_tile, size1, end)


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


def summary(state: LogState) -> LogSummary:
    """The log as its public page and API show it; cosignatures are the checkpoint's other
    signature lines (each was verified with its witness key before it was published)."""
    verifier = log_verifier(state.origin)
    note = parse_note(state.checkpoint.encode())
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
        state.origin,
        checkpoint.size,
        checkpoint.root_hash,
        verifier.key_string(),
        state.checkpoint,
        tuple(witnesses),
    )
