"""visible_copies and can_see_exif: each role against each sharing setting."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from pollwatch.accounts.roles import Role, grant_role
from pollwatch.accreditation.models import Organisation
from pollwatch.accreditation.sharing import can_see_exif, visible_copies
from pollwatch.protocols.models import ProtocolCopy
from tests.accreditation.conftest import (
    People,
    copy_by,
    observer_in,
    organisation,
    user_with_role,
)
from tests.web.factories import SmallElection

pytestmark = pytest.mark.django_db


@pytest.fixture
def copies(small: SmallElection, people: People) -> dict[str, ProtocolCopy]:
    """One copy from each kind of organisation: `own` shares nothing; the others share with
    the mission, with other organisations, with both."""
    mission = organisation("mission-sharer", mission=True)
    peers = organisation("peer-sharer", others=True)
    both = organisation("open-book", mission=True, others=True)
    return {
        "own": copy_by(people.observer, small.station_101),
        "other": copy_by(observer_in(people.other, "x"), small.station_101),
        "mission": copy_by(observer_in(mission, "m"), small.station_101),
        "peers": copy_by(observer_in(peers, "p"), small.station_101),
        "both": copy_by(observer_in(both, "b"), small.station_101),
    }


def _visible(user: User | AnonymousUser, copies: dict[str, ProtocolCopy]) -> set[str]:
    names = {copy.pk: name for name, copy in copies.items()}
    return {
        names[pk]
        for pk in visible_copies(user, ProtocolCopy.objects.all()).values_list("pk", flat=True)
    }


def test_mission_staff_see_what_is_shared_with_the_mission(
    people: People, copies: dict[str, ProtocolCopy]
) -> None:
    assert _visible(people.analyst, copies) == {"mission", "both"}
    assert _visible(people.administrator, copies) == {"mission", "both"}


def test_a_coordinator_sees_their_own_and_what_is_shared_with_organisations(
    people: People, copies: dict[str, ProtocolCopy]
) -> None:
    assert _visible(people.coordinator, copies) == {"own", "peers", "both"}
    assert _visible(people.other_coordinator, copies) == {"other", "peers", "both"}


def test_an_observer_sees_their_organisations_copies_and_shared_ones(
    people: People, copies: dict[str, ProtocolCopy]
) -> None:
    assert _visible(people.observer_user, copies) == {"own", "peers", "both"}


def test_an_observer_without_membership_belongs_to_their_observer_records_organisation(
    small: SmallElection, people: People, copies: dict[str, ProtocolCopy]
) -> None:
    user = User.objects.create_user("imported")
    grant_role(user, Role.OBSERVER)
    observer_in(people.other, "imported", user)
    assert _visible(user, copies) == {"other", "peers", "both"}


def test_nobody_else_sees_a_raw_copy(people: People, copies: dict[str, ProtocolCopy]) -> None:
    no_role = User.objects.create_user("nobody")
    assert _visible(AnonymousUser(), copies) == set()
    assert _visible(people.data_clerk, copies) == set()
    assert _visible(no_role, copies) == set()


def test_a_member_without_a_role_sees_nothing(
    people: People, copies: dict[str, ProtocolCopy]
) -> None:
    from pollwatch.accreditation.models import Membership

    member = User.objects.create_user("member-no-role")
    Membership.objects.create(user=member, organisation=people.own)
    assert _visible(member, copies) == set()


def test_roles_add_up(people: People, copies: dict[str, ProtocolCopy]) -> None:
    grant_role(people.coordinator, Role.ANALYST)
    assert _visible(people.coordinator, copies) == {"own", "peers", "mission", "both"}


def test_the_filter_keeps_the_callers_conditions(
    small: SmallElection, people: People, copies: dict[str, ProtocolCopy]
) -> None:
    at_102 = copy_by(people.observer, small.station_102)
    narrowed = visible_copies(
        people.coordinator, ProtocolCopy.objects.filter(station=small.station_102)
    )
    assert list(narrowed) == [at_102]


def test_changing_the_setting_takes_effect_at_once(
    people: People, copies: dict[str, ProtocolCopy]
) -> None:
    Organisation.objects.filter(pk=people.own.pk).update(share_with_mission=True)
    assert "own" in _visible(people.analyst, copies)


def test_exif_is_for_mission_staff_and_the_copys_own_coordinators(
    people: People, copies: dict[str, ProtocolCopy]
) -> None:
    assert can_see_exif(people.analyst)
    assert can_see_exif(people.administrator)
    assert can_see_exif(people.analyst, copies["own"])
    assert can_see_exif(people.coordinator, copies["own"])
    assert not can_see_exif(people.coordinator)  # no copy: no organisation to check
    assert not can_see_exif(people.coordinator, copies["peers"])  # shared, but not theirs
    assert not can_see_exif(people.other_coordinator, copies["own"])
    assert not can_see_exif(people.observer_user, copies["own"])
    assert not can_see_exif(people.data_clerk, copies["own"])
    assert not can_see_exif(AnonymousUser(), copies["own"])
    assert not can_see_exif(user_with_role("bare", Role.OBSERVER))
