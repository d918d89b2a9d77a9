"""Organisations, people in every role, accreditations and assignments on a small election."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from pollwatch.accounts.roles import Role, grant_role
from pollwatch.accreditation.models import (
    Accreditation,
    Assignment,
    Membership,
    Observer,
    Organisation,
)
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.registry.models import Election, PollingStation
from tests.web.factories import SmallElection, build_small_election

# Election day of the small election, in UTC: the polls run 08:00-20:00.
POLLS_OPEN = datetime.datetime(2026, 3, 15, 2, 0, tzinfo=datetime.UTC)
POLLS_CLOSE = datetime.datetime(2026, 3, 15, 14, 0, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class People:
    """An organisation (`own`) with a coordinator and an observer, a second organisation
    (`other`) with its own coordinator, and the mission's staff."""

    own: Organisation
    other: Organisation
    coordinator: User
    other_coordinator: User
    observer_user: User
    observer: Observer
    analyst: User
    data_clerk: User
    administrator: User


def organisation(code: str, *, mission: bool = False, others: bool = False) -> Organisation:
    return Organisation.objects.create(
        code=code,
        name=code.replace("-", " ").title(),
        kind=Organisation.Kind.NGO,
        share_with_mission=mission,
        share_with_organisations=others,
    )


def user_with_role(username: str, role: Role, organisation: Organisation | None = None) -> User:
    user = User.objects.create_user(username, password="correct horse battery")
    grant_role(user, role)
    if organisation is not None:
        Membership.objects.create(user=user, organisation=organisation)
    return user


def observer_in(organisation: Organisation, code: str, user: User | None = None) -> Observer:
    return Observer.objects.create(
        organisation=organisation,
        code=code,
        full_name=f"Observer {code}",
        contact=f"{code}@example.org",
        languages=["kk", "ru"],
        user=user,
    )


def accredit(observer: Observer, election: Election, status: str = "accredited") -> Accreditation:
    return Accreditation.objects.create(
        observer=observer,
        election=election,
        status=status,
        number=f"A-{observer.code}" if status != "pending" else "",
        requested_at=timezone.now(),
    )


def assign(
    observer: Observer,
    station: PollingStation,
    starts_at: datetime.datetime = POLLS_OPEN,
    ends_at: datetime.datetime = POLLS_CLOSE,
) -> Assignment:
    return Assignment.objects.create(
        observer=observer, station=station, starts_at=starts_at, ends_at=ends_at
    )


def copy_by(observer: Observer, station: PollingStation) -> ProtocolCopy:
    return ProtocolCopy.objects.create(
        election=station.election,
        station=station,
        observer=observer,
        organisation=observer.organisation,
        figures={"registered": 100},
        all_members_signed=True,
        certified=True,
        body_sha256="0" * 64,
        received_at=timezone.now(),
    )


@pytest.fixture
def small(db: None) -> SmallElection:
    return build_small_election()


@pytest.fixture
def people(db: None) -> People:
    own = organisation("golos-kz")
    other = organisation("other-watch")
    observer_user = user_with_role("observer", Role.OBSERVER, own)
    return People(
        own=own,
        other=other,
        coordinator=user_with_role("coordinator", Role.COORDINATOR, own),
        other_coordinator=user_with_role("other-coordinator", Role.COORDINATOR, other),
        observer_user=observer_user,
        observer=observer_in(own, "obs-1", observer_user),
        analyst=user_with_role("analyst", Role.ANALYST),
        data_clerk=user_with_role("clerk", Role.DATA_CLERK),
        administrator=user_with_role("admin", Role.ADMINISTRATOR),
    )
