"""C2SP signed-note: text signed by one or more keys, with Go sumdb/note key strings.

    <text ending in a newline>
    <blank line>
    — <key name> base64(uint32 key ID || signature)      (one line per signature)

Parsing is strict and total: the note must be valid UTF-8 with no ASCII control character but
newline, at most MAX_NOTE_BYTES long with lines of at most MAX_LINE_BYTES and at most
MAX_SIGNATURES signature lines; key names are non-empty with no Unicode space and no `+`;
base64 must be canonical standard base64 (stricter than Go, which accepts non-zero padding
bits: a signature line has exactly one spelling here). Verification (`open_note`) follows the
spec's signature rules:

- a signature whose (name, key ID) is not a known key is ignored (kept as unverified);
- every signature whose (name, key ID) is a known key is verified — a repeated one too, unlike
  Go, which skips repeats — and one that fails rejects the whole note;
- a note with no verified signature from a known key is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from pollwatch.core.tlog import ed25519
from pollwatch.core.tlog.errors import KeyFormatError, NoteError

SIG_ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (C2SP signed-note §Signature types)."""
SIG_COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 cosignatures (C2SP tlog-cosignature)."""

MAX_NOTE_BYTES = 256 * 1024
MAX_LINE_BYTES = 8 * 1024
MAX_SIGNATURES = 100
"""Go's cap; the spec requires accepting at least 16."""

SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, U+0020 SPACE

# Go's unicode.IsSpace (the Unicode White_Space property): key names must contain none.
_UNICODE_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def is_valid_key_name(name: str) -> bool:
    """C2SP signed-note §Format: key names are non-empty and contain no Unicode space and no
    plus (U+002B)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return bool(name) and "+" not in name and not any(c in _UNICODE_SPACES for c in name)


def key_id(name: str, signature_type: int, public_key: bytes) -> int:
    """C2SP signed-note §Signatures: SHA-256(key name || 0x0A || signature type || public
    key)[:4], as a big-endian uint32."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key)
    return int.from_bytes(digest.digest()[:4], "big")


def b64decode_strict(text: str, what: str, error: type[ValueError] = NoteError) -> bytes:
    """Standard base64 (RFC 4648 §4) with padding, refusing any other spelling of the bytes."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise error(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise error(f"{what} is not canonical base64")
    return raw


def b64encode(raw: bytes) -> str:
    """Standard padded base64 (RFC 4648 §4), the encoding of every C2SP text format."""
    return base64.b64encode(raw).decode("ascii")


class Verifier(Protocol):
    """A known key: its name, key ID, and a check of one signature (the bytes after the key
    ID) over a note text."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


class Signer(Protocol):
    """A signing key: its name, key ID, and the signature (without key ID) of a note text."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True)
class VerifierKey:
    """A decoded verifier key string `<name>+<hex key ID>+<base64(type || public key)>`."""

    name: str
    key_id: int
    signature_type: int
    public_key: bytes

    def __str__(self) -> str:
        return format_verifier_key(self.name, self.signature_type, self.public_key)


def format_verifier_key(name: str, signature_type: int, public_key: bytes) -> str:
    """`<name>+<8 lowercase hex key ID>+<base64(type || public key)>` (C2SP signed-note
    verifier keys; Go sumdb/note NewEd25519VerifierKey)."""
    if not is_valid_key_name(name):
        raise KeyFormatError(f"invalid key name {name!r}")
    encoded = b64encode(bytes([signature_type]) + public_key)
    return f"{name}+{key_id(name, signature_type, public_key):08x}+{encoded}"


def _parse_hex_id(text: str, what: str) -> int:
    if len(text) != 8 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise KeyFormatError(f"{what}: key ID {text!r} is not 8 hex digits")
    return int(text, 16)


def decode_verifier_key(vkey: str) -> VerifierKey:
    """Decode a verifier key string and check its key ID against its name and key (C2SP
    signed-note; as Go sumdb/note NewVerifier). Any signature type; the key bytes are not
    interpreted here."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError("verifier key is not <name>+<key ID>+<base64 key>")
    name, hex_id, encoded = parts
    if not is_valid_key_name(name):
        raise KeyFormatError(f"verifier key has an invalid key name {name!r}")
    wanted = _parse_hex_id(hex_id, "verifier key")
    raw = b64decode_strict(encoded, "verifier key's key", KeyFormatError)
    if len(raw) < 2:
        raise KeyFormatError("verifier key's key is empty")
    if key_id(name, raw[0], raw[1:]) != wanted:
        raise KeyFormatError(f"verifier key ID {hex_id} does not match its name and key")
    return VerifierKey(name, wanted, raw[0], raw[1:])


@dataclass(frozen=True)
class SignerKey:
    """A decoded signer key `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>`."""

    name: str
    key_id: int
    signature_type: int
    seed: bytes


def decode_signer_key(skey: str, signature_type: int = SIG_ED25519) -> SignerKey:
    """Decode an Ed25519-seed signer key string of the given signature type and check its key
    ID against the public key it derives (Go sumdb/note NewSigner)."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise KeyFormatError("signer key is not PRIVATE+KEY+<name>+<key ID>+<base64 key>")
    name, hex_id, encoded = parts[2:]
    if not is_valid_key_name(name):
        raise KeyFormatError(f"signer key has an invalid key name {name!r}")
    wanted = _parse_hex_id(hex_id, "signer key")
    raw = b64decode_strict(encoded, "signer key's key", KeyFormatError)
    if not raw:
        raise KeyFormatError("signer key's key is empty")
    if raw[0] != signature_type:
        raise KeyFormatError(
            f"signer key has signature type 0x{raw[0]:02x}, expected 0x{signature_type:02x}"
        )
    seed = raw[1:]
    public = ed25519.public_key_bytes(ed25519.private_key_from_seed(seed))
    if key_id(name, signature_type, public) != wanted:
        raise KeyFormatError(f"signer key ID {hex_id} does not match its name and key")
    return SignerKey(name, wanted, signature_type, seed)


def format_signer_key(name: str, signature_type: int, seed: bytes) -> str:
    """`PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>` (Go sumdb/note GenerateKey)."""
    if not is_valid_key_name(name):
        raise KeyFormatError(f"invalid key name {name!r}")
    public = ed25519.public_key_bytes(ed25519.private_key_from_seed(seed))
    encoded = b64encode(bytes([signature_type]) + seed)
    return f"PRIVATE+KEY+{name}+{key_id(name, signature_type, public):08x}+{encoded}"


class Ed25519VerifierKey:
    """The part every Ed25519-based note verifier key shares, whatever its signature type
    (0x01 plain Ed25519, 0x04 cosignature/v1): a valid key name, an Ed25519 public key and the
    key ID derived from both (C2SP signed-note §Format). Subclasses set `signature_type` and
    define `verify`."""

    signature_type: ClassVar[int]

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_key_name(name):
            raise KeyFormatError(f"invalid key name {name!r}")
        self._key: Ed25519PublicKey = ed25519.load_public_key(public_key)
        self.public_key = public_key
        self._name = name
        self._key_id = key_id(name, self.signature_type, public_key)

    @classmethod
    def _decode_key_string(cls, vkey: str, what: str, type_name: str) -> VerifierKey:
        """`vkey` decoded, refused unless its signature type is this class's; the error calls
        the key `what` and the expected type `type_name`."""
        decoded = decode_verifier_key(vkey)
        if decoded.signature_type != cls.signature_type:
            raise KeyFormatError(
                f"{what} has signature type 0x{decoded.signature_type:02x}, "
                f"expected 0x{cls.signature_type:02x} ({type_name})"
            )
        return decoded

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    def key_string(self) -> str:
        """This key as a verifier key string (C2SP signed-note; C2SP tlog-cosignature §Format
        for type 0x04)."""
        return format_verifier_key(self.name, self.signature_type, self.public_key)


class Ed25519SignerKey:
    """The part every Ed25519-based note signing key shares, whatever its signature type: a
    valid key name, a 32-byte seed, the public key and key ID derived from them. Subclasses
    set `signature_type` and define `sign` and `verifier`."""

    signature_type: ClassVar[int]

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_key_name(name):
            raise KeyFormatError(f"invalid key name {name!r}")
        self._private: Ed25519PrivateKey = ed25519.private_key_from_seed(seed)
        self._seed = seed
        self.public_key = ed25519.public_key_bytes(self._private)
        self._name = name
        self._key_id = key_id(name, self.signature_type, self.public_key)

    @classmethod
    def generate(cls, name: str) -> Self:
        """A new random key (Go sumdb/note GenerateKey)."""
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    def key_string(self) -> str:
        """The secret `PRIVATE+KEY+...` string (Go sumdb/note); keep it out of logs."""
        return format_signer_key(self.name, self.signature_type, self._seed)


class Ed25519Verifier(Ed25519VerifierKey):
    """A known Ed25519 note key (signature type 0x01, C2SP signed-note §Ed25519 signatures)."""

    signature_type = SIG_ED25519

    @classmethod
    def from_key_string(cls, vkey: str) -> Ed25519Verifier:
        """From a verifier key `<name>+<key ID>+base64(0x01 || public key)` (C2SP signed-note,
        Go sumdb/note NewVerifier); the key must pass `ed25519.check_public_key`."""
        decoded = cls._decode_key_string(vkey, "verifier key", "Ed25519")
        return cls(decoded.name, decoded.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Ed25519 over the note text (C2SP signed-note §Ed25519 signatures), by the rule of
        `pollwatch.core.tlog.ed25519`."""
        return ed25519.verify(self._key, message, signature)


class Ed25519Signer(Ed25519SignerKey):
    """An Ed25519 note signing key (signature type 0x01). Deterministic: the same text gives
    the same signature bytes (RFC 8032 §5.1.6)."""

    signature_type = SIG_ED25519

    @classmethod
    def from_key_string(cls, skey: str) -> Ed25519Signer:
        """From `PRIVATE+KEY+<name>+<key ID>+base64(0x01 || seed)` (Go sumdb/note NewSigner)."""
        decoded = decode_signer_key(skey, SIG_ED25519)
        return cls(decoded.name, decoded.seed)

    def verifier(self) -> Ed25519Verifier:
        """The matching verifier key."""
        return Ed25519Verifier(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """RFC 8032 Ed25519 signature of the note text (C2SP signed-note §Ed25519
        signatures)."""
        return self._private.sign(message)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key's name and ID, and the signature bytes after the ID."""

    name: str
    key_id: int
    signature: bytes

    @property
    def line(self) -> str:
        """`— <name> base64(key ID || signature)` and a newline (C2SP signed-note §Format)."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(raw)}\n"


@dataclass(frozen=True)
class Note:
    """A parsed signed note, signatures not yet verified."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> bytes:
        """The note's bytes: text, blank line, signature lines (C2SP signed-note §Format)."""
        check_note_text(self.text)
        if not self.signatures:
            raise NoteError("a signed note needs at least one signature")
        return (self.text + "\n" + "".join(s.line for s in self.signatures)).encode()


_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def _check_lines(text: str, what: str) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
            raise NoteError(f"{what} line {number} is longer than {MAX_LINE_BYTES} bytes")
        control = _CONTROL.search(line)
        if control:
            raise NoteError(f"{what} line {number} contains control character {control[0]!r}")


def check_note_text(text: str) -> None:
    """A note text that can be signed: valid UTF-8, ends in a newline, no ASCII control
    character other than newline, lines of bounded length (C2SP signed-note §Format)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("note text is not valid UTF-8 (it holds a lone surrogate)") from None
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    _check_lines(text[:-1], "note text")


def parse_note(message: bytes) -> Note:
    """Split a signed note into its text and signature lines, checking the syntax of C2SP
    signed-note §Format (not the signatures)."""
    if len(message) > MAX_NOTE_BYTES:
        raise NoteError(f"note is {len(message)} bytes, more than the {MAX_NOTE_BYTES} allowed")
    try:
        decoded = message.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NoteError(f"note is not valid UTF-8 (byte {error.start})") from None
    _check_lines(decoded, "note")
    split = decoded.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines")
    if not block.endswith("\n"):
        raise NoteError("note's last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signature lines, more than {MAX_SIGNATURES}")
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"signature line {number} does not start with an em dash and space")
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not space or not encoded:
            raise NoteError(f"signature line {number} has no signature after the key name")
        if not is_valid_key_name(name):
            raise NoteError(f"signature line {number} has an invalid key name {name!r}")
        raw = b64decode_strict(encoded, f"signature line {number}")
        if len(raw) < 5:
            raise NoteError(f"signature line {number} is {len(raw)} bytes, too short")
        signatures.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return Note(text, tuple(signatures))


def sign_note(
    text: str, signers: Sequence[Signer], existing: Iterable[NoteSignature] = ()
) -> bytes:
    """Sign `text` (C2SP signed-note), as Go sumdb/note Sign: the `existing` signatures first,
    minus any by a key that signs again now, then one new line per signer."""
    check_note_text(text)
    if not signers:
        raise NoteError("signing a note needs at least one signer")
    message = text.encode()
    new = []
    for signer in signers:
        if not is_valid_key_name(signer.name):
            raise NoteError(f"signer has an invalid key name {signer.name!r}")
        new.append(NoteSignature(signer.name, signer.key_id, signer.sign(message)))
    replaced = {(s.name, s.key_id) for s in new}
    kept = [s for s in existing if (s.name, s.key_id) not in replaced]
    return Note(text, (*kept, *new)).encode()


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures from known keys all verified."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]

    def signed_by(self, verifier: Verifier) -> bool:
        """Whether `verifier`'s key is among the verified signatures."""
        return any((s.name, s.key_id) == (verifier.name, verifier.key_id) for s in self.verified)


def open_note(message: bytes, verifiers: Sequence[Verifier]) -> OpenedNote:
    """Parse a signed note and verify it against the known keys `verifiers`, by the rules of
    C2SP signed-note §Signatures (see the module docstring). Raises NoteError naming the first
    failed check."""
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_id)
        if key in known:
            raise NoteError(f"two known keys share name and ID {verifier.name}+{key[1]:08x}")
        known[key] = verifier
    note = parse_note(message)
    body = note.text.encode()
    verified: dict[tuple[str, int], NoteSignature] = {}
    unverified: dict[str, NoteSignature] = {}
    for signature in note.signatures:
        key = (signature.name, signature.key_id)
        known_key = known.get(key)
        if known_key is None:
            unverified.setdefault(signature.line, signature)
            continue
        if not known_key.verify(body, signature.signature):
            raise NoteError(f"invalid signature by known key {signature.name}+{key[1]:08x}")
        verified.setdefault(key, signature)
    if not verified:
        names = ", ".join(f"{n}+{i:08x}" for n, i in known) or "none"
        raise NoteError(f"note has no signature by a known key (known: {names})")
    return OpenedNote(note.text, tuple(verified.values()), tuple(unverified.values()))
