"""C2SP tlog-checkpoint: the note text of a log's tree head, and opening a signed one.

<origin>
<tree size, decimal, no leading zeros>
<base64 root hash>
[<extension line>...]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pollwatch.core.tlog.errors import CheckpointError, NoteError
from pollwatch.core.tlog.hashing import HASH_SIZE
from pollwatch.core.tlog.note import (
    OpenedNote,
    Signer,
    Verifier,
    b64decode_strict,
    b64encode,
    check_note_text,
    open_note,
    sign_note,
)

MAX_TREE_SIZE = (1 << 64) - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("checkpoint origin must be one non-empty line")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"checkpoint tree size {self.size} is outside 0..2^64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root hash is {len(self.root_hash)} bytes, not 32")
        for number, line in enumerate(self.extensions, start=4):
            if not line or "\n" in line:
                raise CheckpointError(f"checkpoint extension line {number} must be non-empty")

    @property
    def text(self) -> str:
        """The note text (C2SP tlog-checkpoint §Note text), final newline included."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text strictly (C2SP tlog-checkpoint §Note text): at least three
    newline-terminated non-empty lines; the size in ASCII decimal with no leading zeros (at most
    2^64-1); the root hash as canonical base64 of 32 bytes; non-empty extension lines."""
    try:
        check_note_text(text)
    except NoteError as error:
        raise CheckpointError(f"checkpoint text: {error}") from None
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"checkpoint has {len(lines)} lines, needs origin, size and hash")
    origin, size, root = lines[:3]
    if not origin:
        raise CheckpointError("checkpoint origin line is empty")
    if not _DECIMAL.fullmatch(size):
        raise CheckpointError(f"checkpoint tree size {size!r} is not a decimal number")
    if int(size) > MAX_TREE_SIZE:
        raise CheckpointError(f"checkpoint tree size {size} is larger than 2^64-1")
    root_hash = b64decode_strict(root, "checkpoint root hash", CheckpointError)
    if len(root_hash) != HASH_SIZE:
        raise CheckpointError(f"checkpoint root hash is {len(root_hash)} bytes, not 32")
    for number, line in enumerate(lines[3:], start=4):
        if not line:
            raise CheckpointError(f"checkpoint line {number} (an extension line) is empty")
    return Checkpoint(origin, int(size), root_hash, tuple(lines[3:]))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer]) -> bytes:
    """The signed checkpoint note (C2SP tlog-checkpoint §Signatures, C2SP signed-note)."""
    return sign_note(checkpoint.text, signers)


def open_checkpoint(
    message: bytes,
    log: Verifier,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
) -> tuple[Checkpoint, OpenedNote]:
    """Verify a signed checkpoint: a valid signed note (C2SP signed-note) with a verified
    signature by the `log` key (other known keys, e.g. `witnesses`, are verified too), whose
    text is a checkpoint for `origin` (the log key's name by default) (C2SP tlog-checkpoint)."""
    opened = open_note(message, [log, *witnesses])
    if not opened.signed_by(log):
        raise CheckpointError(f"checkpoint is not signed by the log key {log.name}")
    checkpoint = parse_checkpoint(opened.text)
    expected = log.name if origin is None else origin
    if checkpoint.origin != expected:
        raise CheckpointError(
            f"checkpoint origin {checkpoint.origin!r} is not the expected {expected!r}"
        )
    return checkpoint, opened
