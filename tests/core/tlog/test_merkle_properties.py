"""Property tests: generated proofs verify for random sizes and indexes; any flipped bit, wrong
length, wrong size or index makes them fail; malformed arguments fail with the check named."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.core.tlog import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from pollwatch.core.tlog.hashing import merkle_root
from pollwatch.core.tlog.verify import root_from_inclusion_proof

N = 1100
TREE = MemoryTree([leaf_hash(i.to_bytes(4, "big")) for i in range(N)])


def flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, N))
    return size, draw(st.integers(0, size - 1))


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(2, N))
    return draw(st.integers(1, size2 - 1)), size2


@settings(max_examples=300, deadline=None)
@given(size_and_index())
def test_inclusion_proofs_verify(case: tuple[int, int]) -> None:
    size, index = case
    proof = TREE.inclusion_proof(index, size)
    verify_inclusion(TREE.levels[0][index], index, size, proof, TREE.root(size))


@settings(max_examples=300, deadline=None)
@given(size_and_index(), st.integers(0, 2**20), st.integers(0, 2))
def test_inclusion_any_flipped_bit_fails(case: tuple[int, int], bit: int, where: int) -> None:
    size, index = case
    leaf, proof, root = TREE.levels[0][index], TREE.inclusion_proof(index, size), TREE.root(size)
    if where == 0:
        leaf = flip(leaf, bit)
    elif where == 1 and proof:
        position = bit % len(proof)
        proof[position] = flip(proof[position], bit // len(proof))
    else:
        root = flip(root, bit)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, root)


@settings(max_examples=200, deadline=None)
@given(size_and_index(), st.integers(1, 3))
def test_inclusion_wrong_size_or_length_fails(case: tuple[int, int], delta: int) -> None:
    size, index = case
    leaf, proof, root = TREE.levels[0][index], TREE.inclusion_proof(index, size), TREE.root(size)
    # A different size with the same proof may still verify (the size and root come together
    # from a signed checkpoint), so only sizes that change the proof's length must fail.
    for args in [
        (leaf, index, size, [*proof, root], root),
        (leaf, index, size << delta, proof, root),
        (leaf, size + delta - 1, size, proof, root),
    ]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    if proof:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, proof[:-1], root)


@settings(max_examples=300, deadline=None)
@given(two_sizes())
def test_consistency_proofs_verify(case: tuple[int, int]) -> None:
    size1, size2 = case
    proof = TREE.consistency_proof(size1, size2)
    verify_consistency(size1, size2, proof, TREE.root(size1), TREE.root(size2))


@settings(max_examples=300, deadline=None)
@given(two_sizes(), st.integers(0, 2**20), st.integers(0, 2))
def test_consistency_any_flipped_bit_fails(case: tuple[int, int], bit: int, where: int) -> None:
    size1, size2 = case
    proof = TREE.consistency_proof(size1, size2)
    root1, root2 = TREE.root(size1), TREE.root(size2)
    if where == 0:
        root1 = flip(root1, bit)
    elif where == 1:
        position = bit % len(proof)
        proof[position] = flip(proof[position], bit // len(proof))
    else:
        root2 = flip(root2, bit)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root1, root2)


@settings(max_examples=200, deadline=None)
@given(two_sizes())
def test_consistency_wrong_length_or_sizes_fails(case: tuple[int, int]) -> None:
    size1, size2 = case
    proof = TREE.consistency_proof(size1, size2)
    root1, root2 = TREE.root(size1), TREE.root(size2)
    for args in [
        (size1, size2, [*proof, root2], root1, root2),
        (size1, size2, proof[:-1], root1, root2),
        (size1, size2 << 1, proof, root1, root2),
        (size2, size1, proof, root2, root1),
    ]:
        with pytest.raises(ProofError):
            verify_consistency(*args)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, N))
def test_root_matches_flat_merkle_root(size: int) -> None:
    assert TREE.root(size) == merkle_root(TREE.levels[0][:size])


def test_equal_sizes_need_empty_proof_and_equal_roots() -> None:
    root = TREE.root(5)
    verify_consistency(5, 5, [], root, root)
    with pytest.raises(ProofError, match="empty consistency proof"):
        verify_consistency(5, 5, [root], root, root)
    with pytest.raises(ProofError, match="two different roots"):
        verify_consistency(5, 5, [], root, TREE.root(6))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((b"x" * 31, 0, 1, [], b"x" * 32), "leaf hash must be 32 bytes, got 31"),
        ((b"x" * 33, 0, 1, [], b"x" * 32), "leaf hash must be 32 bytes, got 33"),
        ((b"x" * 32, 0, 2, [b"y" * 31], b"x" * 32), "inclusion proof hash 0 must be 32"),
        ((b"x" * 32, 0, 1, [], b"x" * 16), "root hash must be 32 bytes"),
        ((b"x" * 32, -1, 1, [], b"x" * 32), "leaf index -1 is outside"),
        ((b"x" * 32, 0, 0, [], b"x" * 32), "not inside a tree of size 0"),
        ((b"x" * 32, 0, 2**64, [], b"x" * 32), "tree size 18446744073709551616 is outside"),
    ],
)
def test_inclusion_malformed_arguments(
    args: tuple[bytes, int, int, list[bytes], bytes], message: str
) -> None:
    with pytest.raises(ProofError, match=message):
        verify_inclusion(*args)


def test_consistency_malformed_arguments() -> None:
    r = TREE.root(4)
    with pytest.raises(ProofError, match="first tree size is 0"):
        verify_consistency(0, 4, [r], EMPTY_ROOT, r)
    with pytest.raises(ProofError, match="larger than second tree size"):
        verify_consistency(5, 4, [r], r, r)
    with pytest.raises(ProofError, match="consistency proof hash 0 must be 32"):
        verify_consistency(3, 4, [r[:20]], r, r)
    with pytest.raises(ProofError, match="second root hash must be 32"):
        verify_consistency(3, 4, [r], r, r + b"\x00")
    with pytest.raises(ProofError, match="is empty"):
        verify_consistency(3, 4, [], TREE.root(3), r)


def test_single_leaf_tree() -> None:
    leaf = TREE.levels[0][0]
    assert root_from_inclusion_proof(leaf, 0, 1, []) == leaf
    with pytest.raises(ProofError, match="too long"):
        verify_inclusion(leaf, 0, 1, [leaf], leaf)


def test_generation_refuses_impossible_requests() -> None:
    with pytest.raises(ProofError):
        TREE.inclusion_proof(5, 5)
    with pytest.raises(ProofError):
        TREE.consistency_proof(0, 5)
    with pytest.raises(ProofError):
        TREE.consistency_proof(6, 5)
    with pytest.raises(ProofError):
        TREE.root(N + 1)
    assert TREE.consistency_proof(7, 7) == []


def test_every_proof_of_every_tree_up_to_64_leaves_verifies() -> None:
    for size in range(1, 65):
        root = TREE.root(size)
        for index in range(size):
            proof = TREE.inclusion_proof(index, size)
            verify_inclusion(TREE.levels[0][index], index, size, proof, root)
            # The leaf at another index never verifies with this proof.
            other = (index + 1) % size
            if other != index:
                with pytest.raises(ProofError):
                    verify_inclusion(TREE.levels[0][other], index, size, proof, root)
        for size1 in range(1, size):
            proof = TREE.consistency_proof(size1, size)
            verify_consistency(size1, size, proof, TREE.root(size1), root)
            with pytest.raises(ProofError):
                verify_consistency(size1, size, proof, TREE.root(size1), flip(root, size1))
