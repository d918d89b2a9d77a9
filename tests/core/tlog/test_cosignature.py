"""C2SP tlog-cosignature cosignature/v1: message, key IDs (type 0x04), signing and verifying
through signed notes, timestamps, forgeries."""

from __future__ import annotations

import hashlib

import pytest

from pollwatch.core.tlog import KeyFormatError, NoteError
from pollwatch.core.tlog.checkpoint import Checkpoint, sign_checkpoint
from pollwatch.core.tlog.cosignature import (
    MAX_TIMESTAMP,
    CosignatureSigner,
    CosignatureVerifier,
    cosign,
    cosignature_message,
    cosignature_timestamp,
)
from pollwatch.core.tlog.note import (
    Ed25519Signer,
    NoteSignature,
    format_verifier_key,
    open_note,
    parse_note,
)

LOG = Ed25519Signer("log.example/a", bytes(32))
SEED = bytes([5]) * 32
WITNESS = CosignatureSigner("witness.example/w", SEED, clock=lambda: 1_700_000_000)
CHECKPOINT = Checkpoint(LOG.name, 10, hashlib.sha256(b"root").digest(), ("ext",))
SIGNED = sign_checkpoint(CHECKPOINT, [LOG])


def test_key_id_uses_type_0x04_and_differs_from_the_plain_key() -> None:
    want = hashlib.sha256(b"witness.example/w\n\x04" + WITNESS.public_key).digest()[:4]
    assert WITNESS.key_id == int.from_bytes(want, "big")
    plain = Ed25519Signer(WITNESS.name, SEED)
    assert plain.public_key == WITNESS.public_key
    assert plain.key_id != WITNESS.key_id


def test_cosign_then_verify() -> None:
    cosigned = cosign(SIGNED, WITNESS)
    note = parse_note(cosigned)
    assert [s.name for s in note.signatures] == [LOG.name, WITNESS.name]
    cosignature = note.signatures[1]
    assert len(cosignature.signature) == 72
    assert cosignature_timestamp(cosignature) == 1_700_000_000
    opened = open_note(cosigned, [WITNESS.verifier()])
    assert opened.verified == (cosignature,)
    # The signature is over the cosignature/v1 message, extension lines included.
    message = cosignature_message(CHECKPOINT.text, 1_700_000_000)
    assert message.startswith(b"cosignature/v1\ntime 1700000000\nlog.example/a\n10\n")
    assert message.endswith(b"\next\n")


def test_key_strings() -> None:
    vkey = WITNESS.verifier().key_string()
    assert CosignatureVerifier.from_key_string(vkey).key_id == WITNESS.key_id
    skey = WITNESS.key_string()
    assert CosignatureSigner.from_key_string(skey).public_key == WITNESS.public_key
    with pytest.raises(KeyFormatError, match="expected 0x04"):
        CosignatureVerifier.from_key_string(LOG.verifier().key_string())
    with pytest.raises(KeyFormatError, match="small-order"):
        CosignatureVerifier.from_key_string(
            format_verifier_key("w", 0x04, (1).to_bytes(32, "little"))
        )
    with pytest.raises(KeyFormatError, match="expected 0x04"):
        CosignatureSigner.from_key_string(LOG.key_string())


def _resign(signature: NoteSignature, raw: bytes) -> bytes:
    return SIGNED + NoteSignature(signature.name, signature.key_id, raw).line.encode()


def test_forged_or_altered_cosignatures_are_rejected() -> None:
    cosignature = parse_note(cosign(SIGNED, WITNESS)).signatures[1]
    raw = cosignature.signature
    later = (1_700_000_001).to_bytes(8, "big") + raw[8:]
    flipped = raw[:-1] + bytes([raw[-1] ^ 1])
    for bad in (later, flipped, raw[:-1], raw + b"\x00"):
        with pytest.raises(NoteError, match="invalid signature by known key witness"):
            open_note(_resign(cosignature, bad), [WITNESS.verifier()])
    # A plain Ed25519 signature over the bare text by the same key does not count.
    plain = Ed25519Signer(WITNESS.name, SEED).sign(CHECKPOINT.text.encode())
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(_resign(cosignature, bytes(8) + plain), [WITNESS.verifier()])


def test_timestamps() -> None:
    late = CosignatureSigner(WITNESS.name, SEED, clock=lambda: 1_800_000_000)
    cosigned = cosign(SIGNED, late)
    strict = CosignatureVerifier(WITNESS.name, WITNESS.public_key, max_timestamp=1_799_999_999)
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(cosigned, [strict])
    relaxed = CosignatureVerifier(WITNESS.name, WITNESS.public_key, max_timestamp=1_800_000_000)
    assert len(open_note(cosigned, [relaxed]).verified) == 1
    with pytest.raises(NoteError, match=r"outside 0\.\.2\^63-1"):
        cosignature_message(CHECKPOINT.text, MAX_TIMESTAMP + 1)
    too_late = CosignatureSigner(WITNESS.name, SEED, clock=lambda: MAX_TIMESTAMP + 1)
    with pytest.raises(NoteError, match="outside"):
        cosign(SIGNED, too_late)
    with pytest.raises(NoteError, match="expected 72"):
        cosignature_timestamp(b"short")


def test_only_checkpoints_are_cosigned() -> None:
    with pytest.raises(NoteError, match="not a checkpoint"):
        cosignature_message("just one line\n", 1)
    verifier = WITNESS.verifier()
    assert not verifier.verify(b"just one line\n", bytes(72))
    assert not verifier.verify(b"\xff\n1\nAAAA\n", bytes(72))
