"""Proofs served through the in-process tile cache: the same as computed from all the leaves, at
sizes that exercise full and partial tiles on three levels; a tile replaced on disk is read
afresh (by a tree kept across requests, once it forgets its tiles); the cache, and a tree,
hold at most its capacity; a tile of the wrong length is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from pollwatch.core.tlog import MemoryTree, TileError, leaf_hash
from pollwatch.core.tlog.proof import inclusion_path
from pollwatch.core.tlog.tiles import integrate, tile_path
from pollwatch.ledger.files import LogFiles
from pollwatch.ledger.tile_cache import (
    CachedTree,
    TileCache,
    consistency_proof,
    hash_tile,
    inclusion_proof,
)


def _no_tiles(level: int, index: int, width: int) -> bytes:
    raise AssertionError("an empty tree has no tiles")


def _log(directory: Path, size: int) -> tuple[LogFiles, MemoryTree]:
    """A log of `size` leaves written as the integrator writes it: in batches, so narrower
    partial tiles stay beside the current ones."""
    leaves = [leaf_hash(f"entry {n}".encode()) for n in range(size)]
    files = LogFiles(directory)
    done = 0
    for end in sorted({size // 3, size - 1, size} - {0}):
        result = integrate(done, files.read_tile if done else _no_tiles, leaves[done:end])
        for tile in result.tiles:
            files.write(tile.path, tile.hashes)
        done = end
    return files, MemoryTree(leaves)


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 65_536, 65_536 + 256 * 3 + 5])
def test_inclusion_proofs_are_the_trees(tmp_path: Path, size: int) -> None:
    files, tree = _log(tmp_path, size)
    step = max(1, size // 300)
    for index in [*range(0, size, step), size - 1]:
        assert inclusion_proof(files, index, size) == tree.inclusion_proof(index), index


@pytest.mark.parametrize("size", [3, 256, 300, 65_536 + 7])
def test_consistency_proofs_in_any_smaller_tree(tmp_path: Path, size: int) -> None:
    files, tree = _log(tmp_path, size)
    step = max(1, size // 50)
    for size2 in [*range(1, size, step), size]:
        for size1 in range(1, size2 + 1, max(1, size2 // 7)):
            assert consistency_proof(files, size, size1, size2) == tree.consistency_proof(
                size1, size2
            ), (size1, size2)
    with pytest.raises(TileError):  # a tree beyond the one on disk has no tiles here
        consistency_proof(files, size, 1, size + 1)


def test_a_hash_tile_at_any_narrower_width(tmp_path: Path) -> None:
    files, _ = _log(tmp_path, 300)
    current = files.read(tile_path(0, 1, 44))
    assert hash_tile(files, 300, 0, 1, 44) == current
    assert hash_tile(files, 300, 0, 1, 7) == current[: 7 * 32]
    assert hash_tile(files, 300, 0, 0, 256) == files.read(tile_path(0, 0))
    with pytest.raises(TileError):
        hash_tile(files, 300, 0, 1, 45)


def test_a_tile_replaced_on_disk_is_read_again(tmp_path: Path) -> None:
    cache = TileCache()
    files, _ = _log(tmp_path, 256)
    path = str(files.path(tile_path(0, 0)))
    first = cache.tile(path, 256).hashes
    assert cache.tile(path, 256) is cache.tile(path, 256)
    files.write(tile_path(0, 0), bytes(reversed(first)))  # rebuilt: renamed into place
    assert cache.tile(path, 256).hashes == bytes(reversed(first))


def test_a_kept_tree_reads_a_replaced_tile_once_it_forgets(tmp_path: Path) -> None:
    cache = TileCache()
    files, tree = _log(tmp_path, 256)
    kept = CachedTree(files, 256, cache)
    assert kept(0, 4) == tree.levels[0][4]
    files.write(tile_path(0, 0), bytes(32) * 256)  # rebuilt: renamed into place
    assert kept(0, 4) == tree.levels[0][4]  # held: no look at the file
    kept.forget()
    assert kept(0, 4) == bytes(32)


def test_a_kept_tree_holds_at_most_the_caches_capacity(tmp_path: Path) -> None:
    files, tree = _log(tmp_path, 256 * 5)
    kept = CachedTree(files, 256 * 5, TileCache(capacity=2))
    for index in range(0, 256 * 5, 128):
        assert inclusion_path(kept, index, 256 * 5) == tree.inclusion_proof(index)
        assert 1 <= len(kept) <= 2


def test_the_cache_keeps_at_most_its_capacity(tmp_path: Path) -> None:
    cache = TileCache(capacity=2)
    files, _ = _log(tmp_path, 256 * 3)
    paths = [str(files.path(tile_path(0, n))) for n in range(3)]
    first = cache.tile(paths[0], 256)
    second = cache.tile(paths[1], 256)
    assert cache.tile(paths[0], 256) is first  # used last: kept
    cache.tile(paths[2], 256)
    assert len(cache) == 2
    assert cache.tile(paths[0], 256) is first
    assert cache.tile(paths[1], 256) is not second  # dropped, read again
    assert len(cache) == 2


def test_a_tile_of_the_wrong_length_is_refused(tmp_path: Path) -> None:
    files, _ = _log(tmp_path, 300)
    files.write(tile_path(0, 1, 44), b"\x00" * 43 * 32)
    with pytest.raises(TileError, match="expected 1408"):
        inclusion_proof(files, 290, 300)
    with pytest.raises(FileNotFoundError):
        inclusion_proof(files, 1, 301)
