"""C2SP tlog-tiles: paths, the batch integrator against an in-memory tree at sizes around tile
boundaries, proofs served from tiles, entry bundles, and malformed input rejected."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.core.tlog import MemoryTree, TileError, leaf_hash
from pollwatch.core.tlog.tiles import (
    TileRef,
    check_entry_bundle,
    consistency_proof_from_tiles,
    encode_entry_bundle,
    entries_path,
    extend_entry_bundles,
    inclusion_proof_from_tiles,
    integrate,
    parse_entry_bundle,
    parse_tile_path,
    root_from_tiles,
    tile_path,
    tile_width,
)

BIG = 70_000
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(BIG)]
TREE = MemoryTree(LEAVES)


class Store:
    """Tile storage as a server keeps it: every version of every tile, by exact width, and
    a count of reads (a read of a width that was never written fails)."""

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int, int], bytes] = {}
        self.reads = 0
        self.size = 0

    def read(self, level: int, index: int, width: int) -> bytes:
        self.reads += 1
        return self.tiles[(level, index, width)]

    def read_prefix(self, level: int, index: int, width: int) -> bytes:
        """The first `width` hashes of the widest stored version of the tile."""
        self.reads += 1
        widest = max(w for (lv, i, w) in self.tiles if (lv, i) == (level, index))
        return self.tiles[(level, index, widest)][: width * 32]

    def append(self, leaf_hashes: list[bytes]) -> bytes:
        result = integrate(self.size, self.read, leaf_hashes)
        for tile in result.tiles:
            assert tile.width == tile_width(tile.level, tile.index, result.tree_size)
            self.tiles[(tile.level, tile.index, tile.width)] = tile.hashes
        self.size = result.tree_size
        return result.root


@pytest.fixture(scope="module")
def store() -> Store:
    store = Store()
    store.append(LEAVES[:BIG])
    return store


def test_path_encoding_follows_the_spec_example() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 0) == "tile/0/000"
    assert tile_path(3, 1000, 17) == "tile/3/x001/000.p/17"
    assert tile_path(63, 999) == "tile/63/999"
    assert entries_path(1234067, 5) == "tile/entries/x001/x234/067.p/5"
    assert parse_tile_path("tile/0/x001/x234/067") == TileRef(0, 1234067, 256)
    assert parse_tile_path("tile/entries/x001/000.p/255") == TileRef(None, 1000, 255)
    assert parse_tile_path("tile/12/067.p/1") == TileRef(12, 67, 1)


@given(st.integers(0, 63), st.integers(0, 10**12), st.integers(1, 256))
def test_paths_round_trip(level: int, index: int, width: int) -> None:
    assert parse_tile_path(tile_path(level, index, width)) == TileRef(level, index, width)
    assert parse_tile_path(entries_path(index, width)) == TileRef(None, index, width)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/67",
        "tile/00/067",
        "tile/64/067",
        "tile/0/x000/067",
        "tile/0/001/067",
        "tile/0/x001/x234",
        "tile/0/067.p/256",
        "tile/0/067.p/0",
        "tile/0/067.p/017",
        "tile/0/067.p/",
        "tile/0/067/",
        "tile/-1/067",
        "tile/0/٠٦٧",
        "/tile/0/067",
        "tile/entry/067",
    ],
)
def test_malformed_paths_are_rejected(path: str) -> None:
    with pytest.raises(TileError):
        parse_tile_path(path)


def test_path_arguments_are_checked() -> None:
    for args in [(64, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257)]:
        with pytest.raises(TileError):
            tile_path(*args)


def test_tiles_of_a_70000_leaf_tree_match_the_spec() -> None:
    store = Store()
    store.append(LEAVES[:70_000])
    shapes: dict[int, list[int]] = {}
    for level, _, width in store.tiles:
        shapes.setdefault(level, []).append(width)
    # "273 full level 0 tiles, one partial level 0 tile of width 112, one full level 1 tile,
    # one partial level 1 tile of width 17, and one partial level 2 tile of width 1."
    assert sorted(shapes[0]) == [112] + [256] * 273
    assert sorted(shapes[1]) == [17, 256]
    assert shapes[2] == [1]
    assert set(shapes) == {0, 1, 2}


def test_a_256_leaf_tree_is_one_full_tile_and_one_partial_level_1_tile() -> None:
    store = Store()
    store.append(LEAVES[:256])
    assert sorted(store.tiles) == [(0, 0, 256), (1, 0, 1)]


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537])
def test_tiles_reproduce_the_in_memory_root(store: Store, size: int) -> None:
    assert root_from_tiles(store.read_prefix, size) == TREE.root(size)


@pytest.mark.parametrize("size", [255, 256, 257, 65_536, 65_537])
def test_batches_ending_at_boundaries_reproduce_the_root(size: int) -> None:
    store = Store()
    steps = sorted({1, 100, size - 257, size - 256, size - 1, size} - {0})
    steps = [s for s in steps if 0 < s <= size]
    for step in steps:
        root = store.append(LEAVES[store.size : step])
        assert root == TREE.root(step), step
    assert store.size == size


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 700), min_size=1, max_size=8))
def test_any_batch_split_gives_the_same_tiles_and_roots(batches: list[int]) -> None:
    store = Store()
    for batch in batches:
        before = store.reads
        root = store.append(LEAVES[store.size : store.size + batch])
        assert root == TREE.root(store.size)
        assert store.reads - before <= 8  # partial tiles only, a handful per batch
    whole = Store()
    whole.append(LEAVES[: store.size])
    latest = {k[:2]: v for k, v in sorted(store.tiles.items(), key=lambda kv: kv[0][2])}
    assert latest == {k[:2]: v for k, v in whole.tiles.items()}


def test_integration_checks_the_stored_tiles_against_the_last_root() -> None:
    store = Store()
    store.append(LEAVES[:300])
    integrate(300, store.read, LEAVES[300:310], old_root=TREE.root(300))
    damaged = bytearray(store.tiles[(0, 1, 44)])
    damaged[0] ^= 1
    store.tiles[(0, 1, 44)] = bytes(damaged)
    with pytest.raises(TileError, match=r"stored tiles give root \w+ at size 300, not"):
        integrate(300, store.read, LEAVES[300:310], old_root=TREE.root(300))


def test_empty_batch_changes_nothing() -> None:
    store = Store()
    store.append(LEAVES[:300])
    result = integrate(300, store.read, [])
    assert result.tiles == ()
    assert result.root == TREE.root(300)
    assert integrate(0, store.read, []).root == TREE.root(0)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, BIG), st.data())
def test_proofs_from_tiles_equal_in_memory_proofs(
    store: Store, size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, size - 1))
    assert inclusion_proof_from_tiles(store.read_prefix, index, size) == TREE.inclusion_proof(
        index, size
    )
    size1 = data.draw(st.integers(1, size))
    assert consistency_proof_from_tiles(store.read_prefix, size1, size) == TREE.consistency_proof(
        size1, size
    )


@pytest.mark.parametrize(("index", "size"), [(0, 65_537), (65_536, 65_537), (255, 256)])
def test_proofs_from_tiles_at_boundaries(store: Store, index: int, size: int) -> None:
    assert inclusion_proof_from_tiles(store.read_prefix, index, size) == TREE.inclusion_proof(
        index, size
    )
    assert consistency_proof_from_tiles(store.read_prefix, 256, size) == TREE.consistency_proof(
        256, size
    )


def test_short_or_long_tiles_are_rejected(store: Store) -> None:
    def short(level: int, index: int, width: int) -> bytes:
        return store.read_prefix(level, index, width)[:-1]

    def long(level: int, index: int, width: int) -> bytes:
        return store.read_prefix(level, index, width) + b"\x00" * 32

    for reader in (short, long):
        with pytest.raises(TileError, match="bytes, expected"):
            root_from_tiles(reader, 300)
        with pytest.raises(TileError, match="bytes, expected"):
            integrate(300, reader, [LEAVES[0]])
    with pytest.raises(TileError, match="not 32"):
        integrate(0, store.read, [b"short"])
    with pytest.raises(TileError, match="negative"):
        integrate(-1, store.read, [])


def test_entry_bundles_round_trip_and_match_their_tile() -> None:
    entries = [i.to_bytes(4, "big") for i in range(300)]
    bundles = extend_entry_bundles(0, lambda i, w: b"", entries[:10])
    assert [(b.index, b.width, b.path) for b in bundles] == [(0, 10, "tile/entries/000.p/10")]
    stored = {(b.index, b.width): b.data for b in bundles}
    grown = extend_entry_bundles(10, lambda i, w: stored[(i, w)], entries[10:300])
    assert [(b.index, b.width) for b in grown] == [(0, 256), (1, 44)]
    assert list(grown[0].entries) == entries[:256]
    assert parse_entry_bundle(grown[1].data, 44) == entries[256:300]
    assert extend_entry_bundles(300, lambda i, w: b"", []) == []
    check_entry_bundle(entries[:256], b"".join(LEAVES[:256]))
    with pytest.raises(TileError, match="entry 3 of the bundle"):
        check_entry_bundle([*entries[:3], b"forged", *entries[4:256]], b"".join(LEAVES[:256]))
    with pytest.raises(TileError, match="256 entries but its tile has 255"):
        check_entry_bundle(entries[:256], b"".join(LEAVES[:255]))


def test_entry_bundle_encoding() -> None:
    assert encode_entry_bundle([b"", b"ab"]) == b"\x00\x00\x00\x02ab"
    assert parse_entry_bundle(b"\x00\x00\x00\x02ab") == [b"", b"ab"]
    assert parse_entry_bundle(b"") == []
    big = b"x" * 0xFFFF
    assert parse_entry_bundle(encode_entry_bundle([big])) == [big]


@pytest.mark.parametrize(
    ("data", "width", "message"),
    [
        (b"\x00", None, "inside the length of entry 0"),
        (b"\x00\x03ab", None, "inside entry 0"),
        (b"\x00\x01a\x00", None, "inside the length of entry 1"),
        (b"\x00\x01a", 2, "holds 1 entries, expected 2"),
        (b"\x00\x00" * 257, None, "after its 256th entry"),
    ],
)
def test_malformed_entry_bundles_are_rejected(data: bytes, width: int | None, message: str) -> None:
    with pytest.raises(TileError, match=message):
        parse_entry_bundle(data, width)


def test_oversized_entries_are_refused() -> None:
    with pytest.raises(TileError, match="at most 65535"):
        encode_entry_bundle([b"x" * 0x10000])
    with pytest.raises(TileError, match="at most 256 entries"):
        encode_entry_bundle([b""] * 257)
    with pytest.raises(TileError, match="entry 5 is 65536 bytes"):
        extend_entry_bundles(5, lambda i, w: encode_entry_bundle([b""] * 5), [b"x" * 0x10000])
