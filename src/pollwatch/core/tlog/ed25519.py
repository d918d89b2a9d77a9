"""The one rule for Ed25519 keys and signatures, for the server, the browser and the offline
verifier alike (RFC 8032 §5.1; C2SP signed-note Ed25519 signatures, tlog-cosignature).

What `cryptography` (50.x, on OpenSSL) does on its own, as observed and pinned by
tests/core/tlog/test_ed25519.py:

- verification is cofactorless: it recomputes R' = [S]B - [k]A and compares its canonical
  encoding with the 32 bytes of R, so a non-canonical R never verifies;
- it rejects S >= L (non-canonical S);
- it accepts any public key that decodes to a curve point, including non-canonical encodings
  (y >= p) and the eight small-order points — with the identity as public key, the signature
  R = identity, S = 0 verifies for *every* message.

What this module enforces, on top, everywhere a key or signature enters pollwatch:

1. A public key is 32 bytes that are the canonical encoding (y < p; not x = 0 with the sign bit
   set) of a curve point of prime order L: small-order keys and keys with a torsion component
   are refused when the key is loaded (KeyFormatError says which).
2. A signature is exactly 64 bytes with S < L, checked here before `cryptography` is called.
3. Verification is then RFC 8032 §5.1.7 cofactorless, as `cryptography` does it.

Under rule 1, cofactored and cofactorless verifiers agree except on signatures whose R has a
torsion component, which no honest signer produces; a browser or offline verifier therefore
needs: canonical prime-order key, S < L, cofactorless check (e.g. noble-ed25519 with
`zip215: false`, or WebCrypto plus the key check). Signing is RFC 8032 deterministic Ed25519,
so signatures are reproducible byte for byte (the Go sumdb/note vector is).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pollwatch.core.tlog.errors import KeyFormatError

PUBLIC_KEY_SIZE = 32
SEED_SIZE = 32
SIGNATURE_SIZE = 64

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

_Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z
_IDENTITY: _Point = (0, 1, 1, 0)


def _decode_point(raw: bytes) -> _Point:
    """RFC 8032 §5.1.3 point decoding, refusing non-canonical encodings."""
    value = int.from_bytes(raw, "little")
    sign, y = value >> 255, value & ((1 << 255) - 1)
    if y >= _P:
        raise KeyFormatError("Ed25519 public key is not canonically encoded (y >= p)")
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if (v * x * x - u) % _P == 0:
        pass
    elif (v * x * x + u) % _P == 0:
        x = x * _SQRT_M1 % _P
    else:
        raise KeyFormatError("Ed25519 public key is not a point on the curve")
    if x == 0 and sign:
        raise KeyFormatError("Ed25519 public key is not canonically encoded (x = 0, sign 1)")
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _add(p: _Point, q: _Point) -> _Point:
    """RFC 8032 §5.1.4 point addition (complete for edwards25519, so also doubling)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = t1 * 2 * _D * t2 % _P
    d = z1 * 2 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar: int, point: _Point) -> _Point:
    result = _IDENTITY
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _is_identity(point: _Point) -> bool:
    x, y, z, _ = point
    return x % _P == 0 and (y - z) % _P == 0


def check_public_key(raw: bytes) -> None:
    """Enforce rule 1 of this module on a raw 32-byte public key (RFC 8032 §5.1.3 decoding,
    plus: canonical, and of prime order L). Raises KeyFormatError naming the failed check."""
    if len(raw) != PUBLIC_KEY_SIZE:
        raise KeyFormatError(f"Ed25519 public key must be 32 bytes, got {len(raw)}")
    point = _decode_point(raw)
    if _is_identity(_multiply(8, point)):
        raise KeyFormatError("Ed25519 public key is a small-order point")
    if not _is_identity(_multiply(_L, point)):
        raise KeyFormatError("Ed25519 public key is not in the prime-order subgroup")


def load_public_key(raw: bytes) -> Ed25519PublicKey:
    """A `cryptography` public key from 32 raw bytes (RFC 8032 §5.1.5 encoding) that pass
    `check_public_key`."""
    check_public_key(raw)
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32-byte RFC 8032 encoding of a key's public half."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """The RFC 8032 §5.1.5 private key whose 32-byte seed is `seed`."""
    if len(seed) != SEED_SIZE:
        raise KeyFormatError(f"Ed25519 seed must be 32 bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def verify(public_key: Ed25519PublicKey, message: bytes, signature: bytes) -> bool:
    """RFC 8032 §5.1.7 verification under this module's rule: 64 bytes, S < L, then
    `cryptography`'s cofactorless check. The key must come from `load_public_key`."""
    if len(signature) != SIGNATURE_SIZE:
        return False
    if int.from_bytes(signature[32:], "little") >= _L:
        return False
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
