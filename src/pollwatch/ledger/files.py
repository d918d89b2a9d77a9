"""One election log's static files, in the C2SP tlog-tiles layout under the data dir:

    DATA_DIR/log/<election slug>/checkpoint
    DATA_DIR/log/<election slug>/tile/<L>/<N>[.p/<W>]
    DATA_DIR/log/<election slug>/tile/entries/<N>[.p/<W>]

Every file is written to a temporary name and renamed into place, so a reader (or a crash)
never sees half a file. Tiles are not fsynced one by one: they are derived from the database,
which is the log's source of truth, and the integrator checks them against the last
checkpoint's root when it starts and rebuilds them from the database if they do not match.
Older, narrower partial tiles are kept, and any narrower width of a tile is served by cutting
the current one (`tile_in_tree`), so a client holding an older checkpoint always finds its
tiles (C2SP tlog-tiles §Partial Tiles).
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from django.conf import settings

from pollwatch.core.tlog import HASH_SIZE, TileError
from pollwatch.core.tlog.export import CHECKPOINT_PATH
from pollwatch.core.tlog.tiles import (
    ReadTile,
    encode_entry_bundle,
    entries_path,
    parse_entry_bundle,
    tile_path,
    tile_width,
)
from pollwatch.registry.models import Election

LOG_DIR = "log"
CHECKPOINT_FILE_LOCK = threading.Lock()
"""Held while the checkpoint's database row and file are updated together, by the integrator
and by the witnessing thread, so an older checkpoint never overwrites a newer file."""
TEMPORARY_DIR = ".tmp"


def log_directory(election: Election) -> Path:
    return slug_directory(election.slug)


def slug_directory(slug: str) -> Path:
    """The log directory of the election `slug`."""
    return Path(settings.DATA_DIR) / LOG_DIR / slug


class LogFiles:
    """Read and write one log's tiles, entry bundles and checkpoint."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def of(cls, election: Election) -> LogFiles:
        return cls(log_directory(election))

    @classmethod
    def of_slug(cls, slug: str) -> LogFiles:
        """The files of the election `slug` (serving has its slug, not its row)."""
        return cls(slug_directory(slug))

    def path(self, relative: str) -> Path:
        return self.directory / relative

    def read(self, relative: str) -> bytes:
        """The file at `relative` (a tlog-tiles path); FileNotFoundError if absent."""
        return self.path(relative).read_bytes()

    def write(self, relative: str, data: bytes, *, durable: bool = False) -> None:
        """Write atomically (temporary file, then rename); `durable` also fsyncs."""
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Outside tile/, so a file left by a crash is never taken for part of the tree.
        scratch = self.directory / TEMPORARY_DIR
        scratch.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=scratch)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def clear_temporary(self) -> None:
        """Remove files a crash left half-written (only the integrator writes, under its
        lock)."""
        scratch = self.directory / TEMPORARY_DIR
        if scratch.is_dir():
            for leftover in scratch.iterdir():
                leftover.unlink(missing_ok=True)

    def read_tile(self, level: int, index: int, width: int) -> bytes:
        """A hash tile at `width` (core.tlog.tiles.ReadTile)."""
        return self.read(tile_path(level, index, width))

    def read_bundle(self, index: int, width: int) -> bytes:
        """An entry bundle at `width` (core.tlog.tiles.ReadBundle)."""
        return self.read(entries_path(index, width))

    def tile_in_tree(self, tree_size: int, level: int | None, index: int, width: int) -> bytes:
        """Hash tile (level >= 0) or entry bundle (level None) at `width`, as in the tree of
        `tree_size` leaves: cut from the tile that tree has, so any width up to it is there."""
        current = tile_width(0 if level is None else level, index, tree_size)
        if not 1 <= width <= current:
            raise TileError(f"a tree of size {tree_size} does not cover this tile at {width}")
        if level is None:
            entries = parse_entry_bundle(self.read_bundle(index, current), current)
            return encode_entry_bundle(entries[:width])
        return self.read_tile(level, index, current)[: width * HASH_SIZE]

    def tree_reader(self, tree_size: int) -> ReadTile:
        """A ReadTile for proofs in any tree up to `tree_size` leaves."""

        def read(level: int, index: int, width: int) -> bytes:
            return self.tile_in_tree(tree_size, level, index, width)

        return read

    def read_checkpoint(self) -> bytes:
        return self.read(CHECKPOINT_PATH)

    def write_checkpoint(self, signed: bytes) -> None:
        self.write(CHECKPOINT_PATH, signed, durable=True)
