"""Offline verification of what a log publishes: an exported log (C2SP tlog-tiles tree) and a
receipt (C2SP tlog-proof), with one rule for what a failure means.

- `UnreadableInput`: the verifier was not given something it can check — a missing or
  malformed checkpoint, receipt or key, a directory that is not a tiles tree. Exit code 2.
- `VerificationFailed`: the input was read, and it does not hold what it claims — a bad or
  missing signature, a quorum not met, a proof that fails, and for a log anything its signed
  checkpoint commits to that is missing, malformed or different (a tile, an entry bundle, the
  root). Exit code 1: a log that cannot back its checkpoint is an invalid log.

`verify_log` reads through a `read(path)` callable (so a directory, an archive or a mirror
served over HTTP can all be checked the same way); `verify_log_directory` binds it to a
directory on disk.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pollwatch.core.tlog.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from pollwatch.core.tlog.errors import TlogError
from pollwatch.core.tlog.export import CHECKPOINT_PATH
from pollwatch.core.tlog.hashing import HASH_SIZE, leaf_hash
from pollwatch.core.tlog.note import NoteSignature, Verifier, parse_note
from pollwatch.core.tlog.receipt import VerifiedReceipt, parse_receipt, verify_receipt
from pollwatch.core.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    entries_path,
    parse_entry_bundle,
    parse_tile_path,
    root_from_tiles,
    tile_path,
    tile_root,
    tile_width,
)

ReadFile = Callable[[str], bytes]
"""read(path) -> the bytes of the file at `path` (relative to the log's root, `/`-separated);
raises FileNotFoundError if there is none, another OSError if it cannot be read."""


class UnreadableInput(TlogError):
    """The input cannot be read or parsed, so there is nothing to verify (exit code 2)."""


class VerificationFailed(TlogError):
    """The input was read and does not verify (exit code 1)."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_witnesses(witnesses: Sequence[Verifier], quorum: int) -> None:
    """A witness named twice would count twice towards the quorum: refuse it as a usage
    error, like a quorum larger than the witnesses given."""
    seen: set[tuple[str, int]] = set()
    for witness in witnesses:
        if (witness.name, witness.key_id) in seen:
            raise UnreadableInput(f"witness key {witness.name}+{witness.key_id:08x} given twice")
        seen.add((witness.name, witness.key_id))
    if not 0 <= quorum <= len(witnesses):
        raise UnreadableInput(
            f"quorum {quorum} is not between 0 and the {len(witnesses)} witness keys given"
        )


def _parse_checkpoint_note(data: bytes, what: str) -> None:
    """Syntax only: a malformed note or checkpoint text is unreadable, not invalid."""
    try:
        parse_checkpoint(parse_note(data).text)
    except TlogError as error:
        raise UnreadableInput(f"{what}: {error}") from None


def _cosigners(
    signatures: Iterable[NoteSignature], witnesses: Sequence[Verifier]
) -> tuple[NoteSignature, ...]:
    ids = {(w.name, w.key_id) for w in witnesses}
    return tuple(s for s in signatures if (s.name, s.key_id) in ids)


def open_signed_checkpoint(
    data: bytes,
    log: Verifier,
    *,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
) -> tuple[Checkpoint, tuple[NoteSignature, ...]]:
    """The checkpoint in `data` and the witnesses' valid cosignatures on it, once it is a
    well-formed checkpoint (else UnreadableInput) signed by `log` for `origin` with at least
    `quorum` of `witnesses` cosigning (else VerificationFailed)."""
    _check_witnesses(witnesses, quorum)
    _parse_checkpoint_note(data, "checkpoint")
    try:
        checkpoint, opened = open_checkpoint(data, log, origin, witnesses)
    except TlogError as error:
        raise VerificationFailed(f"checkpoint: {error}") from None
    cosigners = _cosigners(opened.verified, witnesses)
    if len(cosigners) < quorum:
        raise VerificationFailed(
            f"checkpoint has {len(cosigners)} valid cosignatures by the witness keys given, "
            f"quorum is {quorum}"
        )
    return checkpoint, cosigners


def check_receipt(
    data: bytes,
    entry_leaf_hash: bytes,
    log: Verifier,
    *,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
) -> VerifiedReceipt:
    """Verify a `c2sp.org/tlog-proof@v1` receipt for the entry whose leaf hash is
    `entry_leaf_hash`, end to end (`receipt.verify_receipt`), classifying a failure: a
    malformed receipt or checkpoint is UnreadableInput, anything else VerificationFailed."""
    _check_witnesses(witnesses, quorum)
    if len(entry_leaf_hash) != HASH_SIZE:
        raise UnreadableInput(f"leaf hash is {len(entry_leaf_hash)} bytes, not {HASH_SIZE}")
    try:
        receipt = parse_receipt(data)
    except TlogError as error:
        raise UnreadableInput(str(error)) from None
    _parse_checkpoint_note(receipt.checkpoint, "receipt checkpoint")
    try:
        return verify_receipt(
            data, entry_leaf_hash, log, origin=origin, witnesses=witnesses, quorum=quorum
        )
    except TlogError as error:
        raise VerificationFailed(str(error)) from None


@dataclass(frozen=True)
class VerifiedLog:
    """What a verified log establishes: every entry bundle and tile the checkpoint's tree
    needs is present and recomputes to the checkpoint's root, which the log signed and
    `cosigners` cosigned. `stale_tiles` counts narrower copies of partial tiles and bundles
    that were checked as prefixes; `beyond_checkpoint` lists files the checkpoint does not
    cover (a larger tree being published), which nothing vouches for."""

    checkpoint: Checkpoint
    cosigners: tuple[NoteSignature, ...]
    bundles: int
    tiles: int
    stale_tiles: int
    beyond_checkpoint: tuple[str, ...]


def _covered(level: int, index: int, position: int) -> str:
    first = (index * TILE_WIDTH + position) << (TILE_HEIGHT * level)
    if level == 0:
        return f"entry {first}"
    return f"entries {first}..{first + (1 << (TILE_HEIGHT * level)) - 1}"


def _tile_difference(path: str, level: int, index: int, stored: bytes, computed: bytes) -> str:
    if len(stored) != len(computed):
        return (
            f"tile {path} is {len(stored)} bytes, expected {len(computed)} "
            f"({len(computed) // HASH_SIZE} hashes)"
        )
    position = next(
        p
        for p in range(len(computed) // HASH_SIZE)
        if stored[p * HASH_SIZE : (p + 1) * HASH_SIZE]
        != computed[p * HASH_SIZE : (p + 1) * HASH_SIZE]
    )
    at = slice(position * HASH_SIZE, (position + 1) * HASH_SIZE)
    return (
        f"tile {path} differs from the tile recomputed from the entries: hash {position} "
        f"(over {_covered(level, index, position)}) is {stored[at].hex()}, "
        f"recomputed {computed[at].hex()}"
    )


@dataclass
class _LogWalk:
    """One pass over the log: entry bundles in order, each tile recomputed from the level
    below as soon as it is complete, so memory stays at one tile per level."""

    read: ReadFile
    size: int
    # Stored widths of each tile or bundle found by listing, by (level, index); None = bundle.
    listed: dict[tuple[int | None, int], set[int]]
    pending: dict[int, bytearray] = field(default_factory=dict)
    full_tiles: dict[int, int] = field(default_factory=dict)
    last: dict[tuple[int, int], bytes] = field(default_factory=dict)
    bundles: int = 0
    tiles: int = 0
    stale: int = 0
    beyond: list[str] = field(default_factory=list)

    def required(self, path: str, what: str) -> bytes:
        try:
            return self.read(path)
        except FileNotFoundError:
            raise VerificationFailed(
                f"{what} {path} is missing; the checkpoint's tree of {self.size} entries needs it"
            ) from None
        except OSError as error:
            raise UnreadableInput(f"cannot read {path}: {error.strerror or error}") from None

    def other_widths(self, level: int | None, index: int, width: int) -> list[int]:
        """Stored widths of this tile besides the expected one; wider ones are beyond the
        checkpoint and only recorded."""
        widths = sorted(self.listed.pop((level, index), set()) - {width})
        for other in (w for w in widths if w > width):
            path = entries_path(index, other) if level is None else tile_path(level, index, other)
            self.beyond.append(path)
        return [w for w in widths if w < width]

    def walk(self) -> bytes:
        """Check every bundle and tile; return the root recomputed from the entries."""
        for index in range((self.size + TILE_WIDTH - 1) // TILE_WIDTH):
            self.bundle(index, tile_width(0, index, self.size))
        for level in sorted(self.pending):
            data = self.pending[level]
            if data:
                self.tile(level, self.full_tiles.get(level, 0), bytes(data))
        self.beyond.extend(
            entries_path(index, width) if level is None else tile_path(level, index, width)
            for (level, index), widths in sorted(self.listed.items(), key=str)
            for width in sorted(widths)
        )

        def read_last(level: int, index: int, width: int) -> bytes:
            return self.last[(level, index)][: width * HASH_SIZE]

        return root_from_tiles(read_last, self.size)

    def entries(self, path: str, width: int) -> list[bytes]:
        data = self.required(path, "entry bundle")
        try:
            return parse_entry_bundle(data, width)
        except TlogError as error:
            raise VerificationFailed(f"entry bundle {path}: {error}") from None

    def bundle(self, index: int, width: int) -> None:
        path = entries_path(index, width)
        entries = self.entries(path, width)
        for other in self.other_widths(None, index, width):
            stale = entries_path(index, other)
            if self.entries(stale, other) != entries[:other]:
                raise VerificationFailed(
                    f"entry bundle {stale} is not a prefix of {path}: an entry was changed"
                )
            self.stale += 1
        self.bundles += 1
        self.tile(0, index, b"".join(leaf_hash(entry) for entry in entries))

    def tile(self, level: int, index: int, computed: bytes) -> None:
        width = len(computed) // HASH_SIZE
        path = tile_path(level, index, width)
        stored = self.required(path, "tile")
        if stored != computed:
            raise VerificationFailed(_tile_difference(path, level, index, stored, computed))
        for other in self.other_widths(level, index, width):
            stale = tile_path(level, index, other)
            if self.required(stale, "tile") != computed[: other * HASH_SIZE]:
                raise VerificationFailed(
                    f"tile {stale} is not a prefix of the tile recomputed from the entries ({path})"
                )
            self.stale += 1
        self.tiles += 1
        self.last = {k: v for k, v in self.last.items() if k[0] != level}
        self.last[(level, index)] = computed
        if width == TILE_WIDTH:
            self.full_tiles[level] = index + 1
            above = self.pending.setdefault(level + 1, bytearray())
            above += tile_root(computed)
            if len(above) == TILE_WIDTH * HASH_SIZE:
                self.pending[level + 1] = bytearray()
                self.tile(level + 1, self.full_tiles.get(level + 1, 0), bytes(above))


def _listing(paths: Iterable[str]) -> dict[tuple[int | None, int], set[int]]:
    listed: dict[tuple[int | None, int], set[int]] = {}
    for path in paths:
        if not path.startswith("tile/"):
            continue  # a checkpoint, an index page: not part of the tree
        try:
            ref = parse_tile_path(path)
        except TlogError as error:
            raise UnreadableInput(f"not a tlog-tiles layout: {error}") from None
        listed.setdefault((ref.level, ref.index), set()).add(ref.width)
    return listed


def verify_log(
    read: ReadFile,
    log: Verifier,
    *,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
    paths: Iterable[str] = (),
) -> VerifiedLog:
    """Verify an exported log end to end: the checkpoint's signature by `log` for `origin`
    and at least `quorum` of `witnesses`' cosignatures (`open_signed_checkpoint`); every entry
    bundle the checkpoint's tree needs, each entry hashed to its leaf (RFC 9162 §2.1.1); every
    hash tile recomputed from the level below and compared with the stored one (C2SP
    tlog-tiles); the root recomputed from the entries equal to the checkpoint's. `paths`, the
    files the log holds (if known), adds: each is a tile path, and each narrower copy of a
    partial tile or bundle is a prefix of the full one. The first failure is raised, naming the
    file and the difference."""
    try:
        signed = read(CHECKPOINT_PATH)
    except OSError as error:
        raise UnreadableInput(f"cannot read the checkpoint: {error.strerror or error}") from None
    checkpoint, cosigners = open_signed_checkpoint(
        signed, log, origin=origin, witnesses=witnesses, quorum=quorum
    )
    walk = _LogWalk(read, checkpoint.size, _listing(paths))
    root = walk.walk()
    if root != checkpoint.root_hash:
        raise VerificationFailed(
            f"the entries give root {_b64(root)} at size {checkpoint.size}, but the checkpoint "
            f"says {_b64(checkpoint.root_hash)}"
        )
    return VerifiedLog(
        checkpoint, cosigners, walk.bundles, walk.tiles, walk.stale, tuple(walk.beyond)
    )


def verify_log_directory(
    directory: Path,
    log: Verifier,
    *,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
    quorum: int = 0,
) -> VerifiedLog:
    """`verify_log` over a tiles tree on disk (`checkpoint`, `tile/...`)."""
    if not directory.is_dir():
        raise UnreadableInput(f"{directory} is not a directory")

    def read(path: str) -> bytes:
        return (directory / path).read_bytes()

    paths = (p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())
    return verify_log(
        read, log, origin=origin, witnesses=witnesses, quorum=quorum, paths=sorted(paths)
    )
