"""C2SP tlog-proof receipts: the format, strict parsing, and verification end to end against a
log key and witness keys with a quorum."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.core.tlog import MemoryTree, ReceiptError, TlogError, leaf_hash
from pollwatch.core.tlog.checkpoint import Checkpoint, sign_checkpoint
from pollwatch.core.tlog.cosignature import CosignatureSigner, cosign
from pollwatch.core.tlog.note import Ed25519Signer
from pollwatch.core.tlog.receipt import (
    Receipt,
    parse_receipt,
    receipt_from_tiles,
    verify_receipt,
)
from pollwatch.core.tlog.tiles import integrate

LOG = Ed25519Signer("pollwatch.example/log/kz-2026", bytes(32))
WITNESSES = [
    CosignatureSigner(f"witness{i}.example", bytes([i + 1]) * 32, clock=lambda: 1_800_000_000)
    for i in range(3)
]
W_KEYS = [w.verifier() for w in WITNESSES]
ENTRIES = [f"protocol copy {i}".encode() for i in range(300)]
TREE = MemoryTree([leaf_hash(e) for e in ENTRIES])
CHECKPOINT = Checkpoint(LOG.name, TREE.size, TREE.root())


def signed_checkpoint(cosigners: int = 3) -> bytes:
    signed = sign_checkpoint(CHECKPOINT, [LOG])
    for witness in WITNESSES[:cosigners]:
        signed = cosign(signed, witness)
    return signed


def receipt_for(index: int, cosigners: int = 3, extra: bytes | None = None) -> bytes:
    return Receipt(
        index, tuple(TREE.inclusion_proof(index)), signed_checkpoint(cosigners), extra
    ).encode()


def h64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_format_matches_transparency_dev_formats() -> None:
    h1, h2 = hashlib.sha256(b"hash1").digest(), hashlib.sha256(b"hash2").digest()
    assert (
        Receipt(5, (h1, h2), b"test checkpoint\n").encode()
        == (
            f"c2sp.org/tlog-proof@v1\nindex 5\n{h64(b'hash1')}\n{h64(b'hash2')}\n\n"
            "test checkpoint\n"
        ).encode()
    )
    extra = base64.b64encode(b"extra information").decode()
    assert (
        Receipt(10, (h1,), b"checkpoint data\n", b"extra information").encode()
        == (
            f"c2sp.org/tlog-proof@v1\nextra {extra}\nindex 10\n{h64(b'hash1')}\n\ncheckpoint data\n"
        ).encode()
    )


@settings(max_examples=50, deadline=None)
@given(
    st.integers(0, 2**64 - 1),
    st.lists(st.binary(min_size=32, max_size=32), max_size=5),
    st.one_of(st.none(), st.binary(max_size=40)),
)
def test_round_trip(index: int, proof: list[bytes], extra: bytes | None) -> None:
    receipt = Receipt(index, tuple(proof), b"origin\n1\nxx\n\n- sig\n", extra)
    assert parse_receipt(receipt.encode()) == receipt


ZERO = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("wrong-header\nindex 0\n\ncheckpoint\n", "does not start with the line"),
        ("c2sp.org/tlog-proof@v1\nextra !!notbase64!!\nindex 0\n\ncp\n", "not valid base64"),
        ("c2sp.org/tlog-proof@v1\n\n\ncheckpoint\n", "no 'index <n>' line"),
        ("c2sp.org/tlog-proof@v1\nindex notanumber\n\ncp\n", "not a decimal uint64"),
        ("c2sp.org/tlog-proof@v1\nindex -5\n\ncp\n", "not a decimal uint64"),
        ("c2sp.org/tlog-proof@v1\nindex 05\n\ncp\n", "not a decimal uint64"),
        ("c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\ncp\n", "not a decimal"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n!!notbase64!!\n\ncp\n", "hash 0 is not valid"),
        (
            "c2sp.org/tlog-proof@v1\nindex 0\n" + base64.b64encode(bytes(64)).decode() + "\n\ncp\n",
            "hash 0 is 64 bytes",
        ),
        (f"c2sp.org/tlog-proof@v1\nindex 0\n{ZERO}\n", "ends before its blank line"),
        (f"c2sp.org/tlog-proof@v1\nindex 0\n{ZERO}\n\n", "no checkpoint"),
        ("c2sp.org/tlog-proof@v1\r\nindex 0\n\ncp\n", "does not start with the line"),
        ("c2sp.org/tlog-proof@v1", "ends before its header"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n\u00e9\n\ncp\n", "not ASCII"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n" + "a" * 65 * 1024 + "\n", "is 49920 bytes"),
    ],
)
def test_malformed_receipts_are_rejected(data: str, reason: str) -> None:
    with pytest.raises(ReceiptError, match=reason):
        parse_receipt(data.encode())


@pytest.mark.parametrize("index", [0, 1, 255, 256, 299])
def test_receipts_verify_end_to_end(index: int) -> None:
    result = verify_receipt(
        receipt_for(index, extra=b"ctx"),
        TREE.levels[0][index],
        LOG.verifier(),
        witnesses=W_KEYS,
        quorum=3,
    )
    assert result.index == index
    assert result.checkpoint == CHECKPOINT
    assert result.log_signature.name == LOG.name
    assert {s.name for s in result.cosigners} == {w.name for w in WITNESSES}
    assert result.extra == b"ctx"


def test_quorum_of_witnesses() -> None:
    two = receipt_for(7, cosigners=2)
    verify_receipt(two, TREE.levels[0][7], LOG.verifier(), witnesses=W_KEYS, quorum=2)
    with pytest.raises(ReceiptError, match="2 valid witness cosignatures, quorum is 3"):
        verify_receipt(two, TREE.levels[0][7], LOG.verifier(), witnesses=W_KEYS, quorum=3)
    # The same witness's line twice is still one witness.
    one = receipt_for(7, cosigners=1)
    line = one.decode().rsplit("\n", 2)[1] + "\n"
    assert line.startswith("— witness0.example ")
    with pytest.raises(ReceiptError, match="1 valid witness cosignatures, quorum is 2"):
        verify_receipt(
            one + line.encode(), TREE.levels[0][7], LOG.verifier(), witnesses=W_KEYS, quorum=2
        )
    with pytest.raises(ReceiptError, match="quorum 4 is not between 0 and 3"):
        verify_receipt(two, TREE.levels[0][7], LOG.verifier(), witnesses=W_KEYS, quorum=4)


def test_forged_receipts_are_rejected() -> None:
    good = receipt_for(42)
    leaf = TREE.levels[0][42]
    log = LOG.verifier()
    with pytest.raises(ReceiptError, match="inclusion proof: inclusion proof for leaf 42 leads"):
        verify_receipt(good, TREE.levels[0][43], log, witnesses=W_KEYS)
    with pytest.raises(ReceiptError, match="inclusion proof"):
        verify_receipt(good.replace(b"index 42\n", b"index 43\n"), leaf, log)
    with pytest.raises(ReceiptError, match="not inside a tree of size 300"):
        verify_receipt(good.replace(b"index 42\n", b"index 300\n"), leaf, log)
    first_hash = base64.b64encode(TREE.inclusion_proof(42)[0])
    other = base64.b64encode(hashlib.sha256(b"x").digest())
    with pytest.raises(ReceiptError, match="inclusion proof"):
        verify_receipt(good.replace(first_hash, other), leaf, log)
    with pytest.raises(ReceiptError, match="too short"):
        verify_receipt(good.replace(first_hash + b"\n", b""), leaf, log)
    # A checkpoint whose size or root was changed no longer carries a valid log signature.
    with pytest.raises(ReceiptError, match="receipt checkpoint: invalid signature by known key"):
        verify_receipt(good.replace(b"\n300\n", b"\n301\n"), leaf, log)
    # Another log's key, or the right key name for another origin.
    with pytest.raises(ReceiptError, match="no signature by a known key"):
        verify_receipt(good, leaf, Ed25519Signer(LOG.name, bytes([1]) * 32).verifier())
    with pytest.raises(ReceiptError, match="origin"):
        verify_receipt(good, leaf, log, origin="other.example/log")
    # A forged cosignature rejects the whole receipt.
    forged_witness = CosignatureSigner(WITNESSES[0].name, bytes([99]) * 32)
    forged = cosign(sign_checkpoint(CHECKPOINT, [LOG]), forged_witness)
    forged_id = W_KEYS[0].key_id.to_bytes(4, "big")
    line = forged.decode().rsplit("\n", 2)[1]
    raw = base64.b64decode(line.split(" ")[2])
    relabelled = forged.replace(line.split(" ")[2].encode(), base64.b64encode(forged_id + raw[4:]))
    receipt = Receipt(42, tuple(TREE.inclusion_proof(42)), relabelled).encode()
    with pytest.raises(ReceiptError, match="invalid signature by known key witness0"):
        verify_receipt(receipt, leaf, log, witnesses=W_KEYS)


def test_receipt_from_tiles_equals_the_in_memory_one() -> None:
    tiles: dict[tuple[int, int], bytes] = {}

    def read_tile(level: int, index: int, width: int) -> bytes:
        return tiles[(level, index)][: width * 32]

    result = integrate(0, read_tile, TREE.levels[0])
    for tile in result.tiles:
        tiles[(tile.level, tile.index)] = tile.hashes
    assert result.root == CHECKPOINT.root_hash
    signed = signed_checkpoint()
    for index in (0, 255, 256, 299):
        receipt = receipt_from_tiles(index, signed, read_tile)
        assert receipt.encode() == receipt_for(index)
        verify_receipt(receipt.encode(), TREE.levels[0][index], LOG.verifier(), witnesses=W_KEYS)


GOOD = receipt_for(42)


def test_every_flipped_bit_in_a_receipt_fails() -> None:
    # With every witness required, no bit of a receipt without extra data is unchecked.
    leaf, log = TREE.levels[0][42], LOG.verifier()
    verify_receipt(GOOD, leaf, log, witnesses=W_KEYS, quorum=3)
    accepted = []
    for bit in range(len(GOOD) * 8):
        data = bytearray(GOOD)
        data[bit // 8] ^= 1 << (bit % 8)
        try:
            verify_receipt(bytes(data), leaf, log, witnesses=W_KEYS, quorum=3)
        except TlogError:
            continue
        accepted.append(bit)
    assert accepted == []
