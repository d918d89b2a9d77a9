"""../shared/data/tlog/signed_note_vectors.json: Go sumdb/note keys and signatures reproduced
byte for byte, the C2SP examples, the cosignature and tlog-proof layouts."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from pollwatch.core.tlog import NoteError
from pollwatch.core.tlog.checkpoint import parse_checkpoint
from pollwatch.core.tlog.cosignature import cosignature_message, cosignature_timestamp
from pollwatch.core.tlog.note import (
    Ed25519Signer,
    Ed25519Verifier,
    decode_verifier_key,
    open_note,
    parse_note,
    sign_note,
)
from pollwatch.core.tlog.receipt import Receipt, parse_receipt


@pytest.fixture(scope="module")
def vectors(shared_data: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (shared_data / "tlog" / "signed_note_vectors.json").read_text(encoding="utf-8")
    )
    return data


def test_go_signer_key_gives_the_go_verifier_key(vectors: dict[str, Any]) -> None:
    go = vectors["golang_x_mod_sumdb_note"]
    signer = Ed25519Signer.from_key_string(go["skey_PeterNeumann"])
    assert signer.name == "PeterNeumann"
    assert f"{signer.key_id:08x}" == "c74f20a3"
    assert signer.key_string() == go["skey_PeterNeumann"]
    assert signer.verifier().key_string() == go["vkey_PeterNeumann"]
    assert Ed25519Verifier.from_key_string(go["vkey_PeterNeumann"]).key_id == signer.key_id


def test_go_signature_is_reproduced_byte_for_byte(vectors: dict[str, Any]) -> None:
    go = vectors["golang_x_mod_sumdb_note"]
    signer = Ed25519Signer.from_key_string(go["skey_PeterNeumann"])
    assert sign_note(go["text"], [signer]) == go["signed_note_by_PeterNeumann"].encode()


def test_go_doubly_signed_note_opens_with_both_keys(vectors: dict[str, Any]) -> None:
    go = vectors["golang_x_mod_sumdb_note"]
    message = (go["signed_note_by_PeterNeumann"] + go["signature_line_EnochRoot"]).encode()
    peter = Ed25519Verifier.from_key_string(go["vkey_PeterNeumann"])
    enoch = Ed25519Verifier.from_key_string(go["vkey_EnochRoot"])
    opened = open_note(message, [peter, enoch])
    assert opened.text == go["text"]
    assert [s.name for s in opened.verified] == ["PeterNeumann", "EnochRoot"]
    assert opened.unverified == ()
    only_enoch = open_note(message, [enoch])
    assert [s.name for s in only_enoch.verified] == ["EnochRoot"]
    assert [s.name for s in only_enoch.unverified] == ["PeterNeumann"]
    # Re-encoding the parsed note gives the same bytes.
    assert parse_note(message).encode() == message


def test_go_signature_under_the_wrong_key_is_rejected(vectors: dict[str, Any]) -> None:
    go = vectors["golang_x_mod_sumdb_note"]
    line = go["signature_line_EnochRoot"]
    # Enoch's signature relabelled as Peter's (key ID rewritten too) must fail verification.
    raw = base64.b64decode(line.split(" ")[2])
    peter = Ed25519Verifier.from_key_string(go["vkey_PeterNeumann"])
    forged = peter.key_id.to_bytes(4, "big") + raw[4:]
    message = (go["text"] + "\n— PeterNeumann " + base64.b64encode(forged).decode() + "\n").encode()
    with pytest.raises(NoteError, match="invalid signature by known key PeterNeumann\\+c74f20a3"):
        open_note(message, [peter])


def test_c2sp_verifier_key_example(vectors: dict[str, Any]) -> None:
    example = vectors["c2sp_signed_note_example"]
    verifier = Ed25519Verifier.from_key_string(example["vkey"])
    assert verifier.name == "example.com/foo"
    assert f"{verifier.key_id:08x}" == "530d903a"
    assert verifier.key_string() == example["vkey"]
    opened = open_note(example["signed_note"].encode(), [verifier])
    assert opened.text == "This is an example message.\n"


def test_c2sp_checkpoint_example_parses_but_opens_with_no_known_key(
    vectors: dict[str, Any],
) -> None:
    message = vectors["c2sp_checkpoint_format_example"]["checkpoint"].encode()
    note = parse_note(message)
    checkpoint = parse_checkpoint(note.text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert base64.b64encode(checkpoint.root_hash) == b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    assert checkpoint.text == note.text
    assert note.signatures[0].name == "example.com/behind-the-sofa"
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(message, [])


def test_cosignature_message_layout(vectors: dict[str, Any]) -> None:
    message = vectors["c2sp_cosignature_v1_signed_message_example"]["message"]
    text = vectors["c2sp_checkpoint_format_example"]["checkpoint"].split("\n\n")[0] + "\n"
    assert cosignature_message(text, 1679315147) == message.encode()


def test_cosignature_timestamp_vector(vectors: dict[str, Any]) -> None:
    vector = vectors["transparency_dev_formats_cosig_timestamp"]
    raw = base64.b64decode(vector["signature_base64"])
    assert len(raw) == 76
    assert raw[:4].hex() == "646846b9"
    assert cosignature_timestamp(raw[4:]) == vector["want_unix_time"]


def test_tlog_proof_layout(vectors: dict[str, Any]) -> None:
    want = vectors["c2sp_tlog_proof_marshal_examples"]["empty_hashes"].encode()
    assert Receipt(0, (), b"checkpoint\n").encode() == want
    assert parse_receipt(want) == Receipt(0, (), b"checkpoint\n")


def test_every_go_verifier_key_decodes(vectors: dict[str, Any]) -> None:
    go = vectors["golang_x_mod_sumdb_note"]
    for name in ("vkey_PeterNeumann", "vkey_EnochRoot"):
        decoded = decode_verifier_key(go[name])
        assert decoded.signature_type == 1
        assert str(decoded) == go[name]
