"""A C2SP tlog-witness: cosigns a log's checkpoint only if it extends the last one it cosigned.

    POST <prefix>/add-checkpoint
    old <size the client believes the witness has>
    <base64 consistency proof hash>...
    <blank line>
    <signed checkpoint>

Answers (C2SP tlog-witness, in the order the checks run):

- 400 a malformed body or checkpoint, or an old size above the checkpoint's size;
- 404 a checkpoint whose origin is not a log this witness knows;
- 403 no valid signature by the log's key (or an invalid one by it);
- 409 `text/x.tlog.size` with the size it last cosigned, when `old` is not that size; also
  (plain text) a checkpoint of the same size with a different root;
- 422 a consistency proof that does not verify (or a size-0 checkpoint with another root
  than the empty tree's);
- 200 the cosignature/v1 line, after the new checkpoint is stored.

The state — per log, the latest cosigned size, root and checkpoint — is one JSON file, replaced
atomically (temporary file, fsync, rename, fsync of the directory) *before* answering, so a
witness that crashes never cosigns something inconsistent with what it already cosigned.
Plain Python and `core.tlog`, served by `witness_server` (WSGI).
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pollwatch.core.tlog import EMPTY_ROOT, HASH_SIZE, TlogError, verify_consistency
from pollwatch.core.tlog.checkpoint import open_checkpoint, parse_checkpoint
from pollwatch.core.tlog.cosignature import CosignatureSigner
from pollwatch.core.tlog.note import (
    Ed25519Verifier,
    NoteSignature,
    b64decode_strict,
    parse_note,
)

MAX_BODY_BYTES = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


@dataclass(frozen=True)
class WitnessAnswer:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


def _refuse(status: int, reason: str) -> WitnessAnswer:
    return WitnessAnswer(status, (reason + "\n").encode())


@dataclass(frozen=True)
class CosignedState:
    size: int
    root: bytes
    checkpoint: str


class WitnessState:
    """The latest cosigned checkpoint of each log, kept in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.logs: dict[str, CosignedState] = {}
        if path.exists():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                for origin, value in raw["logs"].items():
                    root = base64.b64decode(value["root"], validate=True)
                    self.logs[origin] = CosignedState(int(value["size"]), root, value["checkpoint"])
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"witness state {path} is unreadable: {error}") from None

    def get(self, origin: str) -> CosignedState | None:
        return self.logs.get(origin)

    def put(self, origin: str, state: CosignedState) -> None:
        """Store `state` for `origin` durably, then in memory."""
        logs = {**self.logs, origin: state}
        text = json.dumps(
            {
                "logs": {
                    name: {
                        "size": s.size,
                        "root": base64.b64encode(s.root).decode("ascii"),
                        "checkpoint": s.checkpoint,
                    }
                    for name, s in sorted(logs.items())
                }
            },
            indent=1,
        )
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".witness-state-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self.logs = logs


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: bytes


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """The add-checkpoint request body (C2SP tlog-witness), strictly; ValueError if bad."""
    head, separator, note = body.partition(b"\n\n")
    if not separator or not note:
        raise ValueError("request has no blank line followed by a checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise ValueError("request's old size and proof lines are not ASCII") from None
    first = lines[0]
    if not first.startswith("old ") or not _DECIMAL.fullmatch(first[4:]):
        raise ValueError("request does not start with 'old <decimal size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError(f"consistency proof has more than {MAX_PROOF_LINES} lines")
    proof = []
    for number, line in enumerate(lines[1:], start=1):
        value = b64decode_strict(line, f"consistency proof line {number}", ValueError)
        if len(value) != HASH_SIZE:
            raise ValueError(f"consistency proof line {number} is not a 32-byte hash")
        proof.append(value)
    return AddCheckpoint(int(first[4:]), tuple(proof), note)


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], checkpoint: bytes) -> bytes:
    """An add-checkpoint request body (C2SP tlog-witness): the client's side."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return ("\n".join(lines) + "\n\n").encode() + checkpoint


class Witness:
    """Decides add-checkpoint requests for the logs it knows, one at a time."""

    def __init__(
        self, signer: CosignatureSigner, logs: Sequence[Ed25519Verifier], state: WitnessState
    ) -> None:
        self.signer = signer
        self.logs = {log.name: log for log in logs}
        self.state = state
        self._lock = threading.Lock()

    def add_checkpoint(self, body: bytes) -> WitnessAnswer:
        if len(body) > MAX_BODY_BYTES:
            return _refuse(400, f"request is larger than {MAX_BODY_BYTES} bytes")
        try:
            request = parse_add_checkpoint(body)
            checkpoint = parse_checkpoint(parse_note(request.checkpoint).text)
        except (ValueError, TlogError) as error:
            return _refuse(400, f"malformed request: {error}")
        if request.old_size > checkpoint.size:
            return _refuse(400, f"old size {request.old_size} is above the checkpoint's size")
        log = self.logs.get(checkpoint.origin)
        if log is None:
            return _refuse(404, f"unknown log {checkpoint.origin}")
        try:
            open_checkpoint(request.checkpoint, log, origin=checkpoint.origin)
        except TlogError as error:
            return _refuse(403, f"checkpoint is not signed by the log's key: {error}")
        with self._lock:
            return self._decide(request, checkpoint.origin, checkpoint.size, checkpoint.root_hash)

    def _decide(self, request: AddCheckpoint, origin: str, size: int, root: bytes) -> WitnessAnswer:
        latest = self.state.get(origin)
        known = 0 if latest is None else latest.size
        if request.old_size != known:
            return WitnessAnswer(409, f"{known}\n".encode(), SIZE_CONTENT_TYPE)
        if latest is not None and size == latest.size:
            if root != latest.root:
                return _refuse(409, f"checkpoint of size {size} has another root than cosigned")
            if request.proof:
                return _refuse(422, "consistency proof must be empty for the same size")
        elif size == 0:
            if root != EMPTY_ROOT or request.proof:
                return _refuse(422, "a checkpoint of size 0 must have the empty tree's root")
        elif latest is None:
            if request.proof:
                return _refuse(422, "consistency proof from size 0 must be empty")
        else:
            try:
                verify_consistency(latest.size, size, list(request.proof), latest.root, root)
            except TlogError as error:
                return _refuse(422, f"consistency proof does not verify: {error}")
        text = parse_note(request.checkpoint).text
        signature = NoteSignature(
            self.signer.name, self.signer.key_id, self.signer.sign(text.encode())
        )
        self.state.put(origin, CosignedState(size, root, text))
        return WitnessAnswer(200, signature.line.encode())
