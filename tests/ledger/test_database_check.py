"""`pollwatch verify database`: every logged row still matches its leaf; a row changed, removed
or added behind the application's back is named; exit 0 / 1 / 2."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from pollwatch.core.tlog.note import Ed25519Signer
from pollwatch.findings.lifecycle import change_finding_status
from pollwatch.findings.models import Finding, FindingDecision, FindingStatus
from pollwatch.ledger.integration import integrate_pending
from pollwatch.ledger.models import LogEntry, LogIndex
from pollwatch.protocols.models import ProtocolCopy
from tests.protocols.conftest import Referendum, figures, referendum, submit

__all__ = ["referendum"]  # the fixture, imported for the protocol-copy test


def verify_database(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify", "database", *args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


@pytest.fixture
def decided(finding: Finding, analyst: User) -> list[FindingDecision]:
    change_finding_status(analyst, finding, FindingStatus.UNDER_VERIFICATION)
    change_finding_status(analyst, finding, FindingStatus.CONFIRMED)
    change_finding_status(analyst, finding, FindingStatus.COMPLAINT_FILED, "filed")
    integrate_pending()
    return list(FindingDecision.objects.order_by("id"))


def test_an_untouched_database_is_valid(decided: list[FindingDecision]) -> None:
    slug = decided[0].finding.election.slug
    code, out = verify_database("--election", slug)
    assert code == 0, out
    assert out.startswith("valid: 3 rows of test-referendum match their 3 log entries")


def test_a_changed_row_is_named_with_its_fields(decided: list[FindingDecision]) -> None:
    FindingDecision.objects.filter(pk=decided[2].pk).update(reason="never filed")
    code, out = verify_database("--election", decided[0].finding.election.slug)
    assert code == 1
    assert (
        f"findings.FindingDecision {decided[2].pk} (log entry #2) was changed: reason: logged "
        '"filed", now "never filed"'
    ) in out
    assert "invalid: 1 row or entry of test-referendum does not match the log" in out


def test_a_removed_row_and_a_row_added_outside_the_log_are_named(
    decided: list[FindingDecision], analyst: User
) -> None:
    finding = decided[0].finding
    FindingDecision.objects.filter(pk=decided[0].pk).delete()
    sneaked = FindingDecision.objects.create(
        finding=finding,
        decided_by=analyst,
        decided_at=timezone.now(),
        from_status="complaint_filed",
        to_status="dismissed",
    )
    code, out = verify_database("--election", finding.election.slug)
    assert code == 1
    assert f"findings.FindingDecision {decided[0].pk} (log entry #0) was removed" in out
    assert f"findings.FindingDecision {sneaked.pk} was added outside the log" in out


def test_a_rewritten_entry_is_not_the_published_leaf(decided: list[FindingDecision]) -> None:
    # Someone changes the row *and* the database's copy of its entry to match.
    FindingDecision.objects.filter(pk=decided[2].pk).update(reason="x")
    decided[2].refresh_from_db()
    from pollwatch.ledger.appending import canonical_bytes
    from pollwatch.ledger.finding_decisions import finding_decision_record

    LogEntry.objects.filter(log_index__index=2).update(
        canonical=canonical_bytes(finding_decision_record(decided[2]))
    )
    code, out = verify_database("--election", decided[0].finding.election.slug)
    assert code == 1
    assert (
        f"log entry #2 (finding-decision {decided[2].pk}) in the database is not the published leaf"
    ) in out
    assert "was changed" not in out


def test_a_deleted_entry_is_named(decided: list[FindingDecision]) -> None:
    entry = LogIndex.objects.get(index=1).entry
    LogIndex.objects.filter(index=1).delete()
    entry.delete()
    code, out = verify_database("--election", decided[0].finding.election.slug)
    assert code == 1
    assert "log entry #1 is missing from the database" in out
    assert f"findings.FindingDecision {decided[1].pk} was added outside the log" in out


def test_pending_entries_are_checked_against_their_rows(finding: Finding, analyst: User) -> None:
    decision = change_finding_status(analyst, finding, FindingStatus.UNDER_VERIFICATION)
    FindingDecision.objects.filter(pk=decision.pk).update(to_status="confirmed")
    code, out = verify_database("--election", finding.election.slug)
    assert code == 1
    assert "(log entry pending) was changed: to: logged" in out


def test_json_output(decided: list[FindingDecision]) -> None:
    FindingDecision.objects.filter(pk=decided[1].pk).update(reason="edited")
    code, out = verify_database("--election", decided[0].finding.election.slug, "--json")
    assert code == 1
    result = json.loads(out.splitlines()[0])
    assert result["status"] == "invalid" and result["exit"] == 1
    assert result["size"] == 3 and result["rows_checked"] == 3
    assert len(result["problems"]) == 1 and "was changed" in result["problems"][0]


def test_unreadable_input_exits_2(decided: list[FindingDecision]) -> None:
    assert verify_database("--election", "nope")[0] == 2
    code, out = verify_database("--election", "test-referendum", "--log-key", "garbage")
    assert code == 2 and "log key" in out


def test_another_log_key_does_not_verify_the_checkpoint(decided: list[FindingDecision]) -> None:
    origin = f"log.test/{decided[0].finding.election.slug}"
    other = Ed25519Signer(origin, bytes([9]) * 32).verifier().key_string()
    code, out = verify_database("--election", "test-referendum", "--log-key", other)
    assert code == 1
    assert "the stored checkpoint does not verify" in out


def test_a_copys_figure_changed_in_the_database_is_named(referendum: Referendum) -> None:
    submitted = submit(referendum)
    submit(referendum, values=figures(yes=501, no=204), user=referendum.other_observer_user)
    integrate_pending()
    slug = referendum.small.election.slug
    assert verify_database("--election", slug)[0] == 0
    copy = ProtocolCopy.objects.get(pk=submitted.copy.pk)
    ProtocolCopy.objects.filter(pk=copy.pk).update(figures={**copy.figures, "yes": 600})
    code, out = verify_database("--election", slug)
    assert code == 1
    assert f"protocols.ProtocolCopy {copy.pk} (log entry #" in out
    assert "was changed: figures: logged" in out and '"yes":600' in out.replace(" ", "")


def test_a_row_key_spelled_otherwise_is_the_same_row(referendum: Referendum) -> None:
    submitted = submit(referendum)
    integrate_pending()
    LogEntry.objects.filter(source_pk=str(submitted.copy.pk)).update(
        source_pk=submitted.copy.pk.hex  # a UUID without hyphens, as a bulk import may write
    )
    code, out = verify_database("--election", referendum.small.election.slug)
    assert code == 0, out
