"""A small referendum on the shipped Kazakh template, with observers of two organisations
assigned to its stations and people in every other role."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from pollwatch.accounts.roles import Role
from pollwatch.accreditation.models import Observer, Organisation
from pollwatch.protocols.submission import CopyInput, Submission, submit_copy
from pollwatch.registry.models import PollingStation
from pollwatch.registry.protocol_templates import load_shipped_template
from tests.accreditation.conftest import (
    POLLS_CLOSE,
    accredit,
    assign,
    observer_in,
    organisation,
    user_with_role,
)
from tests.web.factories import SmallElection, build_small_election

# An hour after the polls close: within every assignment's window plus the grace period.
COUNT_DONE = POLLS_CLOSE + datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Referendum:
    small: SmallElection
    own: Organisation  # shares with the mission, not with other organisations
    other: Organisation  # shares with nobody
    observer_user: User  # own organisation; assigned to station 101 and 102
    observer: Observer
    other_observer_user: User  # other organisation; assigned to station 101
    other_observer: Observer
    colleague_user: User  # own organisation; assigned to station 101 too
    unassigned_user: User  # own organisation, accredited, assigned nowhere
    coordinator: User  # own organisation
    other_coordinator: User
    analyst: User
    data_clerk: User
    administrator: User

    @property
    def station(self) -> PollingStation:
        return self.small.station_101


def figures(**changes: int) -> dict[str, object]:
    """A copy of station 101's protocol whose arithmetic holds, with ``changes`` applied."""
    base: dict[str, object] = {
        "registered": 1200,
        "ballots_received": 1200,
        "issued_in_station": 700,
        "issued_outside": 20,
        "cancelled": 480,
        "ballots_in_boxes": 720,
        "invalid": 10,
        "not_counted": 5,
        "yes": 500,
        "no": 205,
    }
    base.update(changes)
    return base


def submit(
    referendum: Referendum,
    user: User | None = None,
    *,
    copy_id: uuid.UUID | None = None,
    station: PollingStation | None = None,
    values: Mapping[str, object] | None = None,
    at: datetime.datetime = COUNT_DONE,
    group_commit: bool = False,
    **given: Any,
) -> Submission:
    """``submit_copy`` of a copy by ``user`` (the observer) at ``station`` (station 101) whose
    arithmetic holds, unless ``values`` says otherwise; ``given``: more CopyInput fields."""
    submitted = CopyInput(
        copy_id=copy_id or uuid.uuid4(),
        figures=figures() if values is None else values,
        all_members_signed=True,
        certified=True,
    )
    return submit_copy(
        user or referendum.observer_user,
        referendum.small.election,
        station or referendum.station,
        dataclasses.replace(submitted, **given),
        at=at,
        group_commit=group_commit,
    )


@pytest.fixture
def referendum(db: None) -> Referendum:
    small = build_small_election()
    small.election.template = load_shipped_template("kz-referendum")  # type: ignore[assignment]
    small.election.save(update_fields=["template"])
    own = organisation("golos-kz", mission=True)
    other = organisation("other-watch")
    people = {}
    for username, org, stations in [
        ("observer", own, [small.station_101, small.station_102]),
        ("other-observer", other, [small.station_101]),
        ("colleague", own, [small.station_101]),
        ("unassigned", own, []),
    ]:
        user = user_with_role(username, Role.OBSERVER, org)
        observer = observer_in(org, username, user)
        accredit(observer, small.election)
        for station in stations:
            assign(observer, station)
        people[username] = (user, observer)
    return Referendum(
        small=small,
        own=own,
        other=other,
        observer_user=people["observer"][0],
        observer=people["observer"][1],
        other_observer_user=people["other-observer"][0],
        other_observer=people["other-observer"][1],
        colleague_user=people["colleague"][0],
        unassigned_user=people["unassigned"][0],
        coordinator=user_with_role("coordinator", Role.COORDINATOR, own),
        other_coordinator=user_with_role("other-coordinator", Role.COORDINATOR, other),
        analyst=user_with_role("analyst", Role.ANALYST),
        data_clerk=user_with_role("clerk", Role.DATA_CLERK),
        administrator=user_with_role("admin", Role.ADMINISTRATOR),
    )


@pytest.fixture
def media_root(tmp_path: Path) -> Iterator[Path]:
    """Uploaded photos go to a temporary directory."""
    root = tmp_path / "media"
    with override_settings(MEDIA_ROOT=root):
        yield root
