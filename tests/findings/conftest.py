"""A small election in the database, analysts and observers, and computed findings to record."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from pollwatch.accounts.roles import Role, grant_role
from pollwatch.findings.computed import ComputedFinding
from tests.web.factories import SmallElection, build_small_election


@pytest.fixture
def small(db: None) -> SmallElection:
    return build_small_election()


@pytest.fixture
def analyst(db: None) -> User:
    user = User.objects.create_user("analyst", password="not-used-here")
    grant_role(user, Role.ANALYST)
    return user


@pytest.fixture
def observer(db: None) -> User:
    user = User.objects.create_user("observer", password="not-used-here")
    grant_role(user, Role.OBSERVER)
    return user


def at_station(
    station_id: int, line: str, delta: int, kind: str = "copies-disagree"
) -> ComputedFinding:
    """A line finding at a station: left = 100 + delta against right = 100."""
    return ComputedFinding(
        fingerprint=f"{kind}|station:{station_id}|line:{line}",
        kind=kind,
        severity="error",
        station_id=station_id,
        commission_id=None,
        lines=(line,),
        left=100 + delta,
        right=100,
        delta=delta,
        detail={"copies": 2, "organisations": 2},
    )


def at_commission(commission_id: int, line: str, delta: int) -> ComputedFinding:
    kind = "total-differs-from-children"
    return ComputedFinding(
        fingerprint=f"{kind}|commission:{commission_id}|line:{line}",
        kind=kind,
        severity="error",
        station_id=None,
        commission_id=commission_id,
        lines=(line,),
        left=1000 + delta,
        right=1000,
        delta=delta,
    )
