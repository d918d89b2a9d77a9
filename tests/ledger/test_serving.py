"""Serving the log: tlog-tiles endpoints with their content types and cache headers, only what
the committed checkpoint covers; receipts and consistency proofs that verify, and no receipt
that does not; what a checkpoint gives kept only while it is the latest; the API."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from pollwatch.core.tlog import MemoryTree, leaf_hash, verify_consistency
from pollwatch.core.tlog.cosignature import CosignatureSigner
from pollwatch.core.tlog.note import parse_note, sign_note
from pollwatch.core.tlog.receipt import verify_receipt
from pollwatch.ledger import serving
from pollwatch.ledger.appending import append_to_log
from pollwatch.ledger.files import LogFiles
from pollwatch.ledger.integration import integrate_pending
from pollwatch.ledger.keys import log_verifier
from pollwatch.ledger.models import LogEntry, LogState
from tests.web.factories import SmallElection, build_small_election

SIZE = 300


@pytest.fixture
def log(small: SmallElection) -> MemoryTree:
    for n in range(SIZE):
        append_to_log(small.election, "note", {"kind": "note", "n": n})
    integrate_pending(batch=128)
    rows = LogEntry.objects.order_by("log_index__index").values_list("canonical", flat=True)
    return MemoryTree([leaf_hash(bytes(r)) for r in rows])


def _get(path: str) -> tuple[int, bytes, dict[str, str]]:
    response = Client().get(path)
    return response.status_code, response.content, dict(response.headers)


def test_the_checkpoint_is_served_fresh(small: SmallElection, log: MemoryTree) -> None:
    status, body, headers = _get(f"/log/{small.election.slug}/checkpoint")
    assert status == 200
    assert body.decode() == LogState.objects.get().checkpoint
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("path", "length"),
    [
        ("tile/0/000", 8192),
        ("tile/0/000.p/7", 7 * 32),  # a width no checkpoint had: cut from the current tile
        ("tile/entries/000.p/3", None),
        ("tile/0/001.p/44", 44 * 32),
        ("tile/entries/000", None),
        ("tile/entries/001.p/44", None),
        ("tile/1/000.p/1", 32),
    ],
)
def test_tiles_the_checkpoint_covers_are_served_immutable(
    small: SmallElection, log: MemoryTree, path: str, length: int | None
) -> None:
    status, body, headers = _get(f"/log/{small.election.slug}/{path}")
    assert status == 200, body
    files = LogFiles.of(small.election)
    if files.path(path).exists():
        assert body == files.read(path)
    else:
        assert files.read(path.split(".p/")[0]).startswith(body)
    if length is not None:
        assert len(body) == length
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("tile/0/001.p/45", "does not cover"),  # beyond the checkpoint
        ("tile/0/001", "does not cover"),
        ("tile/0/002.p/1", "does not cover"),
        ("tile/2/000.p/1", "does not cover"),
        ("tile/0/1", "not a tile path"),
        ("tile/0/x000/001", "leading zero"),
        ("tile/0/000.p/256", "outside 1..255"),
        ("tile/../../secret", "not a tile path"),
    ],
)
def test_other_tiles_are_404_with_the_reason(
    small: SmallElection, log: MemoryTree, path: str, reason: str
) -> None:
    files = LogFiles.of(small.election)
    files.write("tile/0/001.p/45", b"\x00" * 45 * 32)  # as a crashed batch could leave
    status, body, _ = _get(f"/log/{small.election.slug}/{path}")
    assert status == 404
    assert reason in body.decode()


def test_a_log_not_yet_published_is_404(small: SmallElection) -> None:
    status, body, _ = _get(f"/log/{small.election.slug}/checkpoint")
    assert status == 404 and b"no published log" in body
    assert _get("/log/no-such-election/tile/0/000")[0] == 404


def test_a_receipt_verifies_against_the_latest_checkpoint(
    small: SmallElection, log: MemoryTree
) -> None:
    entry = LogEntry.objects.get(log_index__index=200)
    status, body, headers = _get(f"/log/{small.election.slug}/receipt/{entry.pk}")
    assert status == 200
    state = LogState.objects.get()
    verified = verify_receipt(body, bytes(entry.leaf_hash), log_verifier(state.origin))
    assert (verified.index, verified.checkpoint.size) == (200, SIZE)
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_a_receipt_for_a_pending_entry_says_retry(small: SmallElection, log: MemoryTree) -> None:
    pending = append_to_log(small.election, "note", {"n": "late"})
    status, body, headers = _get(f"/log/{small.election.slug}/receipt/{pending.pk}")
    assert status == 404 and headers["Retry-After"] == "1"
    assert b"not in a checkpoint yet" in body
    for unknown in (999999, 2**63, 10**30):
        status, body, headers = _get(f"/log/{small.election.slug}/receipt/{unknown}")
        assert status == 404 and f"has no entry {unknown}".encode() in body
        assert "Retry-After" not in headers
    status, body, _ = _get(f"/log/no-such-election/receipt/{pending.pk}")
    assert status == 404 and b"has no published log" in body


def test_a_receipt_is_always_against_the_latest_checkpoint(
    small: SmallElection, log: MemoryTree
) -> None:
    entry = LogEntry.objects.get(log_index__index=SIZE - 1)  # in the partial tiles
    url = f"/log/{small.election.slug}/receipt/{entry.pk}"
    verifier = log_verifier(LogState.objects.get().origin)
    assert verify_receipt(_get(url)[1], bytes(entry.leaf_hash), verifier).checkpoint.size == SIZE
    for n in range(SIZE, SIZE + 40):
        append_to_log(small.election, "note", {"n": n})
    integrate_pending()
    body = _get(url)[1]
    assert verify_receipt(body, bytes(entry.leaf_hash), verifier).checkpoint.size == SIZE + 40
    assert body.endswith(LogState.objects.get().checkpoint.encode())


def test_what_a_checkpoint_gives_is_kept_only_while_it_is_the_latest(
    small: SmallElection, log: MemoryTree
) -> None:
    slug = small.election.slug
    verifier = log_verifier(LogState.objects.get().origin)
    early = LogEntry.objects.get(log_index__index=3)
    assert _get(f"/log/{slug}/receipt/{early.pk}")[0] == 200
    kept = serving.published_log(slug)
    assert serving.published_log(slug) is kept  # the same checkpoint: nothing worked out again
    assert _get(f"/log/{slug}/tile/0/002.p/88")[0] == 404  # beyond this checkpoint
    for n in range(SIZE, 2 * SIZE):
        append_to_log(small.election, "note", {"n": n})
    integrate_pending()
    state = LogState.objects.get()
    assert serving.published_log(slug) is not kept
    assert _get(f"/log/{slug}/checkpoint")[1] == state.checkpoint.encode()
    status, body, _ = _get(f"/log/{slug}/tile/0/002.p/88")  # only the new checkpoint has it
    assert status == 200 and body == LogFiles.of(small.election).read("tile/0/002.p/88")
    late = LogEntry.objects.get(log_index__index=2 * SIZE - 1)
    for entry in (early, late):
        body = _get(f"/log/{slug}/receipt/{entry.pk}")[1]
        verified = verify_receipt(body, bytes(entry.leaf_hash), verifier)
        assert verified.checkpoint.size == 2 * SIZE
        assert body.endswith(state.checkpoint.encode())


def test_a_cosignature_on_the_same_checkpoint_is_served_at_once(
    small: SmallElection, log: MemoryTree
) -> None:
    entry = LogEntry.objects.get(log_index__index=7)
    urls = [f"/log/{small.election.slug}/{path}" for path in (f"receipt/{entry.pk}", "checkpoint")]
    etags = [Client().get(url).headers["ETag"] for url in urls]
    note = parse_note(LogState.objects.get().checkpoint.encode())
    witness = CosignatureSigner("witness.test", bytes([2]) * 32, clock=lambda: 1_800_000_000)
    cosigned = sign_note(note.text, [witness], note.signatures)
    LogState.objects.update(checkpoint=cosigned.decode())  # as witnessing publishes it
    for url, etag in zip(urls, etags, strict=True):
        response = Client().get(url, headers={"If-None-Match": etag})
        assert response.status_code == 200 and response.headers["ETag"] != etag
        assert response.content.endswith(cosigned)


def test_a_receipt_is_served_only_if_it_verifies(
    small: SmallElection, log: MemoryTree, caplog: pytest.LogCaptureFixture
) -> None:
    entry = LogEntry.objects.get(log_index__index=5)
    url = f"/log/{small.election.slug}/receipt/{entry.pk}"
    files = LogFiles.of(small.election)
    good = files.read("tile/0/000")
    # The hash of leaf 4, the first in entry 5's proof, damaged on disk.
    files.write("tile/0/000", good[:128] + bytes([good[128] ^ 1]) + good[129:])
    status, body, headers = _get(url)
    assert status == 503 and headers["Retry-After"] == "5" and b"rebuilt" in body
    assert "do not give the inclusion proof" in caplog.text
    files.write("tile/0/000", good)  # as the integrator rebuilds it
    status, body, _ = _get(url)  # the damaged tile, held since, is dropped and read again
    assert status == 200
    verifier = log_verifier(LogState.objects.get().origin)
    assert verify_receipt(body, bytes(entry.leaf_hash), verifier).index == 5


def test_an_entry_of_another_election_has_no_receipt_here(
    small: SmallElection, log: MemoryTree
) -> None:
    other = append_to_log(build_small_election("other-referendum").election, "note", {"n": 0})
    integrate_pending()
    status, body, headers = _get(f"/log/{small.election.slug}/receipt/{other.pk}")
    assert status == 404 and f"has no entry {other.pk}".encode() in body
    assert "Retry-After" not in headers
    assert _get(f"/log/other-referendum/receipt/{other.pk}")[0] == 200


def test_receipts_and_the_checkpoint_revalidate_by_etag(
    small: SmallElection, log: MemoryTree
) -> None:
    entry = LogEntry.objects.get(log_index__index=5)
    for path in (f"receipt/{entry.pk}", "checkpoint"):
        url = f"/log/{small.election.slug}/{path}"
        response = Client().get(url)
        etag = response.headers["ETag"]
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
        again = Client().get(url, headers={"If-None-Match": f'"other", W/{etag}'})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == etag
        assert Client().get(url, headers={"If-None-Match": '"other"'}).status_code == 200
        append_to_log(small.election, "note", {"n": path})
        integrate_pending()  # a new checkpoint: what the client holds is stale
        stale = Client().get(url, headers={"If-None-Match": etag})
        assert stale.status_code == 200 and stale.headers["ETag"] != etag


def test_consistency_proofs_verify(small: SmallElection, log: MemoryTree) -> None:
    for size1, size2 in [(1, SIZE), (10, 257), (256, 256), (255, None)]:
        query = f"from={size1}" + ("" if size2 is None else f"&to={size2}")
        status, body, _ = _get(f"/log/{small.election.slug}/consistency?{query}")
        assert status == 200
        proof = [base64.b64decode(line) for line in body.decode().splitlines()]
        end = SIZE if size2 is None else size2
        verify_consistency(size1, end, proof, log.root(size1), log.root(end))


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "needs from="),
        ("from=0", "need 0 < from"),
        ("from=abc", "not a tree size"),
        ("from=5&to=301", "need 0 < from"),
        ("from=9&to=5", "need 0 < from"),
    ],
)
def test_bad_consistency_queries_are_400(
    small: SmallElection, log: MemoryTree, query: str, reason: str
) -> None:
    status, body, _ = _get(f"/log/{small.election.slug}/consistency?{query}")
    assert status == 400 and reason in body.decode()


def test_only_get(small: SmallElection, log: MemoryTree) -> None:
    assert Client().post(f"/log/{small.election.slug}/checkpoint").status_code == 405


def test_the_api_gives_the_verifier_key_and_checkpoint(
    small: SmallElection, log: MemoryTree
) -> None:
    response = Client().get(f"/api/v1/elections/{small.election.slug}/log")
    assert response.status_code == 200
    data = response.json()
    state = LogState.objects.get()
    assert data["verifier_key"] == log_verifier(state.origin).key_string()
    assert data["checkpoint"] == state.checkpoint
    assert data["size"] == SIZE and data["root_hash_hex"] == log.root().hex()
    assert data["witnesses"] == []
    assert Client().get("/api/v1/elections/nope/log").status_code == 404


def test_the_log_page_shows_the_checkpoint_and_how_to_verify(
    small: SmallElection, log: MemoryTree
) -> None:
    response = Client().get(f"/elections/{small.election.slug}/log/")
    assert response.status_code == 200
    page = response.content.decode()
    state = LogState.objects.get()
    assert log_verifier(state.origin).key_string() in page
    assert log.root().hex() in page
    assert "pollwatch verify receipt" in page
    assert f"pollwatch verify database --election {small.election.slug}" in page


def test_the_log_page_before_any_checkpoint(small: SmallElection) -> None:
    response = Client().get(f"/ru/elections/{small.election.slug}/log/")
    assert response.status_code == 200
    assert Client().get("/elections/nope/log/").status_code == 404
