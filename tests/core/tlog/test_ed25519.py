"""The Ed25519 rule of pollwatch.core.tlog.ed25519: what `cryptography` does by itself (pinned,
so an upgrade that changes it is noticed) and what pollwatch enforces on top."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pollwatch.core.tlog import KeyFormatError
from pollwatch.core.tlog import ed25519 as rule
from pollwatch.core.tlog.ed25519 import _P, _add, _decode_point, _Point

L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = (1).to_bytes(32, "little")
MESSAGE = b"pollwatch"
SEED = bytes(range(32))


def encode(point: _Point) -> bytes:
    x, y, z, _ = point
    inverse = pow(z, _P - 2, _P)
    x, y = x * inverse % _P, y * inverse % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def order_8_point() -> bytes:
    # [L]P kills P's prime-order part and keeps its torsion part: search small y until that
    # torsion has order 8.
    for y in range(2, 100):
        try:
            point = _decode_point(y.to_bytes(32, "little"))
        except KeyFormatError:
            continue
        torsion = rule._multiply(L, point)
        if not rule._is_identity(rule._multiply(4, torsion)):
            return encode(torsion)
    raise AssertionError("no order-8 point found")


def cryptography_accepts(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def test_cryptography_alone_accepts_a_forgery_under_the_identity_key() -> None:
    forged = IDENTITY + bytes(32)  # R = identity, S = 0 verifies any message
    assert cryptography_accepts(IDENTITY, forged, MESSAGE)
    assert cryptography_accepts(IDENTITY, forged, b"any other message")
    with pytest.raises(KeyFormatError, match="small-order"):
        rule.load_public_key(IDENTITY)


def test_cryptography_accepts_non_canonical_keys_pollwatch_does_not() -> None:
    non_canonical_identity = (_P + 1).to_bytes(32, "little")
    assert cryptography_accepts(non_canonical_identity, IDENTITY + bytes(32), MESSAGE)
    with pytest.raises(KeyFormatError, match="not canonically encoded"):
        rule.check_public_key(non_canonical_identity)
    with pytest.raises(KeyFormatError, match="x = 0, sign 1"):
        rule.check_public_key((1 | (1 << 255)).to_bytes(32, "little"))


def test_non_canonical_s_is_rejected_by_both() -> None:
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = rule.load_public_key(rule.public_key_bytes(private))
    signature = private.sign(MESSAGE)
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + L).to_bytes(32, "little")
    assert rule.verify(public, MESSAGE, signature)
    assert not cryptography_accepts(rule.public_key_bytes(public), malleated, MESSAGE)
    assert not rule.verify(public, MESSAGE, malleated)


def test_every_small_order_and_mixed_order_key_is_refused() -> None:
    torsion = order_8_point()
    point = _decode_point(torsion)
    small = [rule._IDENTITY]
    for _ in range(7):
        small.append(_add(small[-1], point))
    assert len({encode(p) for p in small}) == 8
    for p in small:
        with pytest.raises(KeyFormatError, match="small-order"):
            rule.check_public_key(encode(p))
    honest = rule.public_key_bytes(Ed25519PrivateKey.from_private_bytes(SEED))
    rule.check_public_key(honest)
    mixed = encode(_add(_decode_point(honest), point))
    with pytest.raises(KeyFormatError, match="prime-order subgroup"):
        rule.check_public_key(mixed)


def test_malformed_keys_and_signatures() -> None:
    with pytest.raises(KeyFormatError, match="32 bytes, got 31"):
        rule.check_public_key(bytes(31))
    with pytest.raises(KeyFormatError, match="not a point on the curve"):
        rule.check_public_key((2).to_bytes(32, "little"))
    with pytest.raises(KeyFormatError, match="seed must be 32 bytes"):
        rule.private_key_from_seed(bytes(33))
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = rule.load_public_key(rule.public_key_bytes(private))
    signature = private.sign(MESSAGE)
    assert not rule.verify(public, MESSAGE, signature[:-1])
    assert not rule.verify(public, MESSAGE, signature + b"\x00")
    assert not rule.verify(public, MESSAGE + b".", signature)


def test_signing_is_deterministic() -> None:
    private = rule.private_key_from_seed(SEED)
    assert private.sign(MESSAGE) == rule.private_key_from_seed(SEED).sign(MESSAGE)


def test_cryptography_refuses_non_canonical_r() -> None:
    non_canonical_identity = (_P + 1).to_bytes(32, "little")
    assert not cryptography_accepts(IDENTITY, non_canonical_identity + bytes(32), MESSAGE)


def test_verification_is_cofactorless() -> None:
    # R = [r]B + T with T of order 8 and S = r + k*a: the cofactored equation
    # [8][S]B = [8]R + [8][k]A holds, the cofactorless one [S]B = R + [k]A does not.
    base = _decode_point(bytes.fromhex("58" + "66" * 31))
    digest = hashlib.sha512(SEED).digest()
    a = int.from_bytes(digest[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)
    public = encode(rule._multiply(a, base))
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    assert public == rule.public_key_bytes(private)
    r = 123456789
    big_r = encode(_add(rule._multiply(r, base), _decode_point(order_8_point())))
    k = int.from_bytes(hashlib.sha512(big_r + public + MESSAGE).digest(), "little") % L
    signature = big_r + ((r + k * a) % L).to_bytes(32, "little")
    assert not cryptography_accepts(public, signature, MESSAGE)
    assert not rule.verify(rule.load_public_key(public), MESSAGE, signature)
    # The same construction without T is an ordinary valid signature.
    plain_r = encode(rule._multiply(r, base))
    k = int.from_bytes(hashlib.sha512(plain_r + public + MESSAGE).digest(), "little") % L
    assert cryptography_accepts(public, plain_r + ((r + k * a) % L).to_bytes(32, "little"), MESSAGE)
