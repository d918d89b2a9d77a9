"""The log's side of witnessing: submit each new checkpoint to the configured witnesses and
publish it with the cosignatures they return (C2SP tlog-witness, tlog-cosignature).

Witnesses are configured by the setting `POLLWATCH_LOG_WITNESSES` (Django setting, a list of
"URL VKEY" strings, or the environment variable, entries separated by ";"): the witness's
add-checkpoint URL and its cosignature verifier key, e.g.

    POLLWATCH_LOG_WITNESSES="https://w.example.org/add-checkpoint w.example.org+1a2b3c4d+BASE64"

A witness that is down, slow (3 s) or refuses does not hold the log up: the log's own signed
checkpoint is already published; the cosigned one replaces it when the answers arrive. Every
returned cosignature is verified with the witness's key before it is published.
"""

from __future__ import annotations

import logging
import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from pollwatch.core.tlog import TlogError
from pollwatch.core.tlog.cosignature import CosignatureVerifier
from pollwatch.core.tlog.note import Note, NoteSignature, open_note, parse_note
from pollwatch.core.tlog.tiles import consistency_proof_from_tiles
from pollwatch.ledger.files import CHECKPOINT_FILE_LOCK, LogFiles
from pollwatch.ledger.integration import Published
from pollwatch.ledger.models import LogCheckpoint, LogState
from pollwatch.ledger.witness import SIZE_CONTENT_TYPE, format_add_checkpoint

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class ConfiguredWitness:
    url: str
    key: CosignatureVerifier


def configured_witnesses() -> list[ConfiguredWitness]:
    entries = getattr(settings, "POLLWATCH_LOG_WITNESSES", None)
    if entries is None:
        raw = os.environ.get("POLLWATCH_LOG_WITNESSES", "")
        entries = [e for e in raw.replace("\n", ";").split(";") if e.strip()]
    witnesses = []
    for entry in entries:
        url, _, vkey = entry.strip().partition(" ")
        if not url.startswith(("http://", "https://")) or not vkey.strip():
            raise ImproperlyConfigured(f"POLLWATCH_LOG_WITNESSES entry {entry!r} is not 'URL VKEY'")
        try:
            key = CosignatureVerifier.from_key_string(vkey.strip())
        except TlogError as error:
            raise ImproperlyConfigured(f"witness key for {url}: {error}") from None
        witnesses.append(ConfiguredWitness(url, key))
    return witnesses


# What each witness last told us it has cosigned, per (url, origin): saves a 409 round trip.
_known_sizes: dict[tuple[str, str], int] = {}


class WitnessRefused(Exception):
    pass


def _post(url: str, body: bytes) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def request_cosignature(
    witness: ConfiguredWitness, files: LogFiles, origin: str, size: int, signed: bytes
) -> NoteSignature:
    """Ask one witness to cosign; on 409 retry once from the size it says it has."""
    old = _known_sizes.get((witness.url, origin), 0)
    for _attempt in range(2):
        old = min(old, size)
        proof = []
        if 0 < old < size:
            proof = consistency_proof_from_tiles(files.tree_reader(size), old, size)
        status, content_type, body = _post(witness.url, format_add_checkpoint(old, proof, signed))
        if status == 409 and content_type.startswith(SIZE_CONTENT_TYPE):
            text = body.decode("ascii", "replace")
            if not text.rstrip("\n").isdigit():
                raise WitnessRefused(f"409 with a malformed size {text!r}")
            old = int(text)
            _known_sizes[(witness.url, origin)] = old
            continue
        if status != 200:
            raise WitnessRefused(f"{status}: {body.decode('utf-8', 'replace').strip()}")
        opened = open_note(parse_note(signed + body).encode(), [witness.key])
        _known_sizes[(witness.url, origin)] = size
        return opened.verified[0]
    raise WitnessRefused(f"still in conflict after retrying from size {old}")


def publish_to_witnesses(result: Published) -> bytes:
    """Gather the witnesses' cosignatures on `result`'s checkpoint and publish the cosigned
    checkpoint (database and file) if the log has not moved on meanwhile. Returns the
    checkpoint as published."""
    witnesses = configured_witnesses()
    if not witnesses:
        return result.checkpoint
    state = LogState.objects.select_related("election").get(pk=result.election_id)
    files = LogFiles.of(state.election)
    cosignatures = []
    for witness in witnesses:
        try:
            cosignatures.append(
                request_cosignature(witness, files, state.origin, result.size, result.checkpoint)
            )
        except (OSError, TlogError, WitnessRefused) as error:
            logger.warning(
                "witness %s did not cosign %s at %s: %s",
                witness.url,
                state.origin,
                result.size,
                error,
            )
    if not cosignatures:
        return result.checkpoint
    note = parse_note(result.checkpoint)
    published = Note(note.text, (*note.signatures, *cosignatures)).encode()
    with CHECKPOINT_FILE_LOCK:  # the integrator may be publishing a newer one
        updated = LogState.objects.filter(pk=result.election_id, size=result.size).update(
            checkpoint=published.decode()
        )
        if updated:
            LogCheckpoint.objects.filter(election_id=result.election_id, size=result.size).update(
                checkpoint=published.decode()
            )
            files.write_checkpoint(published)
    return published


class WitnessPublisher:
    """Witnessing beside the integrator, in a thread of its own: a slow or unreachable witness
    must not delay the next checkpoint. Only the newest checkpoint of each log is worth
    cosigning, so a newer one replaces one still waiting."""

    def __init__(self) -> None:
        self._waiting: dict[int, Published] = {}
        self._condition = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="witnessing", daemon=True)

    def start(self) -> WitnessPublisher:
        if configured_witnesses():
            self._thread.start()
        return self

    def submit(self, result: Published) -> None:
        if not self._thread.is_alive():
            return
        with self._condition:
            self._waiting[result.election_id] = result
            self._condition.notify()

    def stop(self) -> None:
        """Finish what is waiting, then stop."""
        with self._condition:
            self._stopping = True
            self._condition.notify()
        if self._thread.is_alive():
            self._thread.join()

    def _work(self) -> None:
        try:
            while True:
                with self._condition:
                    while not self._waiting and not self._stopping:
                        self._condition.wait()
                    if not self._waiting:
                        return
                    _, result = self._waiting.popitem()
                try:
                    publish_to_witnesses(result)
                except Exception:  # a witnessing failure must never stop the log
                    logger.exception("witnessing checkpoint %s failed", result.size)
        finally:
            connections.close_all()
