"""Hash tiles kept in memory with the subtree hashes inside them, so the proofs the log serves
are lookups rather than file reads and hundreds of SHA-256 per request.

A tile file never changes: a full tile is final, a wider partial tile has another path, and
the integrator writes every file under a new name and renames it into place. So a tile read
once stays valid for as long as the same file is there. Entries are keyed by the file's path
and identity (inode, modification time, size): a tile rebuilt after damage, or another log
later in the same data dir, is another file and is read afresh. Each process holds at most
CAPACITY tiles (about 16 KiB each with their inner hashes), least recently used out first.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict

from pollwatch.core.tlog import HASH_SIZE, TileError
from pollwatch.core.tlog.proof import consistency_path, inclusion_path
from pollwatch.core.tlog.tiles import TILE_HEIGHT, TILE_WIDTH, tile_path, tile_width
from pollwatch.ledger.files import LogFiles

CAPACITY = 1024
"""Tiles per process: every tile of a log of 250,000 entries, and the upper levels and the
most recently used level-0 tiles of a larger one (receipts are mostly asked for new entries)."""

_NODE_PREFIX = b"\x01"


class TileNodes:
    """One tile's hashes and, computed when first needed, the complete subtrees inside it:
    `layers[r]` holds the hashes of its runs of 2**r hashes, concatenated (RFC 9162 §2.1.1)."""

    __slots__ = ("_layers", "hashes")

    def __init__(self, hashes: bytes) -> None:
        self.hashes = hashes
        self._layers: tuple[bytes, ...] | None = None

    def _build(self) -> tuple[bytes, ...]:
        sha256 = hashlib.sha256
        layers = [self.hashes]
        layer = self.hashes
        pair = 2 * HASH_SIZE
        while len(layer) >= pair:
            layer = b"".join(
                sha256(_NODE_PREFIX + layer[i : i + pair]).digest()
                for i in range(0, len(layer) - pair + 1, pair)
            )
            layers.append(layer)
        return tuple(layers)

    def subtree(self, height: int, position: int) -> bytes:
        """MTH of the complete run of 2**height hashes starting at hash position * 2**height."""
        if self._layers is None:
            self._layers = self._build()  # two threads may both build it: same result
        start = position * HASH_SIZE
        layer = self._layers[height] if height < len(self._layers) else b""
        node = layer[start : start + HASH_SIZE]
        if len(node) != HASH_SIZE:
            raise TileError(f"no complete run of 2**{height} hashes at {position} in this tile")
        return node


class TileCache:
    """Tiles by file path and identity, least recently used dropped beyond `capacity`."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._tiles: OrderedDict[tuple[str, int, int, int], TileNodes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._tiles)

    def tile(self, path: str, width: int) -> TileNodes:
        """The tile file at `path`, which must hold `width` hashes (TileError if it does not);
        OSError if it cannot be read."""
        info = os.stat(path)
        key = (path, info.st_ino, info.st_mtime_ns, info.st_size)
        with self._lock:
            nodes = self._tiles.get(key)
            if nodes is not None:
                self._tiles.move_to_end(key)
                return nodes
        with open(path, "rb") as file:
            # Key by what was opened: the name may have moved on to a newer file since.
            info = os.fstat(file.fileno())
            data = file.read()
        if len(data) != width * HASH_SIZE:
            raise TileError(f"tile {path} is {len(data)} bytes, expected {width * HASH_SIZE}")
        nodes = TileNodes(data)
        with self._lock:
            self._tiles[(path, info.st_ino, info.st_mtime_ns, info.st_size)] = nodes
            while len(self._tiles) > self.capacity:
                self._tiles.popitem(last=False)
        return nodes

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()


TILES = TileCache()


class CachedTree:
    """Complete-subtree hashes of the tree of `tree_size` leaves of the log in `files`, from
    tiles in TILES (each tile at the width this tree size implies, C2SP tlog-tiles §Partial
    Tiles). A core.tlog.proof SubtreeHash; it serves proofs in smaller trees too, as their
    complete subtrees are the larger tree's.

    Each tile is looked up in TILES (a stat of its file) the first time this tree needs it,
    then held here: a tree kept across requests (serving keeps one per published checkpoint)
    skips those stats, so a tile rebuilt on disk since is seen only after `forget`. At most
    `cache.capacity` tiles are held, so a long-lived tree stays within the cache's bound."""

    def __init__(self, files: LogFiles, tree_size: int, cache: TileCache = TILES) -> None:
        self.root = f"{files.directory}{os.sep}"  # joined by hand: pathlib costs more here
        self.tree_size = tree_size
        self.cache = cache
        self._tiles: dict[tuple[int, int], TileNodes] = {}

    def __len__(self) -> int:
        """How many tiles this tree holds."""
        return len(self._tiles)

    def forget(self) -> None:
        """Look every tile up in TILES again (and so read afresh any file replaced since)."""
        self._tiles = {}

    def __call__(self, height: int, index: int) -> bytes:
        if (index + 1) << height > self.tree_size:
            raise TileError(
                f"subtree of height {height} at {index} is not complete in a tree of size "
                f"{self.tree_size}"
            )
        level, rest = divmod(height, TILE_HEIGHT)
        tile_index, position = divmod(index << rest, TILE_WIDTH)
        nodes = self._tiles.get((level, tile_index))
        if nodes is None:
            width = tile_width(level, tile_index, self.tree_size)
            path = self.root + tile_path(level, tile_index, width)
            nodes = self.cache.tile(path, width)
            if len(self._tiles) >= self.cache.capacity:
                self._tiles = {}
            self._tiles[(level, tile_index)] = nodes
        return nodes.subtree(rest, position >> rest)


def inclusion_proof(files: LogFiles, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[0:tree_size]) (RFC 9162 §2.1.3.1) from the log's tiles, through TILES."""
    return inclusion_path(CachedTree(files, tree_size), index, tree_size)


def consistency_proof(files: LogFiles, tree_size: int, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1), size2 <= tree_size, from the tiles of
    the log's tree of `tree_size` leaves, through TILES."""
    return consistency_path(CachedTree(files, tree_size), size1, size2)


def hash_tile(files: LogFiles, tree_size: int, level: int, index: int, width: int) -> bytes:
    """The first `width` hashes of tile (level, index) as the tree of `tree_size` has it (cut
    from that tile, so any narrower width is served too), through TILES."""
    current = tile_width(level, index, tree_size)
    if not 1 <= width <= current:
        raise TileError(f"a tree of size {tree_size} does not cover this tile at {width}")
    path = f"{files.directory}{os.sep}{tile_path(level, index, current)}"  # as CachedTree
    return TILES.tile(path, current).hashes[: width * HASH_SIZE]
