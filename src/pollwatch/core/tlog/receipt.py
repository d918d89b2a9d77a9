"""C2SP tlog-proof: the `c2sp.org/tlog-proof@v1` receipt, an offline-verifiable proof that an
entry is in the log, as seen by the log's checkpoint and its witnesses.

    c2sp.org/tlog-proof@v1
    [extra <base64 opaque data>]
    index <decimal>
    <base64 hash>                 (zero or more: the inclusion proof, leaf's sibling first)
    <blank line>
    <signed checkpoint, verbatim>

Parsing is strict (no leading zeros, canonical base64, 32-byte hashes, the blank line present,
a non-empty checkpoint); `verify_receipt` checks everything end to end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pollwatch.core.tlog.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from pollwatch.core.tlog.errors import ReceiptError, TlogError
from pollwatch.core.tlog.hashing import HASH_SIZE
from pollwatch.core.tlog.note import (
    MAX_NOTE_BYTES,
    NoteSignature,
    Verifier,
    b64decode_strict,
    b64encode,
    parse_note,
)
from pollwatch.core.tlog.tiles import ReadTile, inclusion_proof_from_tiles
from pollwatch.core.tlog.verify import verify_inclusion

HEADER = "c2sp.org/tlog-proof@v1"
MAX_INDEX = (1 << 64) - 1
MAX_RECEIPT_BYTES = 2 * MAX_NOTE_BYTES
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Receipt:
    """A parsed receipt: entry index, inclusion proof, the signed checkpoint's bytes, and the
    optional unauthenticated extra data."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None = None

    def encode(self) -> bytes:
        """The receipt's text (C2SP tlog-proof §Format)."""
        if not 0 <= self.index <= MAX_INDEX:
            raise ReceiptError(f"receipt index {self.index} is outside 0..2^64-1")
        for position, value in enumerate(self.proof):
            if len(value) != HASH_SIZE:
                raise ReceiptError(f"receipt proof hash {position} is {len(value)} bytes")
        if not self.checkpoint:
            raise ReceiptError("receipt needs a checkpoint")
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64encode(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64encode(h) for h in self.proof)
        return ("".join(line + "\n" for line in lines) + "\n").encode() + self.checkpoint


def receipt_from_tiles(
    index: int, signed_checkpoint: bytes, read_tile: ReadTile, extra: bytes | None = None
) -> Receipt:
    """The receipt the server hands out for entry `index` (C2SP tlog-proof): the inclusion
    proof in the tree of `signed_checkpoint` (RFC 9162 §2.1.3.1), read from the log's tiles
    (C2SP tlog-tiles). The checkpoint is the log's own and is not re-verified here."""
    checkpoint = parse_checkpoint(parse_note(signed_checkpoint).text)
    proof = inclusion_proof_from_tiles(read_tile, index, checkpoint.size)
    return Receipt(index, tuple(proof), signed_checkpoint, extra)


def parse_receipt(data: bytes) -> Receipt:
    """Parse a `c2sp.org/tlog-proof@v1` receipt strictly (C2SP tlog-proof §Format)."""
    if len(data) > MAX_RECEIPT_BYTES:
        raise ReceiptError(f"receipt is {len(data)} bytes, more than {MAX_RECEIPT_BYTES}")
    offset = 0

    def next_line(what: str) -> str:
        nonlocal offset
        end = data.find(b"\n", offset)
        if end < 0:
            raise ReceiptError(f"receipt ends before its {what}")
        raw = data[offset:end]
        offset = end + 1
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise ReceiptError(f"receipt's {what} is not ASCII") from None

    if next_line("header line") != HEADER:
        raise ReceiptError(f"receipt does not start with the line {HEADER}")
    line = next_line("index line")
    extra = None
    if line.startswith("extra "):
        extra = b64decode_strict(line[len("extra ") :], "receipt extra data", ReceiptError)
        line = next_line("index line")
    if not line.startswith("index "):
        raise ReceiptError("receipt has no 'index <n>' line after its header")
    number = line[len("index ") :]
    if not _DECIMAL.fullmatch(number) or int(number) > MAX_INDEX:
        raise ReceiptError(f"receipt index {number!r} is not a decimal uint64")
    proof: list[bytes] = []
    while (line := next_line("blank line before the checkpoint")) != "":
        value = b64decode_strict(line, f"receipt proof hash {len(proof)}", ReceiptError)
        if len(value) != HASH_SIZE:
            raise ReceiptError(f"receipt proof hash {len(proof)} is {len(value)} bytes, not 32")
        proof.append(value)
    checkpoint = data[offset:]
    if not checkpoint:
        raise ReceiptError("receipt has no checkpoint after the blank line")
    return Receipt(int(number), tuple(proof), bytes(checkpoint), extra)


@dataclass(frozen=True)
class VerifiedReceipt:
    """What a verified receipt establishes: the entry at `index` is in the tree of
    `checkpoint`, signed by the log and cosigned by `cosigners` (distinct witness keys)."""

    index: int
    checkpoint: Checkpoint
    log_signature: NoteSignature
    cosigners: tuple[NoteSignature, ...]
    extra: bytes | None


def verify_receipt(
    data: bytes,
    leaf_hash: bytes,
    log: Verifier,
    *,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
) -> VerifiedReceipt:
    """Verify a receipt end to end (C2SP tlog-proof): its syntax; the checkpoint as a signed
    note with a valid signature by `log` (C2SP signed-note) and a checkpoint text for `origin`
    (C2SP tlog-checkpoint); at least `quorum` distinct `witnesses` with valid cosignatures
    (C2SP tlog-cosignature); and the inclusion of `leaf_hash` at the index (RFC 9162 §2.1.3.2).
    Raises ReceiptError naming the failed check."""
    if not 0 <= quorum <= len(witnesses):
        raise ReceiptError(f"quorum {quorum} is not between 0 and {len(witnesses)} witnesses")
    receipt = parse_receipt(data)
    try:
        checkpoint, opened = open_checkpoint(receipt.checkpoint, log, origin, witnesses)
    except TlogError as error:
        raise ReceiptError(f"receipt checkpoint: {error}") from error
    witness_ids = {(w.name, w.key_id) for w in witnesses}
    cosigners = tuple(s for s in opened.verified if (s.name, s.key_id) in witness_ids)
    if len(cosigners) < quorum:
        raise ReceiptError(
            f"receipt checkpoint has {len(cosigners)} valid witness cosignatures, "
            f"quorum is {quorum}"
        )
    try:
        verify_inclusion(
            leaf_hash, receipt.index, checkpoint.size, receipt.proof, checkpoint.root_hash
        )
    except TlogError as error:
        raise ReceiptError(f"receipt inclusion proof: {error}") from error
    log_signature = next(s for s in opened.verified if (s.name, s.key_id) == (log.name, log.key_id))
    return VerifiedReceipt(receipt.index, checkpoint, log_signature, cosigners, receipt.extra)
