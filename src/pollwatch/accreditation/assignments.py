"""Adding and removing an observer's assignments to stations — the only code that does."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from pollwatch.accounts.audit import record_action
from pollwatch.accreditation.models import Assignment, Observer
from pollwatch.accreditation.permissions import require_manager
from pollwatch.registry.models import PollingStation


class AssignmentError(ValueError):
    """An assignment that cannot be made (the message says why); nothing was changed."""


def assignment_state(assignment: Assignment) -> dict[str, Any]:
    return {
        "observer": assignment.observer_id,
        "station": assignment.station_id,
        "starts_at": assignment.starts_at.isoformat(),
        "ends_at": assignment.ends_at.isoformat(),
    }


@transaction.atomic
def add_assignment(
    actor: AbstractBaseUser,
    observer: Observer,
    station: PollingStation,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
) -> Assignment:
    """Assign `observer` to `station` from `starts_at` until `ends_at`."""
    require_manager(actor, observer.organisation)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise AssignmentError(_("The times of an assignment need a time zone."))
    if ends_at <= starts_at:
        raise AssignmentError(_("An assignment must end after it starts."))
    if Assignment.objects.filter(
        observer=observer, station=station, starts_at=starts_at, ends_at=ends_at
    ).exists():
        raise AssignmentError(
            _("%(observer)s is already assigned to polling station %(number)s at that time.")
            % {"observer": observer, "number": station.number}
        )
    assignment = Assignment.objects.create(
        observer=observer, station=station, starts_at=starts_at, ends_at=ends_at
    )
    record_action(actor, "assignment.add", assignment, None, assignment_state(assignment))
    return assignment


@transaction.atomic
def remove_assignment(actor: AbstractBaseUser, assignment: Assignment) -> None:
    """Remove an assignment; the observer's copies already submitted stay."""
    require_manager(actor, assignment.observer.organisation)
    before = assignment_state(assignment)
    record_action(actor, "assignment.remove", assignment, before, None)
    assignment.delete()
