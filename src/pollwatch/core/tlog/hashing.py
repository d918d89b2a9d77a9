"""RFC 9162 §2.1.1 Merkle Tree Hash with SHA-256: leaf and interior node hashes.

    leaf hash  = SHA-256(0x00 || entry)
    node hash  = SHA-256(0x01 || left || right)
    empty tree = SHA-256("")

Everything else in this package (proofs, tiles, checkpoints) is built on these three.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
"""Bytes in every hash of the tree (SHA-256)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() — the root of the empty tree (RFC 9162 §2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry: MTH({d(0)}) = SHA-256(0x00 || d(0)) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two subtree hashes: SHA-256(0x01 || left || right) (RFC 9162 §2.1.1).

    The caller guarantees both are HASH_SIZE bytes; verification code checks lengths before
    it gets here.
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162 §2.1.1: the largest power of two strictly smaller than n (n > 1)."""
    if n < 2:
        raise ValueError(f"no power of two is strictly below {n} that splits a tree")
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(hashes: Sequence[bytes]) -> bytes:
    """MTH over a list of already-hashed leaves (RFC 9162 §2.1.1), iteratively.

    For a list whose length is a power of two this is the complete subtree's hash; for any other
    length it is the RFC's left-heavy tree (the right-most odd hash is carried up unchanged).
    Used for small trees, inside tiles (at most 256 hashes) and in tests.
    """
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
