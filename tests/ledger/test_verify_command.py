"""`pollwatch verify receipt|log`: exit 0 valid, 1 invalid, 2 unreadable, with a one-line
reason, or a JSON result; the real CLI once in a subprocess, the rest through call_command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pollwatch.core.tlog import leaf_hash
from pollwatch.core.tlog.checkpoint import Checkpoint, sign_checkpoint
from pollwatch.core.tlog.cosignature import CosignatureSigner
from pollwatch.core.tlog.export import CHECKPOINT_PATH, export_log, write_log_directory
from pollwatch.core.tlog.note import Ed25519Signer
from pollwatch.core.tlog.receipt import receipt_from_tiles
from pollwatch.core.tlog.tiles import tile_path

LOG = Ed25519Signer("pollwatch.example/log/kz-2026", bytes([3]) * 32)
OTHER = Ed25519Signer("pollwatch.example/log/kz-2026", bytes([4]) * 32)
WITNESSES = [
    CosignatureSigner(f"witness{i}.example", bytes([i + 10]) * 32, clock=lambda: 1_800_000_000)
    for i in range(3)
]
LOG_KEY = LOG.verifier().key_string()
W_KEYS = [w.verifier().key_string() for w in WITNESSES]
ENTRIES = [f'{{"copy": {i}}}'.encode() for i in range(300)]
EXPORTED = export_log(ENTRIES, LOG, witnesses=WITNESSES[:2])


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "log"
    write_log_directory(directory, EXPORTED)
    return directory


@pytest.fixture
def receipt_file(tmp_path: Path) -> Path:
    def read_tile(level: int, index: int, width: int) -> bytes:
        return EXPORTED.files[tile_path(level, index, width)]

    receipt = receipt_from_tiles(42, EXPORTED.files[CHECKPOINT_PATH], read_tile)
    path = tmp_path / "receipt.txt"
    path.write_bytes(receipt.encode())
    (tmp_path / "entry.json").write_bytes(ENTRIES[42])
    return path


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def failure(*args: str) -> CommandError:
    with pytest.raises(CommandError) as raised:
        verify(*args)
    return raised.value


def witness_args(count: int = 3) -> list[str]:
    return [arg for key in W_KEYS[:count] for arg in ("--witness-key", key)]


def test_log_valid(log_dir: Path) -> None:
    printed = verify("log", str(log_dir), "--log-key", LOG_KEY, *witness_args(), "--quorum", "2")
    assert printed.startswith("valid: log pollwatch.example/log/kz-2026 at size 300, root ")
    assert "2 entry bundles and 3 tiles recomputed from the entries and equal" in printed
    assert "cosigned by witness0.example, witness1.example (quorum 2)" in printed


def test_log_json(log_dir: Path) -> None:
    result = json.loads(verify("log", str(log_dir), "--log-key", LOG_KEY, "--json"))
    assert result["status"] == "valid" and result["exit"] == 0
    assert result["size"] == 300
    assert bytes.fromhex(result["root_hash_hex"]) == EXPORTED.checkpoint.root_hash
    assert (result["entry_bundles"], result["tiles"]) == (2, 3)


def test_keys_from_files(log_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "log.vkey").write_text(LOG_KEY + "\n")
    (tmp_path / "w0.vkey").write_text(W_KEYS[0] + "\n")
    printed = verify(
        "log",
        str(log_dir),
        "--log-key",
        f"@{tmp_path / 'log.vkey'}",
        "--witness-key",
        f"@{tmp_path / 'w0.vkey'}",
    )
    assert "cosigned by witness0.example (quorum 1)" in printed


def _flip(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


def _resign(log_dir: Path, checkpoint: Checkpoint, signer: Ed25519Signer = LOG) -> None:
    (log_dir / CHECKPOINT_PATH).write_bytes(sign_checkpoint(checkpoint, [signer]))


ROOT = EXPORTED.checkpoint.root_hash
TAMPERING = {
    "entry bundle byte": (
        lambda d: _flip(d / "tile/entries/001.p/44", 2),
        r"invalid: tile tile/0/001.p/44 differs .* hash 0 \(over entry 256\)",
    ),
    "hash tile byte": (
        lambda d: _flip(d / "tile/0/000", 32 * 9),
        r"invalid: tile tile/0/000 differs .* hash 9 \(over entry 9\)",
    ),
    "tile deleted": (
        lambda d: (d / "tile/1/000.p/1").unlink(),
        r"invalid: tile tile/1/000.p/1 is missing",
    ),
    "bundle truncated": (
        lambda d: (d / "tile/entries/000").write_bytes((d / "tile/entries/000").read_bytes()[:-1]),
        r"invalid: entry bundle tile/entries/000: entry bundle ends inside entry 255",
    ),
    "checkpoint size edited": (
        lambda d: (d / CHECKPOINT_PATH).write_bytes(
            (d / CHECKPOINT_PATH).read_bytes().replace(b"\n300\n", b"\n299\n")
        ),
        r"invalid: checkpoint: invalid signature by known key pollwatch.example/log/kz-2026",
    ),
    "checkpoint size re-signed": (
        lambda d: _resign(d, Checkpoint(LOG.name, 299, ROOT)),
        r"invalid: entry bundle tile/entries/001.p/43 is missing; .* tree of 299 entries",
    ),
    "checkpoint root re-signed": (
        lambda d: _resign(d, Checkpoint(LOG.name, 300, bytes(32))),
        r"invalid: the entries give root .* at size 300, but the checkpoint says AAAA",
    ),
    "signed by another key": (
        lambda d: _resign(d, EXPORTED.checkpoint, OTHER),
        r"invalid: checkpoint: note has no signature by a known key",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_log_tampering_is_invalid(log_dir: Path, case: str) -> None:
    tamper, reason = TAMPERING[case]
    tamper(log_dir)
    error = failure("log", str(log_dir), "--log-key", LOG_KEY)
    assert error.returncode == 1
    assert "\n" not in str(error)
    assert re.search(reason, str(error)), str(error)


def test_cosignatures_below_quorum_or_by_unknown_witnesses(log_dir: Path) -> None:
    error = failure("log", str(log_dir), "--log-key", LOG_KEY, *witness_args(3))
    assert error.returncode == 1
    assert "2 valid cosignatures by the witness keys given, quorum is 3" in str(error)
    # The checkpoint is cosigned by witnesses 0 and 1 only; witness 2 alone is not enough.
    error = failure("log", str(log_dir), "--log-key", LOG_KEY, "--witness-key", W_KEYS[2])
    assert "0 valid cosignatures by the witness keys given, quorum is 1" in str(error)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--log-key", "nonsense"], "unreadable input: log key: verifier key is not"),
        (["--log-key", "@/nonexistent/key"], "unreadable input: cannot read log key"),
        (["--log-key", W_KEYS[0]], "log key: verifier key has signature type 0x04"),
        (["--log-key", LOG_KEY, "--witness-key", LOG_KEY], "witness key 1: witness key has"),
        (["--log-key", LOG_KEY, "--quorum", "1"], "quorum 1 is not between 0 and the 0"),
        (
            ["--log-key", LOG_KEY, "--witness-key", W_KEYS[0], "--witness-key", W_KEYS[0]],
            "witness key witness0.example+",
        ),
    ],
)
def test_unreadable_keys(log_dir: Path, args: list[str], reason: str) -> None:
    error = failure("log", str(log_dir), *args)
    assert error.returncode == 2
    assert reason in str(error)


def test_unreadable_log(log_dir: Path) -> None:
    error = failure("log", str(log_dir / "missing"), "--log-key", LOG_KEY)
    assert (error.returncode, str(error)) == (
        2,
        f"unreadable input: {log_dir / 'missing'} is not a directory",
    )
    (log_dir / CHECKPOINT_PATH).write_bytes(b"garbage\n")
    error = failure("log", str(log_dir), "--log-key", LOG_KEY)
    assert error.returncode == 2
    assert "checkpoint: note has no blank line" in str(error)
    (log_dir / CHECKPOINT_PATH).unlink()
    error = failure("log", str(log_dir), "--log-key", LOG_KEY)
    assert error.returncode == 2
    assert "cannot read the checkpoint" in str(error)


def test_json_failure_is_printed(log_dir: Path) -> None:
    _flip(log_dir / "tile/0/000", 0)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "verify",
            "log",
            str(log_dir),
            "--log-key",
            LOG_KEY,
            "--json",
            stdout=out,
            stderr=StringIO(),
        )
    result = json.loads(out.getvalue())
    assert (result["status"], result["exit"], result["subject"]) == ("invalid", 1, "log")
    assert result["reason"].startswith("tile tile/0/000 differs")


def test_receipt_valid_with_entry_or_leaf_hash(receipt_file: Path) -> None:
    entry = receipt_file.with_name("entry.json")
    printed = verify(
        "receipt",
        str(receipt_file),
        "--entry",
        str(entry),
        "--log-key",
        LOG_KEY,
        *witness_args(2),
    )
    assert printed.startswith("valid: entry 42 (leaf hash ")
    assert "in the log pollwatch.example/log/kz-2026 at size 300" in printed
    assert "cosigned by witness0.example, witness1.example (quorum 2)" in printed
    result = json.loads(
        verify(
            "receipt",
            str(receipt_file),
            "--leaf-hash",
            leaf_hash(ENTRIES[42]).hex(),
            "--log-key",
            LOG_KEY,
            "--json",
        )
    )
    assert (result["subject"], result["index"], result["size"]) == ("receipt", 42, 300)


def test_receipt_invalid(receipt_file: Path) -> None:
    other_entry = receipt_file.with_name("other.json")
    other_entry.write_bytes(ENTRIES[43])
    error = failure("receipt", str(receipt_file), "--entry", str(other_entry), "--log-key", LOG_KEY)
    assert error.returncode == 1
    assert "invalid: receipt inclusion proof" in str(error)
    error = failure(
        "receipt",
        str(receipt_file),
        "--leaf-hash",
        leaf_hash(ENTRIES[42]).hex(),
        "--log-key",
        OTHER.verifier().key_string(),
    )
    assert error.returncode == 1
    assert "no signature by a known key" in str(error)
    error = failure(
        "receipt",
        str(receipt_file),
        "--leaf-hash",
        leaf_hash(ENTRIES[42]).hex(),
        "--log-key",
        LOG_KEY,
        *witness_args(3),
    )
    assert error.returncode == 1
    assert "2 valid witness cosignatures, quorum is 3" in str(error)


def test_receipt_unreadable(receipt_file: Path) -> None:
    good = leaf_hash(ENTRIES[42]).hex()
    cases = [
        (["--leaf-hash", "xyz"], "leaf hash 'xyz' is not hexadecimal"),
        (["--leaf-hash", "abcd"], "leaf hash is 2 bytes, not 32"),
        (["--entry", "/nonexistent/entry"], "cannot read entry /nonexistent/entry"),
    ]
    for args, reason in cases:
        error = failure("receipt", str(receipt_file), *args, "--log-key", LOG_KEY)
        assert error.returncode == 2, args
        assert reason in str(error)
    receipt_file.write_bytes(receipt_file.read_bytes().replace(b"index 42", b"index 042"))
    error = failure("receipt", str(receipt_file), "--leaf-hash", good, "--log-key", LOG_KEY)
    assert error.returncode == 2
    assert "receipt index '042' is not a decimal uint64" in str(error)


def test_real_cli_exit_codes(log_dir: Path) -> None:
    pollwatch = Path(sys.executable).with_name("pollwatch")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(pollwatch), "verify", *args], capture_output=True, text=True, timeout=120
        )

    valid = run("log", str(log_dir), "--log-key", LOG_KEY)
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith("valid: log ")
    unreadable = run("log", str(log_dir), "--log-key", "nonsense")
    assert unreadable.returncode == 2
    assert "unreadable input: log key" in unreadable.stderr
    usage = run("receipt", str(log_dir / "receipt"), "--log-key", LOG_KEY)
    assert usage.returncode == 2
    assert "one of the arguments --entry --leaf-hash is required" in usage.stderr
    _flip(log_dir / "tile/entries/000", 5)
    invalid = run("log", str(log_dir), "--log-key", LOG_KEY)
    assert invalid.returncode == 1
    assert "invalid: tile tile/0/000 differs" in invalid.stderr
