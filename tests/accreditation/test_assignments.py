"""Adding and removing assignments: only for one's own organisation, and never a bad window."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from pollwatch.accounts.models import AuditEntry
from pollwatch.accreditation.assignments import (
    AssignmentError,
    add_assignment,
    remove_assignment,
)
from pollwatch.accreditation.models import Assignment
from tests.accreditation.conftest import POLLS_CLOSE, POLLS_OPEN, People, observer_in
from tests.web.factories import SmallElection

pytestmark = pytest.mark.django_db


def test_a_coordinator_assigns_and_unassigns_their_observer(
    small: SmallElection, people: People
) -> None:
    assignment = add_assignment(
        people.coordinator, people.observer, small.station_101, POLLS_OPEN, POLLS_CLOSE
    )
    assert list(Assignment.objects.values_list("observer", "station")) == [
        (people.observer.pk, small.station_101.pk)
    ]
    remove_assignment(people.coordinator, assignment)
    assert not Assignment.objects.exists()
    entries = list(AuditEntry.objects.order_by("id"))
    assert [e.action for e in entries] == ["assignment.add", "assignment.remove"]
    assert entries[1].before is not None
    assert entries[1].before["station"] == small.station_101.pk
    assert entries[1].after is None


def test_a_coordinator_cannot_touch_another_organisations_assignments(
    small: SmallElection, people: People
) -> None:
    theirs = observer_in(people.other, "theirs")
    with pytest.raises(PermissionDenied):
        add_assignment(people.coordinator, theirs, small.station_101, POLLS_OPEN, POLLS_CLOSE)
    assert not Assignment.objects.exists()
    assignment = add_assignment(
        people.other_coordinator, theirs, small.station_101, POLLS_OPEN, POLLS_CLOSE
    )
    with pytest.raises(PermissionDenied):
        remove_assignment(people.coordinator, assignment)
    assert Assignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEntry.objects.count() == 1


@pytest.mark.parametrize("who", ["observer_user", "analyst", "data_clerk"])
def test_other_roles_cannot_assign(small: SmallElection, people: People, who: str) -> None:
    with pytest.raises(PermissionDenied):
        add_assignment(
            getattr(people, who), people.observer, small.station_101, POLLS_OPEN, POLLS_CLOSE
        )
    assert not Assignment.objects.exists()


def test_an_administrator_assigns_anyone(small: SmallElection, people: People) -> None:
    theirs = observer_in(people.other, "theirs")
    add_assignment(people.administrator, theirs, small.station_101, POLLS_OPEN, POLLS_CLOSE)
    assert Assignment.objects.count() == 1


def test_bad_windows_are_refused(small: SmallElection, people: People) -> None:
    def add(starts: datetime.datetime, ends: datetime.datetime) -> None:
        add_assignment(people.coordinator, people.observer, small.station_101, starts, ends)

    with pytest.raises(AssignmentError, match="must end after it starts"):
        add(POLLS_CLOSE, POLLS_OPEN)
    with pytest.raises(AssignmentError, match="must end after it starts"):
        add(POLLS_OPEN, POLLS_OPEN)
    with pytest.raises(AssignmentError, match="need a time zone"):
        add(POLLS_OPEN.replace(tzinfo=None), POLLS_CLOSE)
    add(POLLS_OPEN, POLLS_CLOSE)
    with pytest.raises(AssignmentError, match="already assigned to polling station 101"):
        add(POLLS_OPEN, POLLS_CLOSE)
    assert Assignment.objects.count() == 1
    assert AuditEntry.objects.count() == 1
