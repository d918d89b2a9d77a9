"""C2SP signed-note: malformed notes and key strings are rejected with the reason; the
signature rules (unknown keys ignored, every known-key signature verified, at least one
required) hold; signing round-trips."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.core.tlog import KeyFormatError, NoteError
from pollwatch.core.tlog.note import (
    MAX_LINE_BYTES,
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    SIG_ED25519,
    Ed25519Signer,
    Ed25519Verifier,
    NoteSignature,
    decode_signer_key,
    decode_verifier_key,
    format_signer_key,
    format_verifier_key,
    is_valid_key_name,
    key_id,
    open_note,
    parse_note,
    sign_note,
)

ALICE = Ed25519Signer("example.org/alice", bytes(range(32)))
BOB = Ed25519Signer("example.org/bob", bytes(range(1, 33)))
TEXT = "pollwatch\nline two\n"
SIGNED = sign_note(TEXT, [ALICE])


def line_of(message: bytes) -> str:
    return message.decode().rsplit("\n\n", 1)[1]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"text\xff\n\n" + line_of(SIGNED).encode(), "not valid UTF-8"),
        (b"text\xed\xa0\x80\n\n" + line_of(SIGNED).encode(), "not valid UTF-8"),
        (("te\txt\n\n" + line_of(SIGNED)).encode(), "control character '\\\\t'"),
        (("text\r\n\n" + line_of(SIGNED)).encode(), "control character '\\\\r'"),
        (("text\n" + line_of(SIGNED)).encode(), "no blank line"),
        (b"text\n\n", "no signature lines"),
        (SIGNED[:-1], "does not end with a newline"),
        (SIGNED.replace("— ".encode(), b"-- "), "does not start with an em dash"),
        (SIGNED.replace("— ".encode(), b"\xe2\x80\x94\xc2\xa0"), "does not start with an em"),
        (SIGNED.replace(b"example.org/alice ", b" "), "invalid key name ''"),
        (SIGNED.replace(b"example.org/alice", b"example.org+alice"), "invalid key name"),
        (SIGNED.replace(b"example.org/alice", "exam\u00a0ple".encode()), "invalid key name"),
        (SIGNED.replace(b"example.org/alice", "exam\u3000ple".encode()), "invalid key name"),
        (SIGNED.replace(b"example.org/alice ", b"example.org/alice"), "no signature after"),
        (SIGNED[:-3] + b"!=\n", "not valid base64"),
        (SIGNED[:-2] + b"\n", "not valid base64"),
        (("text\n\n— a " + base64.b64encode(b"1234").decode() + "\n").encode(), "too short"),
        (SIGNED + SIGNED[-10:], "does not start with an em dash"),
        (SIGNED + b"\n", "no signature lines"),
    ],
)
def test_malformed_notes_are_rejected(message: bytes, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        open_note(message, [ALICE.verifier()])


def test_non_canonical_base64_is_rejected() -> None:
    # The last base64 character before '=' carries two padding bits; setting one keeps the
    # decoded bytes but changes the spelling, which Go accepts and pollwatch does not.
    line = line_of(SIGNED)
    encoded = line.split(" ")[2].rstrip("\n")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = encoded[-2]
    twisted = encoded[:-2] + alphabet[alphabet.index(last) | 1] + "="
    assert twisted != encoded
    assert base64.b64decode(twisted) == base64.b64decode(encoded)
    with pytest.raises(NoteError, match="not canonical base64"):
        open_note(SIGNED.replace(encoded.encode(), twisted.encode()), [ALICE.verifier()])


def test_size_limits() -> None:
    many = (
        sign_note(TEXT, [ALICE])
        + "".join(NoteSignature(f"n{i}", i, b"x" * 64).line for i in range(MAX_SIGNATURES)).encode()
    )
    with pytest.raises(NoteError, match=f"more than {MAX_SIGNATURES}"):
        open_note(many, [ALICE.verifier()])
    sixteen = (
        sign_note(TEXT, [ALICE])
        + "".join(NoteSignature(f"n{i}", i, b"x" * 64).line for i in range(15)).encode()
    )
    assert len(open_note(sixteen, [ALICE.verifier()]).unverified) == 15
    with pytest.raises(NoteError, match="longer than"):
        open_note(("x" * (MAX_LINE_BYTES + 1) + "\n\n" + line_of(SIGNED)).encode(), [])
    with pytest.raises(NoteError, match="more than the"):
        open_note(b"x" * (MAX_NOTE_BYTES + 1), [])


def test_unknown_signatures_are_ignored_but_one_known_is_required() -> None:
    both = sign_note(TEXT, [ALICE, BOB])
    opened = open_note(both, [ALICE.verifier()])
    assert [s.name for s in opened.verified] == [ALICE.name]
    assert [s.name for s in opened.unverified] == [BOB.name]
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(sign_note(TEXT, [BOB]), [ALICE.verifier()])


def test_same_name_other_key_id_or_other_name_same_id_is_unknown() -> None:
    impostor = Ed25519Signer(ALICE.name, bytes(range(2, 34)))
    assert impostor.key_id != ALICE.key_id
    note = sign_note(TEXT, [impostor, ALICE])
    assert len(open_note(note, [ALICE.verifier()]).unverified) == 1
    renamed = NoteSignature("example.org/eve", ALICE.key_id, ALICE.sign(TEXT.encode()))
    note = SIGNED + renamed.line.encode()
    opened = open_note(note, [ALICE.verifier()])
    assert opened.unverified == (renamed,)


def test_a_bad_signature_by_a_known_key_rejects_the_note() -> None:
    good = parse_note(SIGNED).signatures[0]
    bad = NoteSignature(good.name, good.key_id, bytes([good.signature[0] ^ 1]) + good.signature[1:])
    with pytest.raises(NoteError, match=r"invalid signature by known key example\.org/alice"):
        open_note((TEXT + "\n" + bad.line).encode(), [ALICE.verifier()])
    # Even after a valid one: every known-key signature is verified, repeats included.
    with pytest.raises(NoteError, match="invalid signature"):
        open_note((TEXT + "\n" + good.line + bad.line).encode(), [ALICE.verifier()])
    assert len(open_note(SIGNED + good.line.encode(), [ALICE.verifier()]).verified) == 1
    # And with the text changed under the signature.
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(SIGNED.replace(b"two", b"2"), [ALICE.verifier()])


def test_repeated_unknown_lines_are_kept_once() -> None:
    unknown = NoteSignature("x", 1, b"abc")
    opened = open_note(SIGNED + unknown.line.encode() * 3, [ALICE.verifier()])
    assert opened.unverified == (unknown,)


def test_ambiguous_known_keys_are_refused() -> None:
    with pytest.raises(NoteError, match="two known keys share"):
        open_note(SIGNED, [ALICE.verifier(), ALICE.verifier()])


def test_signing_replaces_an_earlier_signature_by_the_same_key() -> None:
    note = parse_note(sign_note(TEXT, [ALICE, BOB]))
    again = parse_note(sign_note(TEXT, [ALICE], note.signatures))
    assert [s.name for s in again.signatures] == [BOB.name, ALICE.name]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no newline", "must end with a newline"),
        ("tab\there\n", "control character"),
        ("lone \ud800 surrogate\n", "not valid UTF-8"),
    ],
)
def test_unsignable_texts(text: str, reason: str) -> None:
    with pytest.raises(NoteError, match=reason):
        sign_note(text, [ALICE])


_LINE = st.text(
    st.characters(exclude_categories=["Cs"], min_codepoint=0x20), min_size=0, max_size=30
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=5))
def test_any_valid_text_round_trips(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    message = sign_note(text, [ALICE, BOB])
    opened = open_note(message, [ALICE.verifier(), BOB.verifier()])
    assert opened.text == text
    assert len(opened.verified) == 2


def test_key_names() -> None:
    assert is_valid_key_name("example.com/log42")
    assert is_valid_key_name("Пётр")
    for bad in ["", "a b", "a+b", "a\u2028b", "a\u00a0b", "a\u205fb", "\ud800"]:
        assert not is_valid_key_name(bad), bad


def test_key_id_is_the_c2sp_hash() -> None:
    import hashlib

    public = ALICE.public_key
    want = hashlib.sha256(b"example.org/alice\n\x01" + public).digest()[:4]
    assert key_id("example.org/alice", SIG_ED25519, public) == int.from_bytes(want, "big")


def test_key_strings_round_trip() -> None:
    skey = ALICE.key_string()
    assert skey.startswith("PRIVATE+KEY+example.org/alice+")
    assert Ed25519Signer.from_key_string(skey).public_key == ALICE.public_key
    vkey = ALICE.verifier().key_string()
    assert Ed25519Verifier.from_key_string(vkey).public_key == ALICE.public_key
    generated = Ed25519Signer.generate("example.org/new")
    assert Ed25519Signer.from_key_string(generated.key_string()).public_key == (
        generated.public_key
    )


def _vkey_with(name: str, hex_id: str, raw: bytes) -> str:
    return f"{name}+{hex_id}+{base64.b64encode(raw).decode()}"


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        ("justaname", "is not <name>"),
        ("a+b", "is not <name>"),
        (_vkey_with("a b", "00000000", b"\x01" + ALICE.public_key), "invalid key name"),
        (_vkey_with("alice", "0000000", b"\x01" + ALICE.public_key), "not 8 hex digits"),
        (_vkey_with("alice", "0000000g", b"\x01" + ALICE.public_key), "not 8 hex digits"),
        (_vkey_with("alice", "00000000", b"\x01" + ALICE.public_key), "does not match"),
        ("alice+00000000+AAA", "not valid base64"),
        ("alice+00000000+", "is empty"),
        (format_verifier_key("alice", 0x02, ALICE.public_key), "expected 0x01"),
        (format_verifier_key("alice", 0x01, ALICE.public_key[:31]), "32 bytes, got 31"),
        (format_verifier_key("alice", 0x01, (1).to_bytes(32, "little")), "small-order"),
    ],
)
def test_malformed_verifier_keys(vkey: str, reason: str) -> None:
    with pytest.raises(KeyFormatError, match=reason):
        Ed25519Verifier.from_key_string(vkey)


@pytest.mark.parametrize(
    ("skey", "reason"),
    [
        ("PRIVATE+KEY+alice+00000000", "is not PRIVATE"),
        ("PUBLIC+KEY+alice+00000000+AQ==", "is not PRIVATE"),
        (ALICE.key_string().replace("+example.org/alice+", "+example.org/eve+"), "does not match"),
        (format_signer_key("alice", 0x04, bytes(32)), "expected 0x01"),
        ("PRIVATE+KEY+alice+00000000+AQAA", "seed must be 32 bytes"),
        ("PRIVATE+KEY+a+b+00000000+AQ==", "not 8 hex digits"),
    ],
)
def test_malformed_signer_keys(skey: str, reason: str) -> None:
    with pytest.raises(KeyFormatError, match=reason):
        decode_signer_key(skey)


def test_go_accepts_uppercase_hex_ids_and_so_do_we() -> None:
    vkey = ALICE.verifier().key_string()
    name, hex_id, rest = vkey.split("+", 2)
    upper = f"{name}+{hex_id.upper()}+{rest}"
    assert decode_verifier_key(upper).key_id == ALICE.key_id
