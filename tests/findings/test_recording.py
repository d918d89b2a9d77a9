"""Recording computed findings: upsert by fingerprint, resolve the vanished, keep the status."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User

from pollwatch.findings.computed import ComputedFinding
from pollwatch.findings.lifecycle import change_finding_status
from pollwatch.findings.models import Finding, FindingStatus
from pollwatch.findings.recording import RecordingCounts, RecordingError, Scope, record_findings
from tests.findings.conftest import at_commission, at_station
from tests.web.factories import SmallElection

T0 = datetime.datetime(2026, 3, 15, 20, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=5)
T2 = T0 + datetime.timedelta(minutes=10)


def _counts(**given: int) -> RecordingCounts:
    base = {"new": 0, "updated": 0, "unchanged": 0, "reappeared": 0, "resolved": 0}
    return RecordingCounts(**{**base, **given})


def _computed(small: SmallElection) -> list[ComputedFinding]:
    return [
        at_station(small.station_101.pk, "yes", 7),
        at_station(small.station_101.pk, "no", -7),
        at_station(small.station_102.pk, "yes", -3),
        at_commission(small.kokshetau.pk, "yes", 100),
    ]


def _stored(small: SmallElection) -> dict[str, tuple[object, ...]]:
    rows = Finding.objects.filter(election=small.election).values_list(
        "fingerprint", "delta", "status", "present", "resolved_at"
    )
    return {fingerprint: tuple(rest) for fingerprint, *rest in rows}


def test_first_recording_writes_every_column(small: SmallElection) -> None:
    computed = _computed(small)
    counts = record_findings(small.election, Scope.election(), computed, now=T0)
    assert counts == _counts(new=4)
    row = Finding.objects.get(fingerprint=computed[1].fingerprint)
    assert (row.kind, row.severity, row.station, row.commission) == (
        "copies-disagree",
        "error",
        small.station_101,
        None,
    )
    assert (row.lines, row.relation, row.detail) == (["no"], "", {"copies": 2, "organisations": 2})
    assert (row.left_value, row.right_value, row.delta, row.magnitude) == (93, 100, -7, 7)
    assert (row.status, row.present, row.resolved_at) == (FindingStatus.OPEN, True, None)
    assert row.first_seen == row.last_changed == T0
    total = Finding.objects.get(commission=small.kokshetau)
    assert (total.station, total.lines, total.detail, total.magnitude) == (None, ["yes"], {}, 100)


def test_recording_the_same_findings_again_changes_nothing(small: SmallElection) -> None:
    record_findings(small.election, Scope.election(), _computed(small), now=T0)
    before = list(Finding.objects.order_by("pk").values())
    counts = record_findings(small.election, Scope.election(), _computed(small), now=T1)
    assert counts == _counts(unchanged=4)
    assert list(Finding.objects.order_by("pk").values()) == before


def test_changed_values_update_the_row_and_keep_its_status(
    small: SmallElection, analyst: User
) -> None:
    computed = _computed(small)
    record_findings(small.election, Scope.election(), computed, now=T0)
    finding = Finding.objects.get(fingerprint=computed[0].fingerprint)
    change_finding_status(analyst, finding, FindingStatus.UNDER_VERIFICATION)

    computed[0] = at_station(small.station_101.pk, "yes", 9)
    counts = record_findings(small.election, Scope.election(), computed, now=T1)
    assert counts == _counts(updated=1, unchanged=3)
    finding.refresh_from_db()
    assert (finding.delta, finding.magnitude, finding.left_value) == (9, 9, 109)
    assert finding.status == FindingStatus.UNDER_VERIFICATION
    assert (finding.first_seen, finding.last_changed) == (T0, T1)
    assert Finding.objects.count() == 4


def test_a_vanished_finding_is_resolved_and_on_return_keeps_its_status(
    small: SmallElection, analyst: User
) -> None:
    computed = _computed(small)
    record_findings(small.election, Scope.election(), computed, now=T0)
    vanishing = Finding.objects.get(fingerprint=computed[2].fingerprint)
    change_finding_status(analyst, vanishing, FindingStatus.UNDER_VERIFICATION)
    change_finding_status(analyst, vanishing, FindingStatus.CONFIRMED)

    counts = record_findings(small.election, Scope.election(), computed[:2] + computed[3:], now=T1)
    assert counts == _counts(unchanged=3, resolved=1)
    vanishing.refresh_from_db()
    assert (vanishing.present, vanishing.resolved_at, vanishing.status) == (
        False,
        T1,
        FindingStatus.CONFIRMED,
    )
    assert Finding.objects.count() == 4  # resolved, never deleted

    # Still gone: resolving again would move resolved_at; it must not.
    counts = record_findings(small.election, Scope.election(), computed[:2] + computed[3:], now=T2)
    assert counts == _counts(unchanged=3)
    vanishing.refresh_from_db()
    assert vanishing.resolved_at == T1

    computed[2] = at_station(small.station_102.pk, "yes", -5)  # back, with a new value
    counts = record_findings(small.election, Scope.election(), computed, now=T2)
    assert counts == _counts(unchanged=3, reappeared=1)
    vanishing.refresh_from_db()
    assert (vanishing.present, vanishing.resolved_at, vanishing.delta) == (True, None, -5)
    assert vanishing.status == FindingStatus.CONFIRMED
    assert (vanishing.first_seen, vanishing.last_changed) == (T0, T2)
    assert Finding.objects.count() == 4


def test_a_station_recording_leaves_other_stations_and_commissions_alone(
    small: SmallElection,
) -> None:
    computed = _computed(small)
    record_findings(small.election, Scope.election(), computed, now=T0)
    station = small.station_101.pk
    # A new copy at station 101: "no" now agrees, a new line disagrees.
    fresh = [computed[0], at_station(station, "invalid", 2)]
    counts = record_findings(small.election, Scope.station(station), fresh, now=T1)
    assert counts == _counts(new=1, unchanged=1, resolved=1)
    stored = _stored(small)
    assert stored[computed[1].fingerprint][2:] == (False, T1)  # station 101's "no": resolved
    assert stored[computed[2].fingerprint][2:] == (True, None)  # station 102: untouched
    assert stored[computed[3].fingerprint][2:] == (True, None)  # the commission: untouched
    assert len(stored) == 5

    counts = record_findings(small.election, Scope.station(station), [], now=T2)
    assert counts == _counts(resolved=2)
    assert Finding.objects.filter(present=True).count() == 2


def test_a_recording_of_several_stations_covers_them_and_nothing_else(
    small: SmallElection,
) -> None:
    computed = _computed(small)
    record_findings(small.election, Scope.election(), computed, now=T0)
    both = Scope.stations([small.station_102.pk, small.station_101.pk, small.station_102.pk])
    assert both.station_ids == tuple(sorted({small.station_101.pk, small.station_102.pk}))
    counts = record_findings(small.election, both, [computed[0]], now=T1)
    assert counts == _counts(unchanged=1, resolved=2)  # 101's "no" and 102's line resolved
    stored = _stored(small)
    assert stored[computed[3].fingerprint][2:] == (True, None)  # the commission: untouched


@pytest.mark.parametrize("stations", [(), (2, 1), (1, 1)])
def test_a_scope_names_distinct_stations_in_order(stations: tuple[int, ...]) -> None:
    with pytest.raises(RecordingError, match="distinct, sorted, at least one"):
        Scope(kinds=frozenset({"copies-disagree"}), station_ids=stations)


def test_a_recording_resolves_only_its_own_kinds(small: SmallElection) -> None:
    silent = ComputedFinding(
        fingerprint=f"silent-change|station:{small.station_102.pk}|line:yes",
        kind="silent-change",
        severity="error",
        station_id=small.station_102.pk,
        commission_id=None,
        lines=("yes",),
        left=420,
        right=400,
        delta=20,
        detail={"snapshots": [1, 2]},
    )
    silent_scope = Scope.election(frozenset({"silent-change"}))
    assert record_findings(small.election, silent_scope, [silent], now=T0) == _counts(new=1)
    # The cross-check finds nothing any more: its findings go, the silent change stays.
    record_findings(small.election, Scope.election(), _computed(small), now=T0)
    counts = record_findings(small.election, Scope.election(), [], now=T1)
    assert counts == _counts(resolved=4)
    assert _stored(small)[silent.fingerprint][2:] == (True, None)


@pytest.mark.parametrize(
    ("scope", "error"),
    [
        (lambda s: Scope.station(s.station_102.pk), "1 findings lie outside"),
        (lambda s: Scope.election(frozenset({"missing-copy"})), "3 findings lie outside"),
    ],
)
def test_findings_outside_the_scope_are_refused_and_nothing_is_written(
    small: SmallElection, scope: object, error: str
) -> None:
    computed = [
        at_station(small.station_101.pk, "yes", 7),
        at_station(small.station_102.pk, "yes", 7),
        at_station(small.station_102.pk, "no", 7),
    ]
    record_findings(small.election, Scope.election(), computed[1:], now=T0)
    with pytest.raises(RecordingError, match=error):
        record_findings(small.election, scope(small), computed, now=T1)  # type: ignore[operator]
    assert Finding.objects.count() == 2


def test_repeated_fingerprints_and_unknown_kinds_are_refused(small: SmallElection) -> None:
    twice = at_station(small.station_101.pk, "yes", 7)
    with pytest.raises(RecordingError, match="computed more than once"):
        record_findings(small.election, Scope.election(), [twice, twice])
    odd = at_station(small.station_101.pk, "yes", 7, kind="gut-feeling")
    with pytest.raises(RecordingError, match=r"unknown kinds or severities \['gut-feeling'\]"):
        record_findings(small.election, Scope(kinds=frozenset({"gut-feeling"})), [odd])
    assert not Finding.objects.exists()


def test_a_station_of_another_election_is_refused(small: SmallElection) -> None:
    from tests.web.factories import build_small_election

    other = build_small_election("other-referendum")
    station = other.station_101.pk
    with pytest.raises(RecordingError, match="not in election 'test-referendum'"):
        record_findings(small.election, Scope.station(station), [at_station(station, "yes", 1)])
    both = Scope.stations([small.station_101.pk, station])
    with pytest.raises(RecordingError, match=f"stations {station} are not in election"):
        record_findings(small.election, both, [at_station(station, "yes", 1)])
    assert not Finding.objects.exists()


def test_the_first_recording_and_a_later_insert_write_the_same_row(small: SmallElection) -> None:
    """The election's first recording copies rows straight in; later ones merge via staging."""
    columns = [f.name for f in Finding._meta.fields if f.name not in ("id", "election")]
    computed = _computed(small)
    record_findings(small.election, Scope.election(), computed, now=T0)
    direct = list(Finding.objects.order_by("fingerprint").values(*columns))
    Finding.objects.all().delete()
    record_findings(small.election, Scope.election(), computed[:1], now=T0)
    counts = record_findings(small.election, Scope.election(), computed, now=T0)
    assert counts == _counts(new=3, unchanged=1)
    assert list(Finding.objects.order_by("fingerprint").values(*columns)) == direct


@pytest.mark.parametrize(
    "detail",
    [{}, {"copy": 9002, "copies": 1, "organisations": 1}, {'é"\\': -3}, {"n": True, "a": [1]}],
)
def test_details_are_spelled_one_way(detail: dict[str, object]) -> None:
    """SQLite compares stored JSON as text: the fast spelling must be the canonical one."""
    from pollwatch.findings.recording import _json, _json_detail

    assert _json_detail(detail) == _json(detail)


@pytest.mark.parametrize("first", [True, False], ids=["first recording", "later recording"])
def test_places_of_another_election_are_refused_and_nothing_is_written(
    small: SmallElection, first: bool
) -> None:
    from tests.web.factories import build_small_election

    other = build_small_election("other-referendum")
    record_findings(other.election, Scope.election(), [at_station(other.station_102.pk, "no", 1)])
    if not first:
        record_findings(small.election, Scope.election(), _computed(small), now=T0)
    before = _stored(small)
    for foreign, what in (
        (at_station(other.station_101.pk, "yes", 7), "pollingstation"),
        (at_commission(other.kokshetau.pk, "yes", 7), "commission"),
    ):
        with pytest.raises(RecordingError, match=f"names {what} .* another election"):
            record_findings(small.election, Scope.election(), [*_computed(small), foreign], now=T1)
        assert _stored(small) == before
    assert Finding.objects.filter(election=other.election).count() == 1
