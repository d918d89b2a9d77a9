"""C2SP tlog-checkpoint: round trip, strict parsing, opening a signed checkpoint."""

from __future__ import annotations

import base64

import pytest

from pollwatch.core.tlog import CheckpointError, NoteError
from pollwatch.core.tlog.checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from pollwatch.core.tlog.cosignature import CosignatureSigner, cosign
from pollwatch.core.tlog.note import Ed25519Signer

LOG = Ed25519Signer("pollwatch.example/log/kz-2026", bytes(32))
WITNESS = CosignatureSigner("witness.example/w1", bytes([7]) * 32, clock=lambda: 1_800_000_000)
ROOT = bytes(range(32))
ROOT64 = base64.b64encode(ROOT).decode()
CHECKPOINT = Checkpoint(LOG.name, 1234, ROOT)


def test_text_round_trip() -> None:
    assert CHECKPOINT.text == f"{LOG.name}\n1234\n{ROOT64}\n"
    assert parse_checkpoint(CHECKPOINT.text) == CHECKPOINT
    with_extensions = Checkpoint("o", 0, ROOT, ("ext one", "ext two"))
    assert parse_checkpoint(with_extensions.text) == with_extensions
    assert parse_checkpoint(f"o\n{2**64 - 1}\n{ROOT64}\n").size == 2**64 - 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"o\n1\n{ROOT64}", "must end with a newline"),
        ("o\n1\n", "has 2 lines"),
        (f"\n1\n{ROOT64}\n", "origin line is empty"),
        (f"o\n01\n{ROOT64}\n", "not a decimal number"),
        (f"o\n+1\n{ROOT64}\n", "not a decimal number"),
        (f"o\n 1\n{ROOT64}\n", "not a decimal number"),
        (f"o\n1_0\n{ROOT64}\n", "not a decimal number"),
        (f"o\n١\n{ROOT64}\n", "not a decimal number"),
        (f"o\n-1\n{ROOT64}\n", "not a decimal number"),
        (f"o\n\n{ROOT64}\n", "not a decimal number"),
        (f"o\n{2**64}\n{ROOT64}\n", "larger than 2\\^64-1"),
        ("o\n1\nAAAA\n", "is 3 bytes, not 32"),
        (f"o\n1\n{ROOT64[:-1]}\n", "not valid base64"),
        (f"o\n1\n{ROOT64[:-2]}B=\n", "not canonical base64"),
        (f"o\n1\n{ROOT64}\n\n", "line 4 \\(an extension line\\) is empty"),
        (f"o\n1\n{ROOT64}\next\n\nmore\n", "line 5 \\(an extension line\\) is empty"),
        (f"o\n1\n{ROOT64}\x00\n", "control character"),
    ],
)
def test_malformed_checkpoints_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        parse_checkpoint(text)


def test_constructor_checks() -> None:
    for args in [("", 1, ROOT), ("a\nb", 1, ROOT), ("o", -1, ROOT), ("o", 2**64, ROOT)]:
        with pytest.raises(CheckpointError):
            Checkpoint(*args)
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, ROOT[:31])
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, ROOT, ("",))


def test_open_a_signed_checkpoint() -> None:
    signed = sign_checkpoint(CHECKPOINT, [LOG])
    checkpoint, opened = open_checkpoint(signed, LOG.verifier())
    assert checkpoint == CHECKPOINT
    assert opened.signed_by(LOG.verifier())
    cosigned = cosign(signed, WITNESS)
    checkpoint, opened = open_checkpoint(cosigned, LOG.verifier(), witnesses=[WITNESS.verifier()])
    assert len(opened.verified) == 2


def test_checkpoint_for_another_origin_is_rejected() -> None:
    other = Checkpoint("another.example/log", 1, ROOT)
    with pytest.raises(CheckpointError, match=r"origin 'another\.example/log' is not the expected"):
        open_checkpoint(sign_checkpoint(other, [LOG]), LOG.verifier())
    checkpoint, _ = open_checkpoint(
        sign_checkpoint(other, [LOG]), LOG.verifier(), origin="another.example/log"
    )
    assert checkpoint == other


def test_checkpoint_signed_only_by_a_witness_is_rejected() -> None:
    witness_only = sign_checkpoint(CHECKPOINT, [WITNESS])
    with pytest.raises(CheckpointError, match="not signed by the log key"):
        open_checkpoint(witness_only, LOG.verifier(), witnesses=[WITNESS.verifier()])


def test_checkpoint_with_a_forged_log_signature_is_rejected() -> None:
    forger = Ed25519Signer(LOG.name, bytes([9]) * 32)
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_checkpoint(sign_checkpoint(CHECKPOINT, [forger]), LOG.verifier())
    signed = sign_checkpoint(CHECKPOINT, [LOG])
    tampered = signed.replace(b"\n1234\n", b"\n1235\n")
    with pytest.raises(NoteError, match="invalid signature by known key"):
        open_checkpoint(tampered, LOG.verifier())


def test_a_signed_note_that_is_not_a_checkpoint_is_rejected() -> None:
    from pollwatch.core.tlog.note import sign_note

    with pytest.raises(CheckpointError, match="has 1 lines"):
        open_checkpoint(sign_note("hello\n", [LOG]), LOG.verifier())
