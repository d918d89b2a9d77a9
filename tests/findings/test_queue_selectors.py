"""The findings queue's queries: filters, order, keyset pages at their boundaries, regions,
and who sees which findings."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from pollwatch.accounts.roles import Role, grant_role
from pollwatch.accreditation.models import Assignment, Membership, Observer, Organisation
from pollwatch.findings import selectors
from pollwatch.findings.models import Finding, FindingStatus
from pollwatch.findings.selectors import Cursor, CursorError, QueueFilters
from pollwatch.registry.models import Commission, Election, PollingStation
from tests.web.factories import SmallElection, build_small_election

_serial = itertools.count()


def make_finding(
    election: Election,
    *,
    station: PollingStation | None = None,
    commission: Commission | None = None,
    magnitude: int = 10,
    kind: str = Finding.Kind.COPY_DIFFERS_FROM_OFFICIAL,
    severity: str = "error",
    status: str = FindingStatus.OPEN,
    present: bool = True,
    line: str = "valid",
) -> Finding:
    """A finding as recording would leave it: left = 100 + magnitude against right = 100."""
    now = timezone.now()
    place = (
        f"station:{station.pk}" if station else f"commission:{commission.pk if commission else 0}"
    )
    return Finding.objects.create(
        election=election,
        fingerprint=f"{kind}|{place}|line:{line}|{next(_serial)}",
        kind=kind,
        severity=severity,
        station=station,
        commission=commission,
        lines=[line],
        left_value=100 + magnitude,
        right_value=100,
        delta=magnitude,
        magnitude=magnitude,
        status=status,
        present=present,
        resolved_at=None if present else now,
        first_seen=now,
        last_changed=now,
    )


ANY = QueueFilters()


def _page(findings: Any, filters: QueueFilters = ANY, **kwargs: Any) -> list[int]:
    return [finding.pk for finding in selectors.queue_page(findings, filters, **kwargs).findings]


def _all_pages(findings: Any, filters: QueueFilters, size: int) -> list[list[int]]:
    pages, after = [], None
    while True:
        page = selectors.queue_page(findings, filters, after, size=size)
        pages.append([finding.pk for finding in page.findings])
        if page.next_cursor is None:
            return pages
        after = page.next_cursor


@pytest.fixture
def small(db: None) -> SmallElection:
    return build_small_election()


def _all(small: SmallElection) -> Any:
    return Finding.objects.filter(election=small.election)


def test_largest_difference_first_across_statuses_ties_by_newest_id(small: SmallElection) -> None:
    station = small.station_101
    make = make_finding
    a = make(small.election, station=station, magnitude=5, status=FindingStatus.CONFIRMED)
    b = make(small.election, station=station, magnitude=50, status=FindingStatus.OPEN)
    c = make(small.election, station=station, magnitude=5, status=FindingStatus.OPEN)
    d = make(small.election, station=station, magnitude=500, status=FindingStatus.DISMISSED)
    e = make(small.election, station=station, magnitude=0, kind=Finding.Kind.MISSING_COPY)
    assert _page(_all(small)) == [d.pk, b.pk, c.pk, a.pk, e.pk]


@pytest.mark.parametrize("count", [0, 1, 3, 4, 5, 12])
def test_keyset_pages_cover_every_finding_once_at_the_boundaries(
    small: SmallElection, count: int
) -> None:
    # Many ties (magnitudes 0..2) and every status: page boundaries fall inside tie groups.
    statuses = FindingStatus.values
    for n in range(count):
        make_finding(
            small.election, station=small.station_101, magnitude=n % 3, status=statuses[n % 5]
        )
    expected = _page(_all(small), size=1000)
    assert len(expected) == count
    pages = _all_pages(_all(small), QueueFilters(), size=4)
    assert [pk for page in pages for pk in page] == expected
    # A full last page says there is no next one; no page is empty unless the queue is.
    assert len(pages) == max(1, -(-count // 4))
    assert all(len(page) == 4 for page in pages[:-1])
    if count:
        assert pages[-1]


def test_next_cursor_is_the_last_row_shown(small: SmallElection) -> None:
    findings = [
        make_finding(small.election, magnitude=m, station=small.station_101) for m in (9, 8)
    ]
    page = selectors.queue_page(_all(small), QueueFilters(), size=1)
    assert page.next_cursor == Cursor(9, findings[0].pk)
    rest = selectors.queue_page(_all(small), QueueFilters(), page.next_cursor, size=1)
    assert [f.pk for f in rest.findings] == [findings[1].pk] and rest.next_cursor is None


def test_filters_by_kind_severity_status(small: SmallElection) -> None:
    election, station = small.election, small.station_101
    copies = make_finding(election, station=station, kind=Finding.Kind.COPIES_DISAGREE)
    warning = make_finding(
        election, station=station, kind=Finding.Kind.MISSING_COPY, severity="warning"
    )
    dismissed = make_finding(election, station=station, status=FindingStatus.DISMISSED)
    open_ = make_finding(election, station=station)
    findings = _all(small)
    assert _page(findings, QueueFilters(kind=Finding.Kind.COPIES_DISAGREE)) == [copies.pk]
    assert _page(findings, QueueFilters(severity="warning")) == [warning.pk]
    assert _page(findings, QueueFilters(status=FindingStatus.DISMISSED)) == [dismissed.pk]
    assert set(_page(findings, QueueFilters(status=FindingStatus.OPEN))) == {
        copies.pk,
        warning.pk,
        open_.pk,
    }
    assert _page(findings, QueueFilters(kind=Finding.Kind.MISSING_COPY, severity="error")) == []


def test_severity_reads_the_kinds_that_can_have_it(small: SmallElection) -> None:
    election, station = small.election, small.station_101
    warn = {"severity": "warning", "station": station}
    missing = make_finding(election, kind=Finding.Kind.MISSING_COPY, magnitude=0, **warn)
    relation = make_finding(election, kind=Finding.Kind.RELATION_BROKEN_ON_COPY, magnitude=4,
                            status=FindingStatus.CONFIRMED, **warn)  # fmt: skip
    anomaly = make_finding(election, kind=Finding.Kind.STATISTICAL_ANOMALY, magnitude=2, **warn)
    relation_error = make_finding(election, station=station, magnitude=3,
                                  kind=Finding.Kind.RELATION_BROKEN_ON_COPY)  # fmt: skip
    error = make_finding(election, station=station, magnitude=1)
    resolved = make_finding(election, kind=Finding.Kind.MISSING_COPY, present=False, **warn)
    findings = _all(small)
    assert _page(findings, QueueFilters(severity="warning")) == [
        relation.pk,
        anomaly.pk,
        missing.pk,
    ]
    assert _page(findings, QueueFilters(severity="error")) == [relation_error.pk, error.pk]
    both = QueueFilters(severity="warning", kind=Finding.Kind.RELATION_BROKEN_ON_COPY)
    assert _page(findings, both) == [relation.pk]
    with_resolved = QueueFilters(severity="warning", status="open", include_resolved=True)
    assert set(_page(findings, with_resolved)) == {anomaly.pk, missing.pk, resolved.pk}

    # Given the election, a broken relation is read only if one of its template's relations
    # has the severity asked for.
    template = election.template
    template.relations = [{"expression": "a == b", "severity": "error", "description": {}}]
    warnings = QueueFilters(severity="warning")
    assert _page(findings, warnings, election=election) == [anomaly.pk, missing.pk]
    template.relations.append({"expression": "a <= b", "severity": "warning", "description": {}})
    assert _page(findings, warnings, election=election) == [relation.pk, anomaly.pk, missing.pk]


def test_resolved_findings_only_when_asked(small: SmallElection) -> None:
    present = make_finding(small.election, station=small.station_101, magnitude=1)
    resolved = make_finding(small.election, station=small.station_101, magnitude=2, present=False)
    assert _page(_all(small)) == [present.pk]
    assert _page(_all(small), QueueFilters(include_resolved=True)) == [resolved.pk, present.pk]
    confirmed_resolved = make_finding(
        small.election, station=small.station_102, status=FindingStatus.CONFIRMED, present=False
    )
    only_confirmed = QueueFilters(status=FindingStatus.CONFIRMED, include_resolved=True)
    assert _page(_all(small), only_confirmed) == [confirmed_resolved.pk]


def test_region_covers_its_stations_and_commissions_at_every_depth(small: SmallElection) -> None:
    election = small.election
    # A third level under Kokshetau, with a station of its own.
    ward = Commission.objects.create(
        election=election, code="01-01-01", name="Ward", level="ward", depth=2,
        parent=small.kokshetau,
    )  # fmt: skip
    deep = PollingStation.objects.create(
        election=election, commission=ward, code="deep", number="999", registered_voters=10
    )
    inside = [
        make_finding(election, station=small.station_101, magnitude=1),
        make_finding(election, station=deep, magnitude=2),
        make_finding(election, commission=small.kokshetau, magnitude=3,
                     kind=Finding.Kind.TOTAL_DIFFERS_FROM_CHILDREN),
        make_finding(election, commission=small.akmola, magnitude=4,
                     kind=Finding.Kind.TOTAL_DIFFERS_FROM_CHILDREN),
        make_finding(election, commission=ward, magnitude=5,
                     kind=Finding.Kind.TOTAL_DIFFERS_FROM_CHILDREN),
    ]  # fmt: skip
    outside = [
        make_finding(election, station=small.almaty_101, magnitude=6),
        make_finding(election, commission=small.almaty, magnitude=7,
                     kind=Finding.Kind.TOTAL_DIFFERS_FROM_CHILDREN),
    ]  # fmt: skip
    in_akmola = _page(_all(small), QueueFilters(region=small.akmola))
    assert in_akmola == [finding.pk for finding in reversed(inside)]
    in_almaty = _page(_all(small), QueueFilters(region=small.almaty))
    assert in_almaty == [finding.pk for finding in reversed(outside)]


def test_regions_are_the_top_level_or_below_a_single_central_commission(
    small: SmallElection,
) -> None:
    assert selectors.regions(small.election) == [small.akmola, small.almaty]
    other = build_small_election("central")
    central = Commission.objects.create(
        election=other.election, code="00", name="Central", level="central"
    )
    Commission.objects.filter(pk__in=[other.akmola.pk, other.almaty.pk]).update(parent=central)
    assert [region.pk for region in selectors.regions(other.election)] == [
        other.akmola.pk,
        other.almaty.pk,
    ]


def test_each_election_sees_only_its_findings(small: SmallElection) -> None:
    other = build_small_election("other")
    mine = make_finding(small.election, station=small.station_101)
    make_finding(other.election, station=other.station_101)
    analyst = User.objects.create_user("a")
    grant_role(analyst, Role.ANALYST)
    visible = selectors.findings_visible_to(analyst, small.election)
    assert _page(visible) == [mine.pk]


def _user(name: str, *roles: Role) -> User:
    user = User.objects.create_user(name)
    for role in roles:
        grant_role(user, role)
    return user


def test_who_sees_which_findings(small: SmallElection) -> None:
    election = small.election
    at_101 = make_finding(election, station=small.station_101, magnitude=3)
    at_102 = make_finding(election, station=small.station_102, magnitude=2)
    at_commission = make_finding(
        election,
        commission=small.akmola,
        magnitude=1,
        kind=Finding.Kind.TOTAL_DIFFERS_FROM_CHILDREN,
    )
    everything = [at_101.pk, at_102.pk, at_commission.pk]

    organisation = Organisation.objects.create(
        code="watch", name="Watch", kind="ngo", share_with_mission=True
    )
    rival = Organisation.objects.create(
        code="rival", name="Rival", kind="ngo", share_with_mission=True
    )
    start = timezone.now()
    for org, station in [(organisation, small.station_101), (rival, small.station_102)]:
        observer = Observer.objects.create(organisation=org, code=f"o-{org.code}", full_name="O")
        Assignment.objects.create(
            observer=observer,
            station=station,
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=1),
        )
    coordinator = _user("coordinator", Role.COORDINATOR)
    Membership.objects.create(user=coordinator, organisation=organisation)
    lone_coordinator = _user("lone", Role.COORDINATOR)  # no organisation: nothing to follow
    superuser = User.objects.create_superuser("root")

    expected: dict[Any, list[int]] = {
        _user("analyst", Role.ANALYST): everything,
        _user("administrator", Role.ADMINISTRATOR): everything,
        superuser: everything,
        coordinator: [at_101.pk],
        lone_coordinator: [],
        _user("observer", Role.OBSERVER): [],
        _user("clerk", Role.DATA_CLERK): [],
        _user("nobody"): [],
        AnonymousUser(): [],
    }
    for user, visible in expected.items():
        assert _page(selectors.findings_visible_to(user, election)) == visible, user
    assert {user.username for user in expected if selectors.may_see_queue(user)} == {
        "analyst",
        "administrator",
        "root",
        "coordinator",
        "lone",
    }


@pytest.mark.parametrize("text", ["", "12", "12-", "-3", "a-1", "1-2-3", "1.5-2", " 1-2", "1-2\n"])
def test_cursor_refuses_anything_but_magnitude_dash_id(text: str) -> None:
    with pytest.raises(CursorError):
        Cursor.parse(text)


def test_cursor_round_trips() -> None:
    assert Cursor.parse(str(Cursor(120, 4567))) == Cursor(120, 4567)
