"""Exported logs: written from entries, verified offline, and every kind of tampering caught
with the file and the difference named; receipts classified as unreadable or invalid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pollwatch.core.tlog import MemoryTree, leaf_hash
from pollwatch.core.tlog.checkpoint import Checkpoint, sign_checkpoint
from pollwatch.core.tlog.cosignature import CosignatureSigner, cosign
from pollwatch.core.tlog.export import (
    CHECKPOINT_PATH,
    ExportedLog,
    export_log,
    write_log_directory,
)
from pollwatch.core.tlog.note import Ed25519Signer
from pollwatch.core.tlog.receipt import receipt_from_tiles
from pollwatch.core.tlog.tiles import parse_tile_path
from pollwatch.core.tlog.verify_export import (
    UnreadableInput,
    VerificationFailed,
    VerifiedLog,
    check_receipt,
    verify_log,
    verify_log_directory,
)

LOG = Ed25519Signer("pollwatch.example/log/test", bytes(32))
OTHER = Ed25519Signer("pollwatch.example/log/test", bytes([9]) * 32)
WITNESSES = [
    CosignatureSigner(f"witness{i}.example", bytes([i + 1]) * 32, clock=lambda: 1_800_000_000)
    for i in range(3)
]
W_KEYS = [w.verifier() for w in WITNESSES]


def entries(n: int) -> list[bytes]:
    return [f"record {i}".encode() for i in range(n)]


# 600 entries: bundles 000, 001 full and 002.p/88; tiles 0/000, 0/001, 0/002.p/88, 1/000.p/2.
EXPORTED = export_log(entries(600), LOG, witnesses=WITNESSES[:2])


def reader(files: dict[str, bytes]) -> Callable[[str], bytes]:
    def read(path: str) -> bytes:
        if path not in files:
            raise FileNotFoundError(path)
        return files[path]

    return read


def verify(files: dict[str, bytes], **options: object) -> VerifiedLog:
    return verify_log(reader(files), LOG.verifier(), paths=list(files), **options)  # type: ignore[arg-type]


def files() -> dict[str, bytes]:
    return dict(EXPORTED.files)


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def resigned(checkpoint: Checkpoint) -> bytes:
    return sign_checkpoint(checkpoint, [LOG])


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 600, 65_537])
def test_export_verifies_and_its_root_is_the_rfc_root(size: int) -> None:
    exported = export_log(entries(size), LOG)
    result = verify(dict(exported.files))
    assert result.checkpoint.size == size
    assert result.checkpoint.root_hash == MemoryTree([leaf_hash(e) for e in entries(size)]).root()
    assert result.bundles == (size + 255) // 256
    hash_tiles = [p for p in exported.files if p.startswith("tile/") and "entries" not in p]
    assert result.tiles == len(hash_tiles)
    assert result.beyond_checkpoint == ()


def test_export_layout() -> None:
    assert sorted(EXPORTED.files) == [
        "checkpoint",
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/88",
    ]
    assert EXPORTED.files[CHECKPOINT_PATH].decode().startswith("pollwatch.example/log/test\n600\n")


def test_written_directory_verifies(tmp_path: Path) -> None:
    write_log_directory(tmp_path / "log", EXPORTED)
    result = verify_log_directory(tmp_path / "log", LOG.verifier(), witnesses=W_KEYS[:2], quorum=2)
    assert result.checkpoint == EXPORTED.checkpoint
    assert [s.name for s in result.cosigners] == ["witness0.example", "witness1.example"]
    assert (result.bundles, result.tiles) == (3, 4)


def test_writing_into_a_non_empty_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "stray").write_text("x")
    with pytest.raises(FileExistsError):
        write_log_directory(tmp_path, EXPORTED)


def test_flipped_byte_in_an_entry_bundle_names_the_entry() -> None:
    tampered = files()
    bundle = tampered["tile/entries/001"]
    tampered["tile/entries/001"] = flip(bundle, 2 + 4)  # inside the first entry's bytes
    with pytest.raises(VerificationFailed, match=r"tile tile/0/001 .*hash 0 \(over entry 256\)"):
        verify(tampered)


@pytest.mark.parametrize(
    ("path", "position", "expected"),
    [
        ("tile/0/000", 32 * 7 + 5, r"tile tile/0/000 .*hash 7 \(over entry 7\)"),
        ("tile/0/002.p/88", 32 * 87, r"tile tile/0/002.p/88 .*hash 87 \(over entry 599\)"),
        ("tile/1/000.p/2", 32, r"tile tile/1/000.p/2 .*hash 1 \(over entries 256..511\)"),
    ],
)
def test_flipped_byte_in_a_hash_tile_names_the_tile_and_hash(
    path: str, position: int, expected: str
) -> None:
    tampered = files()
    tampered[path] = flip(tampered[path], position)
    with pytest.raises(VerificationFailed, match=expected):
        verify(tampered)


@pytest.mark.parametrize("path", ["tile/0/001", "tile/1/000.p/2", "tile/entries/002.p/88"])
def test_a_missing_tile_or_bundle_is_invalid(path: str) -> None:
    tampered = files()
    del tampered[path]
    with pytest.raises(VerificationFailed, match=rf"{path} is missing; .* 600 entries needs it"):
        verify(tampered)


def test_truncated_bundle_and_short_tile_are_invalid() -> None:
    tampered = files()
    tampered["tile/entries/000"] = tampered["tile/entries/000"][:-3]
    with pytest.raises(VerificationFailed, match=r"entry bundle tile/entries/000: .*ends inside"):
        verify(tampered)
    tampered = files()
    tampered["tile/0/001"] = tampered["tile/0/001"][:-32]
    with pytest.raises(VerificationFailed, match=r"tile tile/0/001 is 8160 bytes, expected 8192"):
        verify(tampered)


def test_an_extra_entry_in_a_bundle_is_invalid() -> None:
    tampered = files()
    tampered["tile/entries/002.p/88"] += b"\x00\x01X"
    with pytest.raises(VerificationFailed, match=r"holds 89 entries, expected 88"):
        verify(tampered)


def test_checkpoint_edited_without_the_key_fails_its_signature() -> None:
    tampered = files()
    tampered[CHECKPOINT_PATH] = tampered[CHECKPOINT_PATH].replace(b"\n600\n", b"\n601\n")
    with pytest.raises(VerificationFailed, match=r"checkpoint: invalid signature by known key"):
        verify(tampered)


def test_checkpoint_root_resigned_differs_from_the_entries() -> None:
    tampered = files()
    wrong = Checkpoint(LOG.name, 600, bytes(32))
    tampered[CHECKPOINT_PATH] = resigned(wrong)
    with pytest.raises(VerificationFailed, match=r"the entries give root .* at size 600, but"):
        verify(tampered)


@pytest.mark.parametrize(
    ("size", "missing"), [(601, "tile/entries/002.p/89"), (599, "tile/entries/002.p/87")]
)
def test_checkpoint_size_resigned_needs_tiles_the_log_lacks(size: int, missing: str) -> None:
    tampered = files()
    tampered[CHECKPOINT_PATH] = resigned(Checkpoint(LOG.name, size, EXPORTED.checkpoint.root_hash))
    with pytest.raises(VerificationFailed, match=rf"{missing} is missing"):
        verify(tampered)


def test_checkpoint_signed_by_another_key_is_invalid() -> None:
    tampered = files()
    tampered[CHECKPOINT_PATH] = sign_checkpoint(EXPORTED.checkpoint, [OTHER])
    with pytest.raises(VerificationFailed, match=r"no signature by a known key"):
        verify(tampered)


def test_wrong_origin_is_invalid() -> None:
    with pytest.raises(VerificationFailed, match=r"origin .* is not the expected 'elsewhere'"):
        verify(files(), origin="elsewhere")


def test_witness_quorum() -> None:
    result = verify(files(), witnesses=W_KEYS, quorum=2)
    assert len(result.cosigners) == 2
    with pytest.raises(VerificationFailed, match=r"2 valid cosignatures .* quorum is 3"):
        verify(files(), witnesses=W_KEYS, quorum=3)
    # A cosignature by a witness nobody named counts for nothing.
    unknown = CosignatureSigner("stranger.example", bytes([7]) * 32, clock=lambda: 1)
    tampered = files()
    tampered[CHECKPOINT_PATH] = cosign(resigned(EXPORTED.checkpoint), unknown)
    with pytest.raises(VerificationFailed, match=r"0 valid cosignatures .* quorum is 1"):
        verify(tampered, witnesses=W_KEYS, quorum=1)
    with pytest.raises(UnreadableInput, match=r"quorum 4 is not between 0 and the 3"):
        verify(files(), witnesses=W_KEYS, quorum=4)


def test_forged_cosignature_is_invalid() -> None:
    tampered = files()
    note = tampered[CHECKPOINT_PATH].decode()
    last = note.rstrip("\n").rsplit("\n", 1)[1]  # witness1's line
    name, encoded = last.removeprefix("— ").split(" ")
    forged = encoded[:20] + ("A" if encoded[20] != "A" else "B") + encoded[21:]
    tampered[CHECKPOINT_PATH] = note.replace(last, f"— {name} {forged}").encode()
    with pytest.raises(VerificationFailed, match=r"invalid signature by known key witness1"):
        verify(tampered, witnesses=W_KEYS, quorum=1)


def test_unreadable_checkpoint_or_layout() -> None:
    tampered = files()
    del tampered[CHECKPOINT_PATH]
    with pytest.raises(UnreadableInput, match=r"cannot read the checkpoint"):
        verify(tampered)
    tampered = files()
    tampered[CHECKPOINT_PATH] = b"not a signed note"
    with pytest.raises(UnreadableInput, match=r"checkpoint: note has no blank line"):
        verify(tampered)
    tampered = files()
    tampered[CHECKPOINT_PATH] = sign_checkpoint(EXPORTED.checkpoint, [LOG]).replace(
        b"\n600\n", b"\n0600\n"
    )
    with pytest.raises(UnreadableInput, match=r"tree size '0600' is not a decimal"):
        verify(tampered)
    tampered = files()
    tampered["tile/0/0001"] = b""
    with pytest.raises(UnreadableInput, match=r"not a tlog-tiles layout"):
        verify(tampered)


def test_missing_directory_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInput, match=r"is not a directory"):
        verify_log_directory(tmp_path / "nowhere", LOG.verifier())


def test_stale_partials_are_checked_and_larger_trees_reported() -> None:
    # A server that keeps older partial tiles and has published tiles of a larger tree than
    # its checkpoint: the partials must be prefixes, the rest is reported, not vouched for.
    smaller = export_log(entries(200), LOG)
    combined = {**EXPORTED.files, **smaller.files}
    result = verify(combined)
    assert result.checkpoint.size == 200
    assert result.stale_tiles == 0
    assert sorted(result.beyond_checkpoint) == sorted(
        p for p in EXPORTED.files if p != CHECKPOINT_PATH
    )
    larger = {**smaller.files, **{p: d for p, d in EXPORTED.files.items() if p != CHECKPOINT_PATH}}
    larger[CHECKPOINT_PATH] = EXPORTED.files[CHECKPOINT_PATH]
    result = verify(larger)
    assert (result.stale_tiles, result.beyond_checkpoint) == (2, ())
    larger["tile/0/000.p/200"] = flip(larger["tile/0/000.p/200"], 0)
    with pytest.raises(VerificationFailed, match=r"tile tile/0/000.p/200 is not a prefix"):
        verify(larger)
    larger = {**larger, "tile/0/000.p/200": smaller.files["tile/0/000.p/200"]}
    larger["tile/entries/000.p/200"] = smaller.files["tile/entries/000.p/200"].replace(
        b"record 5", b"record X"
    )
    with pytest.raises(VerificationFailed, match=r"tile/entries/000.p/200 is not a prefix"):
        verify(larger)


def test_every_exported_path_parses_as_a_tile_path() -> None:
    for path in EXPORTED.files:
        if path != CHECKPOINT_PATH:
            parse_tile_path(path)


def _receipt(exported: ExportedLog, index: int) -> bytes:
    def read_tile(level: int, tile: int, width: int) -> bytes:
        from pollwatch.core.tlog.tiles import tile_path

        return exported.files[tile_path(level, tile, width)]

    return receipt_from_tiles(index, exported.files[CHECKPOINT_PATH], read_tile).encode()


def test_receipts_valid_invalid_and_unreadable() -> None:
    receipt = _receipt(EXPORTED, 300)
    good = leaf_hash(b"record 300")
    verified = check_receipt(receipt, good, LOG.verifier(), witnesses=W_KEYS, quorum=2)
    assert (verified.index, verified.checkpoint) == (300, EXPORTED.checkpoint)
    with pytest.raises(VerificationFailed, match=r"inclusion proof"):
        check_receipt(receipt, leaf_hash(b"record 301"), LOG.verifier())
    with pytest.raises(VerificationFailed, match=r"quorum is 3"):
        check_receipt(receipt, good, LOG.verifier(), witnesses=W_KEYS, quorum=3)
    with pytest.raises(VerificationFailed, match=r"no signature by a known key"):
        check_receipt(receipt, good, OTHER.verifier())
    with pytest.raises(UnreadableInput, match=r"does not start with the line"):
        check_receipt(b"hello\n", good, LOG.verifier())
    broken = receipt.replace(b"\n600\n", b"\n six hundred\n")
    with pytest.raises(UnreadableInput, match=r"receipt checkpoint: .*not a decimal"):
        check_receipt(broken, good, LOG.verifier())
    with pytest.raises(UnreadableInput, match=r"leaf hash is 3 bytes"):
        check_receipt(receipt, b"abc", LOG.verifier())


def test_every_corrupted_byte_is_caught() -> None:
    # Generated corruptions of the happy path: each byte of the checkpoint, and bytes spread
    # over every tile and bundle, flipped one at a time; none may verify. With both witnesses
    # required, a cosignature line is covered too.
    small = export_log(entries(300), LOG, witnesses=WITNESSES[:2])
    positions: list[tuple[str, int]] = []
    for path, data in small.files.items():
        step = 1 if path == CHECKPOINT_PATH else max(1, len(data) // 40)
        positions += [(path, p) for p in range(0, len(data), step)]
        positions.append((path, len(data) - 1))
    survivors = []
    for path, position in positions:
        tampered = dict(small.files)
        tampered[path] = flip(tampered[path], position)
        try:
            verify(tampered, witnesses=W_KEYS[:2], quorum=2)
        except (VerificationFailed, UnreadableInput):
            continue
        survivors.append((path, position))
    assert survivors == []
    assert len(positions) > 500
