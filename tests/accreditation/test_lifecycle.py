"""The accreditation lifecycle: who may request, accredit and revoke, and what each refusal
leaves unchanged."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from pollwatch.accounts.models import AuditEntry
from pollwatch.accreditation.eligibility import submission_refusal
from pollwatch.accreditation.lifecycle import (
    AccreditationError,
    accredit,
    request_accreditation,
    revoke,
)
from pollwatch.accreditation.models import Accreditation
from tests.accreditation.conftest import POLLS_OPEN, People, assign, observer_in
from tests.web.factories import SmallElection

pytestmark = pytest.mark.django_db

REASON = "Campaigned for a side inside the polling station"


def _snapshot() -> list[tuple[object, ...]]:
    return list(
        Accreditation.objects.order_by("pk").values_list("pk", "status", "number", "decided_at")
    )


def test_request_then_accredit_then_revoke(small: SmallElection, people: People) -> None:
    pending = request_accreditation(people.coordinator, people.observer, small.election)
    assert (pending.status, pending.number, pending.requested_by) == (
        "pending",
        "",
        people.coordinator,
    )
    accredit(people.administrator, pending, " KZ-0001 ")
    pending.refresh_from_db()
    assert (pending.status, pending.number, pending.decided_by) == (
        "accredited",
        "KZ-0001",
        people.administrator,
    )
    revoke(people.administrator, pending, REASON)
    pending.refresh_from_db()
    assert pending.status == "revoked"
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor__username"))
    assert actions == [
        ("accreditation.request", "coordinator"),
        ("accreditation.accredit", "admin"),
        ("accreditation.revoke", "admin"),
    ]
    last = AuditEntry.objects.order_by("id").last()
    assert last is not None
    assert last.before is not None and last.after is not None
    assert (last.before["status"], last.after["status"]) == ("accredited", "revoked")
    assert (last.before["revocation_reason"], last.after["revocation_reason"]) == ("", REASON)
    assert pending.revocation_reason == REASON


def test_revocation_blocks_submission_at_once(small: SmallElection, people: People) -> None:
    assign(people.observer, small.station_101)
    accreditation = request_accreditation(people.coordinator, people.observer, small.election)
    accredit(people.administrator, accreditation, "KZ-1")
    during = POLLS_OPEN + datetime.timedelta(hours=1)
    assert submission_refusal(people.observer_user, small.station_101, during) is None
    revoke(people.administrator, accreditation, REASON)
    assert submission_refusal(people.observer_user, small.station_101, during) is not None


def test_a_coordinator_cannot_request_for_another_organisation(
    small: SmallElection, people: People
) -> None:
    with pytest.raises(PermissionDenied, match="Other Watch's own coordinators"):
        request_accreditation(
            people.coordinator, observer_in(people.other, "theirs"), small.election
        )
    assert _snapshot() == []
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("who", ["observer_user", "analyst", "data_clerk"])
def test_other_roles_cannot_request(small: SmallElection, people: People, who: str) -> None:
    with pytest.raises(PermissionDenied):
        request_accreditation(getattr(people, who), people.observer, small.election)
    assert _snapshot() == []


def test_an_administrator_may_request_for_any_organisation(
    small: SmallElection, people: People
) -> None:
    theirs = observer_in(people.other, "theirs")
    assert request_accreditation(people.administrator, theirs, small.election).status == "pending"


def test_a_second_request_is_refused_until_revoked(small: SmallElection, people: People) -> None:
    accreditation = request_accreditation(people.coordinator, people.observer, small.election)
    with pytest.raises(AccreditationError, match="already Pending"):
        request_accreditation(people.coordinator, people.observer, small.election)
    accredit(people.administrator, accreditation, "KZ-7")
    before = _snapshot()
    with pytest.raises(AccreditationError, match="already Accredited"):
        request_accreditation(people.coordinator, people.observer, small.election)
    assert _snapshot() == before
    revoke(people.administrator, accreditation, REASON)
    again = request_accreditation(people.coordinator, people.observer, small.election)
    assert (again.pk, again.status, again.number) == (accreditation.pk, "pending", "")


@pytest.mark.parametrize("who", ["coordinator", "observer_user", "analyst", "data_clerk"])
def test_only_an_administrator_accredits_or_revokes(
    small: SmallElection, people: People, who: str
) -> None:
    accreditation = request_accreditation(people.coordinator, people.observer, small.election)
    before = _snapshot()
    audit_before = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied, match="Only an administrator"):
        accredit(getattr(people, who), accreditation, "KZ-1")
    with pytest.raises(PermissionDenied):
        revoke(getattr(people, who), accreditation, REASON)
    assert _snapshot() == before
    assert AuditEntry.objects.count() == audit_before


def test_the_number_is_required_and_unique_within_the_election(
    small: SmallElection, people: People
) -> None:
    first = request_accreditation(people.coordinator, people.observer, small.election)
    second = request_accreditation(
        people.coordinator, observer_in(people.own, "obs-2"), small.election
    )
    with pytest.raises(AccreditationError, match="number is required"):
        accredit(people.administrator, first, "   ")
    accredit(people.administrator, first, "KZ-1")
    before = _snapshot()
    with pytest.raises(AccreditationError, match="KZ-1 is already Observer obs-1's"):
        accredit(people.administrator, second, "KZ-1")
    assert _snapshot() == before
    with pytest.raises(AccreditationError, match="at most 100 characters"):
        accredit(people.administrator, second, "9" * 101)


def test_the_same_number_may_serve_in_another_election(
    small: SmallElection, people: People
) -> None:
    from tests.web.factories import build_small_election

    other = build_small_election("second-round")
    a = request_accreditation(people.coordinator, people.observer, small.election)
    b = request_accreditation(people.coordinator, people.observer, other.election)
    accredit(people.administrator, a, "KZ-1")
    accredit(people.administrator, b, "KZ-1")
    assert {a.number, b.number} == {"KZ-1"}


def test_only_pending_accreditations_are_granted_and_revoked_ones_stay_revoked(
    small: SmallElection, people: People
) -> None:
    accreditation = request_accreditation(people.coordinator, people.observer, small.election)
    accredit(people.administrator, accreditation, "KZ-1")
    with pytest.raises(AccreditationError, match="Only a pending accreditation"):
        accredit(people.administrator, accreditation, "KZ-2")
    revoke(people.administrator, accreditation, REASON)
    with pytest.raises(AccreditationError, match="already revoked"):
        revoke(people.administrator, accreditation, REASON)
    with pytest.raises(AccreditationError, match="Only a pending accreditation"):
        accredit(people.administrator, accreditation, "KZ-3")
    accreditation.refresh_from_db()
    assert (accreditation.status, accreditation.number) == ("revoked", "KZ-1")


def test_a_pending_request_may_be_refused_by_revoking_it(
    small: SmallElection, people: People
) -> None:
    accreditation = request_accreditation(people.coordinator, people.observer, small.election)
    revoke(people.administrator, accreditation, REASON)
    assert Accreditation.objects.get().status == "revoked"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_a_revocation_must_say_why_in_at_most_1000_characters(
    small: SmallElection, people: People, reason: str
) -> None:
    accreditation = request_accreditation(people.coordinator, people.observer, small.election)
    accredit(people.administrator, accreditation, "KZ-1")
    before, audited = _snapshot(), AuditEntry.objects.count()
    with pytest.raises(AccreditationError, match=r"Say why|longer than 1000"):
        revoke(people.administrator, accreditation, reason)
    assert _snapshot() == before and AuditEntry.objects.count() == audited
    assert Accreditation.objects.get().revocation_reason == ""


def test_a_revoked_accreditation_requested_anew_drops_the_old_reason(
    small: SmallElection, people: People
) -> None:
    accreditation = request_accreditation(people.coordinator, people.observer, small.election)
    revoke(people.administrator, accreditation, f"  {REASON} ")
    assert Accreditation.objects.get().revocation_reason == REASON  # trimmed
    request_accreditation(people.coordinator, people.observer, small.election)
    assert Accreditation.objects.get().revocation_reason == ""
    last = AuditEntry.objects.order_by("id").last()
    assert last is not None and last.before is not None
    assert last.before["revocation_reason"] == REASON  # the log keeps why it was revoked
