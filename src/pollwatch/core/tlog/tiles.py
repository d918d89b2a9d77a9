"""C2SP tlog-tiles: the Merkle tree stored and served as tiles of 256 hashes, and entry bundles.

The n-th tile at level l holds, for i in 0..255, MTH(D[(n*256 + i) * 256**l : (n*256 + i + 1)
* 256**l]): level 0 holds leaf hashes, level l+1 the roots of full level-l tiles. The rightmost
tile of a level is partial (1..255 hashes, floor(size / 256**l) mod 256 of them) and is never
hashed into the level above. Entry bundles are the level-0 tiles' entries themselves, each
prefixed by its length as a big-endian uint16.

The server side is `integrate` (the single integrator's batch step: existing tiles + new leaf
hashes -> new and updated tiles + new root) and `extend_entry_bundles`; proofs are served from
stored tiles with `inclusion_proof_from_tiles` / `consistency_proof_from_tiles`, which take a
`read_tile(level, index, width)` callable returning that tile's first `width` hashes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pollwatch.core.tlog.errors import TileError
from pollwatch.core.tlog.hashing import HASH_SIZE, leaf_hash, merkle_root
from pollwatch.core.tlog.proof import consistency_path, inclusion_path, tree_root

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile (C2SP tlog-tiles: exactly 256 hashes, 8,192 bytes)."""
FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE
MAX_LEVEL = 63
MAX_ENTRY_BYTES = 0xFFFF
"""An entry bundle prefixes each entry with a uint16 length, so no entry can be longer."""

ReadTile = Callable[[int, int, int], bytes]
"""read_tile(level, index, width) -> the first `width` hashes (width * 32 bytes) of that tile."""
ReadBundle = Callable[[int, int], bytes]
"""read_bundle(index, width) -> the entry bundle holding that bundle's first `width` entries."""


def _encode_index(index: int) -> str:
    if index < 0:
        raise TileError(f"tile index {index} is negative")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def _suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"tile width {width} is outside 1..256")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """`tile/<L>/<N>[.p/<W>]` of C2SP tlog-tiles §Merkle Tree: index 1234067 is
    `x001/x234/067`; the `.p/<W>` suffix only for a partial tile (1 <= W <= 255)."""
    if not 0 <= level <= MAX_LEVEL:
        raise TileError(f"tile level {level} is outside 0..63")
    return f"tile/{level}/{_encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """`tile/entries/<N>[.p/<W>]` of C2SP tlog-tiles §Log entries."""
    return f"tile/entries/{_encode_index(index)}{_suffix(width)}"


@dataclass(frozen=True)
class TileRef:
    """What a tile path names: a hash tile (level >= 0) or an entry bundle (level None)."""

    level: int | None
    index: int
    width: int


_PATH = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
    r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


def parse_tile_path(path: str) -> TileRef:
    """Parse a tile or entry bundle path (C2SP tlog-tiles), strictly: decimal level 0..63
    without leading zeros, the index in canonical 3-digit groups (no leading `x000/`), and a
    partial width 1..255 without leading zeros."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise TileError(f"{path!r} is not a tile path tile/<L>/<N>[.p/<W>]")
    groups = match["index"].split("/")
    if len(groups) > 1 and groups[0] == "x000":
        raise TileError(f"{path!r}: tile index has a leading zero group")
    index = int("".join(g.removeprefix("x") for g in groups))
    level = None if match["level"] == "entries" else int(match["level"])
    if level is not None and level > MAX_LEVEL:
        raise TileError(f"{path!r}: tile level {level} is outside 0..63")
    width = TILE_WIDTH if match["width"] is None else int(match["width"])
    if match["width"] is not None and width >= TILE_WIDTH:
        raise TileError(f"{path!r}: partial tile width {width} is outside 1..255")
    return TileRef(level, index, width)


def tile_width(level: int, index: int, tree_size: int) -> int:
    """Hashes in tile (level, index) of a tree of `tree_size` leaves: 256 for a full tile,
    1..255 for the partial one, 0 if the tile does not exist (C2SP tlog-tiles §Partial Tiles)."""
    entries = tree_size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, entries - index * TILE_WIDTH))


def tile_root(hashes: bytes) -> bytes:
    """MTH of a full tile's 256 hashes: the hash it contributes to the level above (C2SP
    tlog-tiles §Merkle Tree; RFC 9162 §2.1.1)."""
    if len(hashes) != FULL_TILE_BYTES:
        raise TileError(f"a full tile is {FULL_TILE_BYTES} bytes, got {len(hashes)}")
    sha256 = hashlib.sha256
    level = [hashes[i : i + HASH_SIZE] for i in range(0, FULL_TILE_BYTES, HASH_SIZE)]
    while len(level) > 1:
        level = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)
        ]
    return level[0]


@dataclass(frozen=True)
class Tile:
    """One hash tile: `hashes` is `width` concatenated 32-byte hashes."""

    level: int
    index: int
    hashes: bytes

    @property
    def width(self) -> int:
        """Hashes in the tile: 256 if full, 1..255 if partial."""
        return len(self.hashes) // HASH_SIZE

    @property
    def path(self) -> str:
        """Where the tile is served (C2SP tlog-tiles §Merkle Tree)."""
        return tile_path(self.level, self.index, self.width)


class TileReader:
    """Complete-subtree hashes of the tree of `tree_size` leaves, read from its tiles.

    A subtree of height 8*l + r (0 <= r < 8) is 2**r consecutive hashes of a level-l tile,
    hashed up. Tiles are read once per reader with the width the tree size implies (C2SP
    tlog-tiles §Partial Tiles) and their length is checked."""

    def __init__(self, read_tile: ReadTile, tree_size: int) -> None:
        if tree_size < 0:
            raise TileError(f"tree size {tree_size} is negative")
        self.read_tile = read_tile
        self.tree_size = tree_size
        self._cache: dict[tuple[int, int], bytes] = {}

    def tile(self, level: int, index: int) -> bytes:
        """Tile (level, index) at the width this tree size implies, read once and checked."""
        key = (level, index)
        if key not in self._cache:
            width = tile_width(level, index, self.tree_size)
            if width == 0:
                raise TileError(
                    f"tile {level}/{index} does not exist in a tree of size {self.tree_size}"
                )
            data = self.read_tile(level, index, width)
            if len(data) != width * HASH_SIZE:
                raise TileError(
                    f"tile {tile_path(level, index, width)} is {len(data)} bytes, "
                    f"expected {width * HASH_SIZE} ({width} hashes)"
                )
            self._cache[key] = bytes(data)
        return self._cache[key]

    def subtree(self, height: int, index: int) -> bytes:
        """MTH of the complete subtree at (height, index) (RFC 9162 §2.1.1), from a tile."""
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest
        tile_index, position = divmod(first, TILE_WIDTH)
        if (index + 1) << height > self.tree_size:
            raise TileError(
                f"subtree of height {height} at {index} is not complete in a tree of size "
                f"{self.tree_size}"
            )
        data = self.tile(level, tile_index)
        span = data[position * HASH_SIZE : (position + (1 << rest)) * HASH_SIZE]
        return merkle_root([span[i : i + HASH_SIZE] for i in range(0, len(span), HASH_SIZE)])


def root_from_tiles(read_tile: ReadTile, tree_size: int) -> bytes:
    """MTH(D[0:tree_size]) (RFC 9162 §2.1.1) from the tree's tiles (C2SP tlog-tiles)."""
    return tree_root(TileReader(read_tile, tree_size).subtree, tree_size)


def inclusion_proof_from_tiles(read_tile: ReadTile, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[0:tree_size]) (RFC 9162 §2.1.3.1) from the tree's tiles (C2SP
    tlog-tiles)."""
    return inclusion_path(TileReader(read_tile, tree_size).subtree, index, tree_size)


def consistency_proof_from_tiles(read_tile: ReadTile, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1) from the larger tree's tiles (C2SP
    tlog-tiles)."""
    return consistency_path(TileReader(read_tile, size2).subtree, size1, size2)


@dataclass(frozen=True)
class Integration:
    """The outcome of one integration batch: the tiles to write (new or grown, full and
    partial, level 0 first) and the tree's new size and root."""

    tree_size: int
    root: bytes
    tiles: tuple[Tile, ...]


def integrate(
    tree_size: int,
    read_tile: ReadTile,
    leaf_hashes: Sequence[bytes],
    old_root: bytes | None = None,
) -> Integration:
    """Append `leaf_hashes` to the tree of `tree_size` leaves whose tiles `read_tile` reads
    (C2SP tlog-tiles §Merkle Tree): returns every tile that is new or wider, and the new root
    (RFC 9162 §2.1.1).

    Reads only the rightmost partial tile of each level, once. A full tile at level l becomes
    one hash at level l+1; a level whose entry count does not change is left alone. With
    `old_root` (the root of the last signed checkpoint), the stored tiles must first reproduce
    it, so a damaged store is caught before anything is built on it."""
    if tree_size < 0:
        raise TileError(f"tree size {tree_size} is negative")
    if old_root is not None:
        stored = root_from_tiles(read_tile, tree_size)
        if stored != old_root:
            raise TileError(
                f"stored tiles give root {stored.hex()} at size {tree_size}, not the last "
                f"checkpoint's {old_root.hex()}"
            )
    for position, value in enumerate(leaf_hashes):
        if len(value) != HASH_SIZE:
            raise TileError(f"leaf hash {position} is {len(value)} bytes, not {HASH_SIZE}")
    new_size = tree_size + len(leaf_hashes)
    written: dict[tuple[int, int], bytes] = {}
    tiles: list[Tile] = []
    entries: list[bytes] = list(leaf_hashes)
    level = 0
    while entries:
        if level > MAX_LEVEL:
            raise TileError("tree would need a tile level above 63")
        old_count = tree_size >> (TILE_HEIGHT * level)
        first_tile, partial = divmod(old_count, TILE_WIDTH)
        existing = b""
        if partial:
            existing = read_tile(level, first_tile, partial)
            if len(existing) != partial * HASH_SIZE:
                raise TileError(
                    f"tile {tile_path(level, first_tile, partial)} is {len(existing)} bytes, "
                    f"expected {partial * HASH_SIZE}"
                )
        data = bytes(existing) + b"".join(entries)
        above: list[bytes] = []
        for offset in range(0, len(data), FULL_TILE_BYTES):
            chunk = data[offset : offset + FULL_TILE_BYTES]
            tile = Tile(level, first_tile + offset // FULL_TILE_BYTES, chunk)
            tiles.append(tile)
            written[(tile.level, tile.index)] = chunk
            if len(chunk) == FULL_TILE_BYTES:
                above.append(tile_root(chunk))
        entries = above
        level += 1

    def read_new(level: int, index: int, width: int) -> bytes:
        data = written.get((level, index))
        if data is not None and len(data) >= width * HASH_SIZE:
            return data[: width * HASH_SIZE]
        return read_tile(level, index, width)

    root = root_from_tiles(read_new, new_size)
    return Integration(new_size, root, tuple(tiles))


def encode_entry_bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes (C2SP tlog-tiles
    §Log entries)."""
    parts: list[bytes] = []
    count = 0
    for position, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_BYTES:
            raise TileError(
                f"entry {position} is {len(entry)} bytes; an entry bundle holds at most "
                f"{MAX_ENTRY_BYTES}"
            )
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(entry)
        count += 1
    if count > TILE_WIDTH:
        raise TileError(f"an entry bundle holds at most {TILE_WIDTH} entries, got {count}")
    return b"".join(parts)


def parse_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """The entries of an entry bundle (C2SP tlog-tiles §Log entries); with `width`, the bundle
    must hold exactly that many. Rejects a truncated length or entry and trailing bytes."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if len(entries) == TILE_WIDTH:
            raise TileError(f"entry bundle has bytes after its {TILE_WIDTH}th entry")
        if offset + 2 > len(data):
            raise TileError(f"entry bundle ends inside the length of entry {len(entries)}")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise TileError(
                f"entry bundle ends inside entry {len(entries)} "
                f"({length} bytes announced, {len(data) - offset} left)"
            )
        entries.append(bytes(data[offset : offset + length]))
        offset += length
    if width is not None and len(entries) != width:
        raise TileError(f"entry bundle holds {len(entries)} entries, expected {width}")
    return entries


def check_entry_bundle(entries: Sequence[bytes], level0_tile: bytes) -> None:
    """Check that each entry hashes to the matching leaf hash of its level-0 tile (C2SP
    tlog-tiles §Log entries: "each entry in a bundle hashes to the corresponding entry")."""
    if len(level0_tile) != len(entries) * HASH_SIZE:
        raise TileError(
            f"entry bundle has {len(entries)} entries but its tile has "
            f"{len(level0_tile) / HASH_SIZE:g} hashes"
        )
    for position, entry in enumerate(entries):
        want = level0_tile[position * HASH_SIZE : (position + 1) * HASH_SIZE]
        if leaf_hash(entry) != want:
            raise TileError(f"entry {position} of the bundle does not hash to its tile's leaf")


@dataclass(frozen=True)
class EntryBundle:
    """One entry bundle to write: bundle `index` holding `entries` (up to 256)."""

    index: int
    entries: tuple[bytes, ...]

    @property
    def width(self) -> int:
        """Entries in the bundle: 256 if full, 1..255 if partial."""
        return len(self.entries)

    @property
    def path(self) -> str:
        """Where the bundle is served (C2SP tlog-tiles §Log entries)."""
        return entries_path(self.index, self.width)

    @property
    def data(self) -> bytes:
        """The bundle's bytes (C2SP tlog-tiles §Log entries)."""
        return encode_entry_bundle(self.entries)


def extend_entry_bundles(
    tree_size: int, read_bundle: ReadBundle, entries: Sequence[bytes]
) -> list[EntryBundle]:
    """Append `entries` to the log of `tree_size` entries: the entry bundles that are new or
    wider (C2SP tlog-tiles §Log entries), reading only the current partial bundle."""
    if tree_size < 0:
        raise TileError(f"tree size {tree_size} is negative")
    if not entries:
        return []
    first, partial = divmod(tree_size, TILE_WIDTH)
    existing: list[bytes] = []
    if partial:
        existing = parse_entry_bundle(read_bundle(first, partial), partial)
    all_entries = [*existing, *entries]
    for position, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_BYTES:
            raise TileError(
                f"entry {tree_size + position} is {len(entry)} bytes; an entry bundle holds "
                f"at most {MAX_ENTRY_BYTES}"
            )
    return [
        EntryBundle(first + offset // TILE_WIDTH, tuple(all_entries[offset : offset + TILE_WIDTH]))
        for offset in range(0, len(all_entries), TILE_WIDTH)
    ]
