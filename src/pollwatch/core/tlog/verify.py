"""Verification of inclusion and consistency proofs, exactly as RFC 9162 §2.1.3.2 and §2.1.4.2.

Strict: every hash must be 32 bytes, the proof must have exactly the length the tree shape
requires (the RFC algorithms fail on a proof that runs out or has hashes left over), an index
must be inside the tree, and consistency needs 0 < size1 <= size2. The single liberty, shared
with transparency-dev/merkle: size1 == size2 is consistent iff the proof is empty and the two
roots are equal (PROOF(m, D[m]) is the empty list by RFC 9162 §2.1.4.1).
"""

from __future__ import annotations

from collections.abc import Sequence

from pollwatch.core.tlog.errors import ProofError
from pollwatch.core.tlog.hashing import HASH_SIZE, node_hash

MAX_TREE_SIZE = (1 << 64) - 1
"""Tree sizes and indexes are uint64 in every format that carries them."""


def _check_hash(what: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {size}")


def _check_path(what: str, proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        _check_hash(f"{what} hash {position}", value)


def _check_size(what: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProofError(f"{what} must be an integer, got {type(value).__name__}")
    if not 0 <= value <= MAX_TREE_SIZE:
        raise ProofError(f"{what} {value} is outside 0..2^64-1")


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that `proof` implies for `leaf_hash` at `index` (RFC 9162 §2.1.3.2, steps 1-5
    without the final comparison with a known root). Raises ProofError if the proof cannot be
    an inclusion proof for that index and size."""
    _check_size("leaf index", index)
    _check_size("tree size", tree_size)
    _check_hash("leaf hash", leaf_hash)
    _check_path("inclusion proof", proof)
    # Step 1.
    if index >= tree_size:
        raise ProofError(f"leaf index {index} is not inside a tree of size {tree_size}")
    # Steps 2-3.
    fn, sn = index, tree_size - 1
    r = bytes(leaf_hash)
    # Step 4.
    for position, p in enumerate(proof):
        if sn == 0:
            raise ProofError(
                f"inclusion proof is too long: {len(proof)} hashes, hash {position} is beyond "
                f"the root of a tree of size {tree_size}"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # Step 5, first half.
    if sn != 0:
        raise ProofError(
            f"inclusion proof is too short: {len(proof)} hashes do not reach the root of a "
            f"tree of size {tree_size} from index {index}"
        )
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is the leaf at `index` of the tree of `tree_size` leaves whose
    root is `root`, by the algorithm of RFC 9162 §2.1.3.2. Raises ProofError saying which
    check failed; returns None when the proof verifies."""
    _check_hash("root hash", root)
    computed = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)
    if computed != root:
        raise ProofError(
            f"inclusion proof for leaf {index} leads to root {computed.hex()}, "
            f"not the expected {bytes(root).hex()} (tree size {tree_size})"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of `size2` leaves with root `root2` extends the tree of `size1`
    leaves with root `root1`, by the algorithm of RFC 9162 §2.1.4.2. Raises ProofError saying
    which check failed; returns None when the proof verifies."""
    _check_size("first tree size", size1)
    _check_size("second tree size", size2)
    _check_hash("first root hash", root1)
    _check_hash("second root hash", root2)
    _check_path("consistency proof", proof)
    if size1 == 0:
        raise ProofError("first tree size is 0: the empty tree has no consistency proof")
    if size1 > size2:
        raise ProofError(f"first tree size {size1} is larger than second tree size {size2}")
    if size1 == size2:
        if proof:
            raise ProofError(
                f"trees of equal size {size1} need an empty consistency proof, "
                f"got {len(proof)} hashes"
            )
        if root1 != root2:
            raise ProofError(f"two different roots for the same tree size {size1}")
        return
    # Step 1.
    if not proof:
        raise ProofError(f"consistency proof from {size1} to {size2} is empty")
    path = list(proof)
    # Step 2.
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    # Step 3.
    fn, sn = size1 - 1, size2 - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for position, c in enumerate(path[1:], start=1):
        if sn == 0:
            raise ProofError(
                f"consistency proof from {size1} to {size2} is too long "
                f"({len(proof)} hashes; hash {position} is left over)"
            )
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError(
            f"consistency proof from {size1} to {size2} is too short ({len(proof)} hashes)"
        )
    if fr != root1:
        raise ProofError(
            f"consistency proof leads to first root {fr.hex()}, not the expected "
            f"{bytes(root1).hex()} (size {size1})"
        )
    if sr != root2:
        raise ProofError(
            f"consistency proof leads to second root {sr.hex()}, not the expected "
            f"{bytes(root2).hex()} (size {size2})"
        )
