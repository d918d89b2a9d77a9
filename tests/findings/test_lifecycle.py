"""The human lifecycle: allowed moves, refused ones that change nothing, and the history."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied

from pollwatch.findings.lifecycle import TRANSITIONS, LifecycleError, change_finding_status
from pollwatch.findings.models import Finding, FindingDecision, FindingStatus
from pollwatch.findings.recording import Scope, record_findings
from tests.findings.conftest import at_station
from tests.web.factories import SmallElection

Status = FindingStatus
T0 = datetime.datetime(2026, 3, 15, 20, 0, tzinfo=datetime.UTC)


@pytest.fixture
def finding(small: SmallElection) -> Finding:
    record_findings(small.election, Scope.election(), [at_station(small.station_101.pk, "yes", 7)])
    return Finding.objects.get()


def _minutes(n: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=n)


def test_open_to_complaint_filed_leaves_one_decision_per_step(
    finding: Finding, analyst: User
) -> None:
    steps = [
        (Status.UNDER_VERIFICATION, ""),
        (Status.CONFIRMED, "photo of the protocol matches the copy"),
        (Status.COMPLAINT_FILED, "filed with the territorial commission"),
    ]
    for minute, (status, reason) in enumerate(steps):
        change_finding_status(analyst, finding, status, reason, now=_minutes(minute))
        assert finding.status == status
    finding.refresh_from_db()
    assert finding.status == Status.COMPLAINT_FILED
    history = list(
        finding.decisions.values_list("from_status", "to_status", "reason", "decided_at")
    )
    assert history == [
        (Status.OPEN, Status.UNDER_VERIFICATION, "", _minutes(0)),
        (Status.UNDER_VERIFICATION, Status.CONFIRMED, steps[1][1], _minutes(1)),
        (Status.CONFIRMED, Status.COMPLAINT_FILED, steps[2][1], _minutes(2)),
    ]
    assert {decision.decided_by for decision in finding.decisions.all()} == {analyst}


@pytest.mark.parametrize("start", [Status.OPEN, Status.UNDER_VERIFICATION])
def test_dismissal_needs_a_reason(finding: Finding, analyst: User, start: Status) -> None:
    if start != Status.OPEN:
        change_finding_status(analyst, finding, start)
    decisions = FindingDecision.objects.count()
    with pytest.raises(LifecycleError, match="needs a reason"):
        change_finding_status(analyst, finding, Status.DISMISSED, "   ")
    finding.refresh_from_db()
    assert finding.status == start
    assert FindingDecision.objects.count() == decisions

    change_finding_status(analyst, finding, Status.DISMISSED, " copy was misread by the clerk ")
    finding.refresh_from_db()
    assert finding.status == Status.DISMISSED
    assert finding.decisions.last().reason == "copy was misread by the clerk"  # type: ignore[union-attr]


def _reach(finding: Finding, user: User, status: Status) -> None:
    """Walk the lifecycle from open to ``status``."""
    path = {
        Status.OPEN: [],
        Status.UNDER_VERIFICATION: [Status.UNDER_VERIFICATION],
        Status.CONFIRMED: [Status.UNDER_VERIFICATION, Status.CONFIRMED],
        Status.DISMISSED: [Status.DISMISSED],
        Status.COMPLAINT_FILED: [
            Status.UNDER_VERIFICATION,
            Status.CONFIRMED,
            Status.COMPLAINT_FILED,
        ],
    }[status]
    for step in path:
        change_finding_status(user, finding, step, "a reason")


REFUSED = [
    (start, target) for start in Status for target in Status if target not in TRANSITIONS[start]
]


@pytest.mark.parametrize(("start", "target"), REFUSED)
def test_refused_moves_change_nothing(
    finding: Finding, analyst: User, start: Status, target: Status
) -> None:
    _reach(finding, analyst, start)
    decisions = FindingDecision.objects.count()
    with pytest.raises(LifecycleError, match="cannot become"):
        change_finding_status(analyst, finding, target, "a reason")
    finding.refresh_from_db()
    assert finding.status == start
    assert FindingDecision.objects.count() == decisions


def test_a_complaint_filed_is_final(finding: Finding, analyst: User) -> None:
    _reach(finding, analyst, Status.COMPLAINT_FILED)
    for target in Status:
        with pytest.raises(LifecycleError, match="none: it is final"):
            change_finding_status(analyst, finding, target, "a reason")


@pytest.mark.parametrize("start", [Status.DISMISSED, Status.CONFIRMED])
def test_reopening_needs_a_reason(finding: Finding, analyst: User, start: Status) -> None:
    _reach(finding, analyst, start)
    with pytest.raises(LifecycleError, match="needs a reason"):
        change_finding_status(analyst, finding, Status.UNDER_VERIFICATION)
    change_finding_status(analyst, finding, Status.UNDER_VERIFICATION, "new photo arrived")
    finding.refresh_from_db()
    assert finding.status == Status.UNDER_VERIFICATION


def test_an_unknown_status_is_refused(finding: Finding, analyst: User) -> None:
    with pytest.raises(LifecycleError, match="unknown status 'closed'"):
        change_finding_status(analyst, finding, "closed", "a reason")
    assert not FindingDecision.objects.exists()


def test_only_analysts_and_administrators_decide(finding: Finding, observer: User) -> None:
    with pytest.raises(PermissionDenied):
        change_finding_status(observer, finding, Status.UNDER_VERIFICATION)
    finding.refresh_from_db()
    assert finding.status == Status.OPEN
    assert not FindingDecision.objects.exists()


def test_the_status_is_judged_against_the_stored_one_not_a_stale_instance(
    finding: Finding, analyst: User
) -> None:
    stale = Finding.objects.get(pk=finding.pk)
    change_finding_status(analyst, finding, Status.DISMISSED, "duplicate report")
    # Someone else's screen still shows "open", from which dismissing is allowed; not twice.
    with pytest.raises(LifecycleError, match="Dismissed cannot become Dismissed"):
        change_finding_status(analyst, stale, Status.DISMISSED, "also a duplicate")
    assert stale.status == Status.OPEN  # untouched on refusal
    assert FindingDecision.objects.count() == 1
