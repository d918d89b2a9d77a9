"""RFC 6962 / RFC 9162 known answers (../shared/data/tlog/rfc6962_known_answers.json): hashes,
roots, audit paths and consistency proofs, generated and verified, and each corrupted variant
rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pollwatch.core.tlog import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from pollwatch.core.tlog.hashing import merkle_root


@pytest.fixture(scope="module")
def vectors(shared_data: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (shared_data / "tlog" / "rfc6962_known_answers.json").read_text(encoding="utf-8")
    )
    return data


@pytest.fixture(scope="module")
def tree(vectors: dict[str, Any]) -> MemoryTree:
    inputs = [bytes.fromhex(h) for h in vectors["reference_tree"]["leaf_inputs_hex"]]
    return MemoryTree([leaf_hash(d) for d in inputs])


def h(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string)


def test_hasher_vectors(vectors: dict[str, Any]) -> None:
    hv = vectors["hasher_vectors"]
    assert h(hv["empty_tree_root"]["want"]) == EMPTY_ROOT
    assert merkle_root([]) == EMPTY_ROOT
    assert leaf_hash(b"") == h(hv["leaf_hash_of_empty_string"]["want"])
    assert leaf_hash(b"L123456") == h(hv["leaf_hash_L123456"]["want"])
    assert node_hash(b"N123", b"N456") == h(hv["node_hash_N123_N456"]["want"])


def test_roots_for_every_size(vectors: dict[str, Any], tree: MemoryTree) -> None:
    roots = vectors["reference_tree"]["root_by_tree_size"]
    assert len(roots) == 9
    for size, want in roots.items():
        assert tree.root(int(size)) == h(want), size
        assert merkle_root(tree.levels[0][: int(size)]) == h(want), size


def test_node_hashes_by_level(vectors: dict[str, Any], tree: MemoryTree) -> None:
    levels = vectors["reference_tree"]["node_hashes_by_level"]
    for level, hashes in levels.items():
        if level.startswith("_"):
            continue
        assert [tree.subtree(int(level), i) for i in range(len(hashes))] == [h(x) for x in hashes]


def test_inclusion_vectors_generate_and_verify(vectors: dict[str, Any], tree: MemoryTree) -> None:
    cases = vectors["inclusion_proofs"]["vectors"]
    assert len(cases) == 5
    for case in cases:
        index, size = case["leaf_index_0based"], case["tree_size"]
        assert index == case["leaf_1based"] - 1
        path = [h(x) for x in case["path"]]
        assert tree.inclusion_proof(index, size) == path
        verify_inclusion(tree.levels[0][index], index, size, path, tree.root(size))


def test_consistency_vectors_generate_and_verify(vectors: dict[str, Any], tree: MemoryTree) -> None:
    cases = vectors["consistency_proofs"]["vectors"]
    assert len(cases) == 5
    for case in cases:
        size1, size2 = case["size1"], case["size2"]
        proof = [h(x) for x in case["proof"]]
        assert tree.consistency_proof(size1, size2) == proof
        verify_consistency(size1, size2, proof, tree.root(size1), tree.root(size2))


def test_every_corrupted_inclusion_vector_fails(vectors: dict[str, Any], tree: MemoryTree) -> None:
    for case in vectors["inclusion_proofs"]["vectors"]:
        index, size = case["leaf_index_0based"], case["tree_size"]
        path = [h(x) for x in case["path"]]
        leaf, root = tree.levels[0][index], tree.root(size)
        bad: list[tuple[bytes, int, int, list[bytes], bytes]] = [
            (leaf, index, size, [*path, leaf], root),  # one hash too many
            (leaf[:-1] + bytes([leaf[-1] ^ 1]), index, size, path, root),
            (leaf, index, size, path, root[:-1] + bytes([root[-1] ^ 0x80])),
            (leaf, index, size * 2, path, root),  # a size whose proof is one hash longer
            (leaf, size, size, path, root),  # index outside the tree
        ]
        if path:
            bad.append((leaf, index, size, path[:-1], root))  # one hash too few
            bad.append((leaf, index, size, path[::-1], root) if len(path) > 1 else bad[0])
        for args in bad:
            with pytest.raises(ProofError):
                verify_inclusion(*args)


def test_every_corrupted_consistency_vector_fails(
    vectors: dict[str, Any], tree: MemoryTree
) -> None:
    for case in vectors["consistency_proofs"]["vectors"]:
        size1, size2 = case["size1"], case["size2"]
        proof = [h(x) for x in case["proof"]]
        root1, root2 = tree.root(size1), tree.root(size2)
        bad: list[tuple[int, int, list[bytes], bytes, bytes]] = [
            (size1, size2, [*proof, root1], root1, root2),
            (size1, size2, proof, root2 if root1 != root2 else EMPTY_ROOT, root2),
            (size1, size2, proof, root1, EMPTY_ROOT),
            (size1, size2 * 2, proof, root1, root2),
            (0, size2, proof, root1, root2),
            (size2 + 1, size2, proof, root1, root2),
        ]
        if proof:
            bad.append((size1, size2, proof[:-1], root1, root2))
            bad.append((size1, size2, [], root1, root2))
        for args in bad:
            with pytest.raises(ProofError):
                verify_consistency(*args)
