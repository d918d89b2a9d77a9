"""An exported log: every file a static C2SP tlog-tiles log serves, built from its entries.

    checkpoint                  the signed (and optionally cosigned) checkpoint note
    tile/<L>/<N>[.p/<W>]        hash tiles, full and the rightmost partial one of each level
    tile/entries/<N>[.p/<W>]    entry bundles

`export_log` builds the files in memory from the whole list of entries (the integrator's own
functions, `integrate` and `extend_entry_bundles`, from an empty tree), and `write_log_directory`
writes them, the checkpoint last, as a server publishes: a reader that finds a checkpoint finds
every tile it needs. An export holds the latest width of each tile only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pollwatch.core.tlog.checkpoint import Checkpoint, sign_checkpoint
from pollwatch.core.tlog.cosignature import CosignatureSigner, cosign
from pollwatch.core.tlog.errors import TileError
from pollwatch.core.tlog.hashing import leaf_hash
from pollwatch.core.tlog.note import Signer
from pollwatch.core.tlog.tiles import extend_entry_bundles, integrate

CHECKPOINT_PATH = "checkpoint"
"""Where the signed checkpoint is served (C2SP tlog-tiles §Checkpoints)."""


@dataclass(frozen=True)
class ExportedLog:
    """The files of an exported log, by path relative to the log's root, and its checkpoint."""

    checkpoint: Checkpoint
    files: Mapping[str, bytes]


def _no_tiles(level: int, index: int, width: int) -> bytes:
    # An export starts from the empty tree, which has no tile to read.
    raise TileError(f"an empty tree has no tile {level}/{index}")


def _no_bundles(index: int, width: int) -> bytes:
    raise TileError(f"an empty log has no entry bundle {index}")


def export_log(
    entries: Sequence[bytes],
    log: Signer,
    *,
    origin: str | None = None,
    witnesses: Sequence[CosignatureSigner] = (),
) -> ExportedLog:
    """Every file of the log holding `entries`: tiles, entry bundles (C2SP tlog-tiles) and a
    checkpoint for `origin` (the log key's name by default) signed by `log` (C2SP
    tlog-checkpoint) and cosigned by each of `witnesses` (C2SP tlog-cosignature)."""
    integration = integrate(0, _no_tiles, [leaf_hash(entry) for entry in entries])
    checkpoint = Checkpoint(log.name if origin is None else origin, len(entries), integration.root)
    signed = sign_checkpoint(checkpoint, [log])
    for witness in witnesses:
        signed = cosign(signed, witness)
    files: dict[str, bytes] = {tile.path: tile.hashes for tile in integration.tiles}
    for bundle in extend_entry_bundles(0, _no_bundles, entries):
        files[bundle.path] = bundle.data
    files[CHECKPOINT_PATH] = signed
    return ExportedLog(checkpoint, files)


def write_log_directory(directory: Path, exported: ExportedLog) -> None:
    """Write an exported log under `directory` (created if missing, refused if not empty, so
    no file of another log is left beside this one), the checkpoint last."""
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty")
    for path, data in sorted(exported.files.items()):
        if path == CHECKPOINT_PATH:
            continue
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CHECKPOINT_PATH).write_bytes(exported.files[CHECKPOINT_PATH])
