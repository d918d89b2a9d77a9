"""Appending: canonical bytes, pending entries in the caller's transaction, bad records refused
with nothing written, and finding decisions logged as they are made."""

from __future__ import annotations

import datetime
import json
import os
import stat
from pathlib import Path

import pytest
import rfc8785
from django.contrib.auth.models import User
from django.db import transaction

from pollwatch.core.tlog import leaf_hash
from pollwatch.core.tlog.note import Ed25519Verifier
from pollwatch.findings.lifecycle import LifecycleError, change_finding_status
from pollwatch.findings.models import Finding, FindingDecision, FindingStatus
from pollwatch.ledger.appending import append_many_to_log, append_row, append_to_log
from pollwatch.ledger.errors import LedgerError
from pollwatch.ledger.keys import KEY_FILE, log_signer, log_verifier, new_origin
from pollwatch.ledger.models import LogEntry, PendingEntry
from tests.web.factories import SmallElection

T0 = datetime.datetime(2026, 3, 15, 20, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=5)))


def test_a_record_is_stored_as_canonical_json_pending(small: SmallElection) -> None:
    record = {"kind": "note", "b": [1, "ж"], "a": 1.5, "z": None}
    entry = append_to_log(small.election, "note", record)
    entry.refresh_from_db()
    data = bytes(entry.canonical)
    assert data == rfc8785.dumps(record) == '{"a":1.5,"b":[1,"ж"],"kind":"note","z":null}'.encode()
    assert bytes(entry.leaf_hash) == leaf_hash(data)
    assert PendingEntry.objects.filter(entry=entry).exists()
    assert entry.kind == "note" and entry.source_pk == ""


def test_several_records_are_appended_in_order_in_one_go(small: SmallElection) -> None:
    records = [({"kind": "note", "n": n}, None) for n in range(5)]
    entries = append_many_to_log(small.election, "note", records)
    stored = list(LogEntry.objects.filter(election=small.election).order_by("pk"))
    assert [entry.pk for entry in entries] == [entry.pk for entry in stored]
    assert [json.loads(bytes(entry.canonical))["n"] for entry in stored] == [0, 1, 2, 3, 4]
    assert PendingEntry.objects.filter(entry__in=stored).count() == 5
    assert append_many_to_log(small.election, "note", []) == []


def test_one_bad_record_appends_none_of_them(small: SmallElection) -> None:
    records = [({"n": 1}, None), ({"n": float("nan")}, None)]
    with pytest.raises(LedgerError, match="not canonical JSON"):
        append_many_to_log(small.election, "note", records)
    assert not LogEntry.objects.exists()


def test_the_entry_rolls_back_with_the_callers_transaction(small: SmallElection) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        append_to_log(small.election, "note", {"n": 1})
        raise RuntimeError("the submission failed after appending")
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize(
    ("kind", "record", "message"),
    [
        ("note", {"x": float("nan")}, "not canonical JSON"),
        ("note", {1: "x"}, "not canonical JSON"),
        ("note", {"x": object()}, "not canonical JSON"),
        ("note", {"x": "a" * 70_000}, "at most 65535"),
        ("Note", {"x": 1}, "lowercase"),
        ("", {"x": 1}, "lowercase"),
    ],
)
def test_bad_records_are_refused_and_nothing_is_written(
    small: SmallElection, kind: str, record: dict[object, object], message: str
) -> None:
    with pytest.raises(LedgerError, match=message):
        append_to_log(small.election, kind, record)  # type: ignore[arg-type]
    assert not LogEntry.objects.exists()


def test_an_unsaved_source_or_unregistered_kind_is_refused(small: SmallElection) -> None:
    with pytest.raises(LedgerError, match="not saved"):
        append_to_log(small.election, "note", {}, source=FindingDecision())
    with pytest.raises(LedgerError, match="not registered"):
        append_row(small.election, "no-such-kind", small.election)
    with pytest.raises(LedgerError, match="built from a FindingDecision"):
        append_row(small.election, "finding-decision", small.election)


def test_finding_decisions_are_logged_with_their_source(finding: Finding, analyst: User) -> None:
    change_finding_status(analyst, finding, FindingStatus.UNDER_VERIFICATION, now=T0)
    change_finding_status(analyst, finding, FindingStatus.DISMISSED, "misread", now=T0)
    entries = list(LogEntry.objects.order_by("id"))
    decisions = list(FindingDecision.objects.order_by("id"))
    assert [e.kind for e in entries] == ["finding-decision"] * 2
    assert [e.source_pk for e in entries] == [str(d.pk) for d in decisions]
    record = json.loads(bytes(entries[1].canonical))
    assert record == {
        "kind": "finding-decision",
        "id": decisions[1].pk,
        "election": finding.election.slug,
        "finding": finding.fingerprint,
        "from": "under_verification",
        "to": "dismissed",
        "reason": "misread",
        "decided_by": analyst.pk,
        "decided_at": "2026-03-15T15:00:00.000000+00:00",
    }


def test_a_refused_decision_logs_nothing(finding: Finding, analyst: User) -> None:
    with pytest.raises(LifecycleError):
        change_finding_status(analyst, finding, FindingStatus.DISMISSED)  # no reason
    assert not LogEntry.objects.exists()


def test_the_log_key_is_made_once_private_and_named_by_origin(
    small: SmallElection, data_dir: Path
) -> None:
    origin = new_origin(small.election)
    assert origin == f"log.test/{small.election.slug}"
    signer = log_signer(origin)
    path = data_dir / KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert log_signer(origin).public_key == signer.public_key  # read back, not regenerated
    vkey = log_verifier(origin).key_string()
    assert vkey.startswith(origin + "+")
    assert Ed25519Verifier.from_key_string(vkey).public_key == signer.public_key
