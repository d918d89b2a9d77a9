"""C2SP tlog-cosignature, Ed25519 cosignature/v1: a witness's timestamped signature on a
checkpoint, as a note signature of type 0x04.

    signed message = "cosignature/v1\\n" || "time " || <timestamp, decimal> || "\\n"
                     || <checkpoint note text, final newline included>
    signature      = uint64 big-endian timestamp || 64-byte Ed25519 signature
    key ID         = SHA-256(<name> || "\\n" || 0x04 || 32-byte public key)[:4]

Ed25519 is ruled by `pollwatch.core.tlog.ed25519`. A cosignature's timestamp must not exceed
2^63-1; whether to refuse timestamps in the future is the caller's choice (`max_timestamp`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pollwatch.core.tlog import ed25519
from pollwatch.core.tlog.checkpoint import parse_checkpoint
from pollwatch.core.tlog.errors import CheckpointError, NoteError
from pollwatch.core.tlog.note import (
    SIG_COSIGNATURE_V1,
    Ed25519SignerKey,
    Ed25519VerifierKey,
    NoteSignature,
    decode_signer_key,
    parse_note,
    sign_note,
)

HEADER = "cosignature/v1"
MAX_TIMESTAMP = (1 << 63) - 1
SIGNATURE_SIZE = 8 + ed25519.SIGNATURE_SIZE


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The signed message of C2SP tlog-cosignature §Ed25519 signed message. The text must be a
    well-formed checkpoint (C2SP tlog-checkpoint)."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")
    try:
        parse_checkpoint(checkpoint_text)
    except CheckpointError as error:
        raise NoteError(f"cosigned text is not a checkpoint: {error}") from None
    return f"{HEADER}\ntime {timestamp}\n{checkpoint_text}".encode()


def cosignature_timestamp(signature: NoteSignature | bytes) -> int:
    """The timestamp a cosignature/v1 signature carries (the bytes after the key ID): the
    `timestamped_signature.timestamp` of C2SP tlog-cosignature §Format."""
    raw = signature.signature if isinstance(signature, NoteSignature) else signature
    if len(raw) != SIGNATURE_SIZE:
        raise NoteError(f"cosignature is {len(raw)} bytes, expected {SIGNATURE_SIZE}")
    return int.from_bytes(raw[:8], "big")


class CosignatureVerifier(Ed25519VerifierKey):
    """A witness's Ed25519 cosignature/v1 key (C2SP tlog-cosignature), usable as a note
    `Verifier`: it verifies the signature over the cosignature message built from the note
    text it is given. With `max_timestamp`, later timestamps are refused."""

    signature_type = SIG_COSIGNATURE_V1

    def __init__(self, name: str, public_key: bytes, max_timestamp: int | None = None) -> None:
        super().__init__(name, public_key)
        self.max_timestamp = max_timestamp

    @classmethod
    def from_key_string(cls, vkey: str, max_timestamp: int | None = None) -> CosignatureVerifier:
        """From a verifier key `<name>+<key ID>+base64(0x04 || public key)` (C2SP
        tlog-cosignature: Ed25519 cosigner keys as vkeys with signature type 0x04)."""
        decoded = cls._decode_key_string(vkey, "witness key", "cosignature/v1")
        return cls(decoded.name, decoded.public_key, max_timestamp)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Check a timestamped_signature over the cosignature/v1 message built from the note
        text `message` (C2SP tlog-cosignature §Ed25519 signed message)."""
        if len(signature) != SIGNATURE_SIZE:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        if self.max_timestamp is not None and timestamp > self.max_timestamp:
            return False
        try:
            signed = cosignature_message(message.decode("utf-8"), timestamp)
        except (NoteError, UnicodeDecodeError):
            return False
        return ed25519.verify(self._key, signed, signature[8:])


class CosignatureSigner(Ed25519SignerKey):
    """A witness's Ed25519 cosignature/v1 signing key, usable as a note `Signer`; the
    timestamp comes from `clock` (POSIX seconds)."""

    signature_type = SIG_COSIGNATURE_V1

    def __init__(
        self, name: str, seed: bytes, clock: Callable[[], int] = lambda: int(time.time())
    ) -> None:
        super().__init__(name, seed)
        self.clock = clock

    @classmethod
    def from_key_string(
        cls, skey: str, clock: Callable[[], int] = lambda: int(time.time())
    ) -> CosignatureSigner:
        """From `PRIVATE+KEY+<name>+<key ID>+base64(0x04 || seed)` (the Go sumdb/note signer
        key layout with signature type 0x04, as transparency-dev/formats reads it)."""
        decoded = decode_signer_key(skey, SIG_COSIGNATURE_V1)
        return cls(decoded.name, decoded.seed, clock)

    def verifier(self) -> CosignatureVerifier:
        """The matching witness verifier key."""
        return CosignatureVerifier(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """timestamp || Ed25519(cosignature/v1 message) for the checkpoint note text `message`
        (C2SP tlog-cosignature §Format, §Ed25519 signed message)."""
        timestamp = self.clock()
        signed = cosignature_message(message.decode("utf-8"), timestamp)
        return timestamp.to_bytes(8, "big") + self._private.sign(signed)


def cosign(signed_checkpoint: bytes, witness: CosignatureSigner) -> bytes:
    """Add `witness`'s cosignature/v1 line to a signed checkpoint, keeping its signatures
    (C2SP tlog-cosignature §Format). The caller has verified the checkpoint first."""
    note = parse_note(signed_checkpoint)
    return sign_note(note.text, [witness], note.signatures)
