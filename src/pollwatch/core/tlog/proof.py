"""Generation of Merkle audit paths and consistency proofs (RFC 9162 §2.1.3.1, §2.1.4.1).

The algorithms follow the RFC's recursive definitions of PATH and SUBPROOF. They only ever
need MTH of ranges D[start:end] whose start is a multiple of the largest power of two not
above their length, which decompose into complete subtrees. So they are written against one
callable, `subtree(height, index)`: the hash of the complete subtree of 2**height leaves
starting at leaf index * 2**height. `MemoryTree` supplies it from a list of leaf hashes (tests,
small logs); `pollwatch.core.tlog.tiles` supplies it from stored tiles (the server).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pollwatch.core.tlog.errors import ProofError
from pollwatch.core.tlog.hashing import (
    EMPTY_ROOT,
    HASH_SIZE,
    largest_power_of_two_below,
    node_hash,
)

SubtreeHash = Callable[[int, int], bytes]
"""subtree(height, index) -> MTH(D[index * 2**height : (index + 1) * 2**height])."""


def range_hash(subtree: SubtreeHash, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range that starts on a boundary of its own left split (RFC 9162
    §2.1.1: the left child holds the largest power of two below the length)."""
    length = end - start
    if length <= 0:
        raise ProofError(f"empty range {start}..{end} has no subtree hash")
    if length & (length - 1) == 0:
        height = length.bit_length() - 1
        if start % length:
            raise ProofError(f"range {start}..{end} is not an aligned complete subtree")
        return subtree(height, start >> height)
    k = largest_power_of_two_below(length)
    return node_hash(range_hash(subtree, start, start + k), range_hash(subtree, start + k, end))


def tree_root(subtree: SubtreeHash, tree_size: int) -> bytes:
    """MTH(D[0:tree_size]) (RFC 9162 §2.1.1)."""
    if tree_size < 0:
        raise ProofError(f"tree size {tree_size} is negative")
    return EMPTY_ROOT if tree_size == 0 else range_hash(subtree, 0, tree_size)


def inclusion_path(subtree: SubtreeHash, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[0:tree_size]) of RFC 9162 §2.1.3.1: the audit path from the leaf's sibling
    up to the root's child."""
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is not inside a tree of size {tree_size}")
    path: list[bytes] = []
    start, end, m = 0, tree_size, index
    # Walk down from the root; each step records the sibling subtree, so reverse at the end.
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if m < k:
            path.append(range_hash(subtree, start + k, end))
            end = start + k
        else:
            path.append(range_hash(subtree, start, start + k))
            start, m = start + k, m - k
    path.reverse()
    return path


def consistency_path(subtree: SubtreeHash, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]) = SUBPROOF(size1, D[0:size2], true) of RFC 9162 §2.1.4.1.

    0 < size1 <= size2; for size1 == size2 the proof is empty."""
    if size1 <= 0:
        raise ProofError(f"first tree size {size1} must be at least 1")
    if size1 > size2:
        raise ProofError(f"first tree size {size1} is larger than second tree size {size2}")
    proof: list[bytes] = []
    start, end, m, whole = 0, size2, size1, True
    while m != end - start:
        k = largest_power_of_two_below(end - start)
        if m <= k:
            proof.append(range_hash(subtree, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(subtree, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(range_hash(subtree, start, end))
    proof.reverse()
    return proof


class MemoryTree:
    """A Merkle tree held in memory as its leaf hashes, with every complete subtree's hash
    computed once (levels[h][i] for height h). For tests and small logs: memory is about twice
    the leaf hashes."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        for position, value in enumerate(leaf_hashes):
            if len(value) != HASH_SIZE:
                raise ProofError(f"leaf hash {position} is {len(value)} bytes, not {HASH_SIZE}")
        self.levels: list[list[bytes]] = [list(leaf_hashes)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self.levels[0])

    def subtree(self, height: int, index: int) -> bytes:
        """MTH of the complete subtree at (height, index) (RFC 9162 §2.1.1); it must lie
        inside the tree."""
        if height >= len(self.levels) or index >= len(self.levels[height]):
            raise ProofError(f"no complete subtree of height {height} at index {index}")
        return self.levels[height][index]

    def _check_size(self, tree_size: int) -> None:
        if not 0 <= tree_size <= self.size:
            raise ProofError(f"tree size {tree_size} is outside 0..{self.size}")

    def root(self, tree_size: int | None = None) -> bytes:
        """MTH(D[0:tree_size]) (RFC 9162 §2.1.1); the whole tree by default."""
        size = self.size if tree_size is None else tree_size
        self._check_size(size)
        return tree_root(self.subtree, size)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:tree_size]) (RFC 9162 §2.1.3.1)."""
        size = self.size if tree_size is None else tree_size
        self._check_size(size)
        return inclusion_path(self.subtree, index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1)."""
        size = self.size if size2 is None else size2
        self._check_size(size)
        return consistency_path(self.subtree, size1, size)
