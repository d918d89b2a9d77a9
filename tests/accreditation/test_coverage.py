"""Coverage per region: the regions are the commissions below a single central root."""

from __future__ import annotations

import pytest

from pollwatch.accreditation.coverage import Scope, coverage, missing_stations, regions
from pollwatch.registry.models import Commission
from tests.accreditation.conftest import People, assign, copy_by, observer_in
from tests.web.factories import SmallElection

pytestmark = pytest.mark.django_db


def test_regions_are_the_roots_when_there_are_several(small: SmallElection) -> None:
    assert [r.code for r in regions(small.election)] == ["01", "02"]


def test_regions_are_below_a_single_central_commission(
    small: SmallElection, people: People
) -> None:
    central = Commission.objects.create(
        election=small.election, code="00", name="Central", level="central", station_count=5
    )
    Commission.objects.filter(pk__in=[small.akmola.pk, small.almaty.pk]).update(parent=central)
    assert [r.code for r in regions(small.election)] == ["01", "02"]
    second = observer_in(people.own, "obs-2")
    assign(people.observer, small.station_101)
    assign(second, small.station_102)
    assign(second, small.almaty_101)
    copy_by(second, small.almaty_101)
    rows = {
        r.region.code: (r.stations, r.assigned, r.reported) for r in coverage(Scope(small.election))
    }
    assert rows == {"01": (3, 2, 0), "02": (2, 1, 1)}
    missing = list(missing_stations(Scope(small.election)))
    assert [(m.code, m.region, [o.code for o in m.observers]) for m in missing] == [
        ("0101101", "Akmola Region", ["obs-1"]),
        ("0101102", "Akmola Region", ["obs-2"]),
    ]


def test_a_copy_by_someone_not_assigned_there_does_not_count(
    small: SmallElection, people: People
) -> None:
    colleague = observer_in(people.own, "obs-2")
    assign(people.observer, small.station_101)
    copy_by(colleague, small.station_101)  # not assigned to 101
    (akmola, _almaty) = coverage(Scope(small.election))
    assert (akmola.assigned, akmola.reported, akmola.missing) == (1, 0, 1)


def test_a_station_with_two_observers_reports_when_either_does(
    small: SmallElection, people: People
) -> None:
    theirs = observer_in(people.other, "theirs")
    assign(people.observer, small.station_101)
    assign(theirs, small.station_101)
    copy_by(theirs, small.station_101)
    everyone = coverage(Scope(small.election))[0]
    assert (everyone.assigned, everyone.reported) == (1, 1)
    # Seen from the own organisation alone, its observer has not reported.
    own = coverage(Scope(small.election, organisation_ids=[people.own.pk]))[0]
    assert (own.assigned, own.reported) == (1, 0)
