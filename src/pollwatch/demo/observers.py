"""The demo's observer and coordinator accounts, given a place among the synthetic observers.

The demo observer becomes one of the synthetic observers who were assigned to a station and
handed nothing in (a missing-copy finding), with an assignment open from now for a month, so
that signing in as them one can submit that copy and watch the finding resolve. The demo
coordinator coordinates the same organisation.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from pollwatch.accounts.roles import Role
from pollwatch.accreditation.models import Assignment, Membership, Observer
from pollwatch.demo.accounts import DEMO_USERNAMES
from pollwatch.findings.models import Finding, FindingKind
from pollwatch.registry.models import Election, PollingStation

# How long the demo observer's own assignment stays open.
DEMO_WINDOW = datetime.timedelta(days=30)


@dataclass(frozen=True)
class DemoObserver:
    observer: Observer
    station: PollingStation


@transaction.atomic
def link_demo_accounts(election: Election) -> DemoObserver | None:
    """Link the demo observer and coordinator accounts (idempotent); None if the election
    has no station whose copy is missing."""
    users = get_user_model().objects
    observer_user = users.get(username=DEMO_USERNAMES[Role.OBSERVER])
    coordinator = users.get(username=DEMO_USERNAMES[Role.COORDINATOR])
    observer = Observer.objects.filter(user=observer_user).first()
    if observer is None:
        missing = (
            Finding.objects.filter(election=election, kind=FindingKind.MISSING_COPY)
            .order_by("station__code")
            .values_list("station_id", flat=True)
            .first()
        )
        assigned = Assignment.objects.filter(station_id=missing).select_related("observer")
        first = assigned.order_by("observer__code").first()
        if first is None:
            return None
        observer = first.observer
        observer.user = observer_user
        observer.save(update_fields=["user"])
        now = timezone.now()
        Assignment.objects.create(
            observer=observer,
            station_id=first.station_id,
            starts_at=now - datetime.timedelta(hours=1),
            ends_at=now + DEMO_WINDOW,
        )
    for user in (observer_user, coordinator):
        Membership.objects.update_or_create(
            user=user, defaults={"organisation_id": observer.organisation_id}
        )
    station = (
        Assignment.objects.filter(observer=observer, station__election=election)
        .order_by("-ends_at")
        .select_related("station")
        .first()
    )
    assert station is not None
    return DemoObserver(observer, station.station)
