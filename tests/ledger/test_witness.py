"""The witness: cosigns only checkpoints consistent with the last one it cosigned, answers per
C2SP tlog-witness (200, 400, 403, 404, 409, 422), keeps its state atomically; the log submits
each checkpoint to its witnesses over HTTP and publishes the cosigned checkpoint."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from pollwatch.core.tlog import MemoryTree, leaf_hash
from pollwatch.core.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from pollwatch.core.tlog.cosignature import CosignatureSigner, CosignatureVerifier
from pollwatch.core.tlog.note import Ed25519Signer
from pollwatch.core.tlog.receipt import verify_receipt
from pollwatch.core.tlog.verify_export import verify_log_directory
from pollwatch.ledger.appending import append_to_log
from pollwatch.ledger.files import log_directory
from pollwatch.ledger.integration import integrate_pending
from pollwatch.ledger.keys import log_verifier
from pollwatch.ledger.models import LogEntry, LogState
from pollwatch.ledger.serving import locate_entry, published_log, receipt, summary
from pollwatch.ledger.witness import (
    SIZE_CONTENT_TYPE,
    Witness,
    WitnessState,
    format_add_checkpoint,
)
from pollwatch.ledger.witness_server import make_witness_server
from tests.web.factories import SmallElection

ORIGIN = "log.test/kz-2026"
LOG = Ed25519Signer(ORIGIN, bytes([1]) * 32)
WITNESS_KEY = CosignatureSigner("witness.test", bytes([2]) * 32, clock=lambda: 1_800_000_000)
TREE = MemoryTree([leaf_hash(f"entry {i}".encode()) for i in range(40)])


def signed(size: int, signer: Ed25519Signer = LOG, root: bytes | None = None) -> bytes:
    checkpoint = Checkpoint(signer.name, size, TREE.root(size) if root is None else root)
    return sign_checkpoint(checkpoint, [signer])


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(WITNESS_KEY, [LOG.verifier()], WitnessState(tmp_path / "state.json"))


def add(witness: Witness, old: int, size: int, **kwargs: object) -> tuple[int, str, str]:
    proof = TREE.consistency_proof(old, size) if 0 < old < size else []
    answer = witness.add_checkpoint(format_add_checkpoint(old, proof, signed(size, **kwargs)))  # type: ignore[arg-type]
    return answer.status, answer.body.decode(), answer.content_type


def test_a_first_checkpoint_and_its_extensions_are_cosigned(witness: Witness) -> None:
    status, body, _ = add(witness, 0, 10)
    assert status == 200
    cosigned = signed(10) + body.encode()
    _, opened = open_checkpoint(cosigned, LOG.verifier(), witnesses=[WITNESS_KEY.verifier()])
    assert opened.signed_by(WITNESS_KEY.verifier())
    assert add(witness, 10, 25)[0] == 200
    assert add(witness, 25, 25)[0] == 200  # the same checkpoint again
    state = json.loads(witness.state.path.read_text())
    assert state["logs"][ORIGIN]["size"] == 25


def test_a_stale_old_size_is_409_with_the_witness_size(witness: Witness) -> None:
    add(witness, 0, 10)
    status, body, content_type = add(witness, 5, 20)
    assert (status, body, content_type) == (409, "10\n", SIZE_CONTENT_TYPE)
    status, body, _ = add(witness, 0, 8)  # a smaller tree after a larger one
    assert (status, body) == (409, "10\n")


def test_an_inconsistent_checkpoint_is_refused(witness: Witness) -> None:
    add(witness, 0, 10)
    forked = MemoryTree([leaf_hash(f"other {i}".encode()) for i in range(20)])
    proof = forked.consistency_proof(10, 20)
    answer = witness.add_checkpoint(
        format_add_checkpoint(10, proof, signed(20, root=forked.root(20)))
    )
    assert answer.status == 422 and b"does not verify" in answer.body
    status, body, _ = add(witness, 10, 10, root=forked.root(10))
    assert status == 409 and "another root" in body
    assert witness.state.get(ORIGIN).size == 10  # type: ignore[union-attr]


def test_unknown_log_bad_signature_and_malformed_requests(witness: Witness) -> None:
    stranger = Ed25519Signer("log.test/other", bytes([5]) * 32)
    assert add(witness, 0, 3, signer=stranger)[0] == 404
    impostor = Ed25519Signer(ORIGIN, bytes([6]) * 32)  # right origin, wrong key
    status, body, _ = add(witness, 0, 3, signer=impostor)
    assert status == 403 and "not signed by the log's key" in body
    for body_bytes in [b"", b"old 1\n", b"old 01\n\n" + signed(3), b"new 1\n\n" + signed(3)]:
        assert witness.add_checkpoint(body_bytes).status == 400
    assert witness.add_checkpoint(b"old 4\n\n" + signed(3)).status == 400  # old > size
    assert witness.add_checkpoint(b"old 0\nAAAA\n\n" + signed(3)).status == 400
    assert witness.state.get(ORIGIN) is None


def test_the_state_survives_a_restart(witness: Witness, tmp_path: Path) -> None:
    add(witness, 0, 10)
    again = Witness(WITNESS_KEY, [LOG.verifier()], WitnessState(tmp_path / "state.json"))
    assert add(again, 0, 12)[1] == "10\n"
    assert add(again, 10, 12)[0] == 200
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".witness-state-")]


def test_an_unreadable_state_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(ValueError, match="unreadable"):
        WitnessState(tmp_path / "state.json")


@pytest.fixture
def live_witness(tmp_path: Path, small: SmallElection) -> Iterator[tuple[str, CosignatureSigner]]:
    """A witness for the small election's log, served on a free port in a thread."""
    origin = f"log.test/{small.election.slug}"
    key = CosignatureSigner("witness.test", bytes([7]) * 32)
    witness = Witness(key, [log_verifier(origin)], WitnessState(tmp_path / "w.json"))
    server = make_witness_server(witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/add-checkpoint", key
    server.shutdown()
    server.server_close()


def test_the_log_publishes_checkpoints_cosigned_by_its_witnesses(
    small: SmallElection, live_witness: tuple[str, CosignatureSigner], settings: object
) -> None:
    url, key = live_witness
    vkey = key.verifier().key_string()
    settings.POLLWATCH_LOG_WITNESSES = [f"{url} {vkey}"]  # type: ignore[attr-defined]
    from pollwatch.ledger.witnessing import _known_sizes, publish_to_witnesses

    _known_sizes.clear()
    for round_ in range(3):
        for n in range(round_ * 100, round_ * 100 + 100):
            append_to_log(small.election, "note", {"n": n})
        for result in integrate_pending(batch=64):
            publish_to_witnesses(result)
    state = LogState.objects.get()
    witness = CosignatureVerifier.from_key_string(vkey)
    _, opened = open_checkpoint(
        state.checkpoint.encode(), log_verifier(state.origin), witnesses=[witness]
    )
    assert opened.signed_by(witness) and state.size == 300
    assert (log_directory(small.election) / "checkpoint").read_text() == state.checkpoint
    entry = LogEntry.objects.get(log_index__index=123)
    verify_receipt(
        receipt(locate_entry(small.election.slug, entry.pk)),
        bytes(entry.leaf_hash),
        log_verifier(state.origin),
        witnesses=[witness],
        quorum=1,
    )
    verify_log_directory(
        log_directory(small.election), log_verifier(state.origin), witnesses=[witness], quorum=1
    )
    (view,) = summary(published_log(small.election.slug)).witnesses
    assert view.name == "witness.test" and view.cosigned_at is not None
    # The integrator restarts with no memory of the witness's size: a 409 tells it.
    _known_sizes.clear()
    append_to_log(small.election, "note", {"n": "after restart"})
    (result,) = integrate_pending()
    assert publish_to_witnesses(result) != result.checkpoint


def test_a_witness_that_is_down_or_refuses_does_not_hold_the_log_up(
    small: SmallElection, settings: object, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    vkey = CosignatureSigner("down.test", bytes([8]) * 32).verifier().key_string()
    settings.POLLWATCH_LOG_WITNESSES = [f"http://127.0.0.1:{port}/add-checkpoint {vkey}"]  # type: ignore[attr-defined]
    from pollwatch.ledger.witnessing import publish_to_witnesses

    append_to_log(small.election, "note", {"n": 1})
    (result,) = integrate_pending()
    assert publish_to_witnesses(result) == result.checkpoint
    assert LogState.objects.get().checkpoint.encode() == result.checkpoint
    assert "did not cosign" in caplog.text


def test_witness_serve_runs_as_its_own_process(tmp_path: Path) -> None:
    env = {**os.environ, "POLLWATCH_DATA_DIR": str(tmp_path / "data")}
    key_file = tmp_path / "witness.key"
    keygen = subprocess.run(
        [sys.executable, "-m", "pollwatch", "witness", "keygen", "w.test", "--out", str(key_file)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    vkey = keygen.stdout.strip()
    assert vkey.startswith("w.test+") and oct(key_file.stat().st_mode)[-3:] == "600"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_key = tmp_path / "log.vkey"
    log_key.write_text(LOG.verifier().key_string())
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pollwatch",
            "witness",
            "serve",
            "--key",
            f"@{key_file}",
            "--log",
            f"@{log_key}",
            "--state",
            str(tmp_path / "state.json"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert "add-checkpoint" in process.stdout.readline()
        url = f"http://127.0.0.1:{port}/add-checkpoint"
        request = urllib.request.Request(url, data=format_add_checkpoint(0, [], signed(7)))
        with urllib.request.urlopen(request, timeout=5) as response:
            line = response.read()
        witness = CosignatureVerifier.from_key_string(vkey)
        _, opened = open_checkpoint(signed(7) + line, LOG.verifier(), witnesses=[witness])
        assert opened.signed_by(witness)
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=b"old 3\n\n" + signed(7)))
        except urllib.error.HTTPError as error:
            assert error.code == 409 and error.read() == b"7\n"
        else:
            raise AssertionError("a stale old size was accepted")
    finally:
        process.terminate()
        process.wait(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_witnessing_runs_beside_the_integrator(
    small: SmallElection, live_witness: tuple[str, CosignatureSigner], settings: object
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "two threads writing at once: SQLite's in-memory test database (shared cache) "
            "refuses a statement while another connection's is running, where a real SQLite "
            "file waits for its lock; publish_to_witnesses itself is tested on both databases "
            "(run this one with POLLWATCH_DATABASE_URL=postgres://…)"
        )
    url, key = live_witness
    vkey = key.verifier().key_string()
    settings.POLLWATCH_LOG_WITNESSES = [f"{url} {vkey}"]  # type: ignore[attr-defined]
    from pollwatch.ledger.witnessing import WitnessPublisher, _known_sizes

    _known_sizes.clear()
    publisher = WitnessPublisher().start()
    try:
        for n in range(5):
            append_to_log(small.election, "note", {"n": n})
            for result in integrate_pending():
                publisher.submit(result)  # returns at once
    finally:
        publisher.stop()  # finishes the newest one waiting
    state = LogState.objects.get()
    _, opened = open_checkpoint(
        state.checkpoint.encode(),
        log_verifier(state.origin),
        witnesses=[CosignatureVerifier.from_key_string(vkey)],
    )
    assert state.size == 5 and len(opened.verified) == 2
    assert (log_directory(small.election) / "checkpoint").read_text() == state.checkpoint
