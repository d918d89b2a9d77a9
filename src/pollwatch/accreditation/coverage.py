"""Coverage: which stations have an assigned observer, and which of those have reported.

A station is *assigned* when at least one observer (of the organisations looked at) has an
assignment there in the election, and *reported* when one of its assigned observers has
submitted a protocol copy for it; assigned but not reported is *missing* — the list a
coordinator phones through on election night. Counts are per region: the top-level commissions
below the root (the children of a single central commission, or the roots themselves when the
file has no central level).

One query reads every assignment in scope with whether its observer has a copy for the station;
stations are mapped to their regions through the commission tree, read once. A station's total
comes from the counters the structure import keeps on each commission.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from pollwatch.accreditation.models import Assignment
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.registry.models import Commission, Election


@dataclass(frozen=True)
class RegionCoverage:
    region: Commission
    stations: int
    assigned: int  # stations with at least one assigned observer
    reported: int  # assigned stations for which an assigned observer has submitted a copy

    @property
    def unassigned(self) -> int:
        return self.stations - self.assigned

    @property
    def missing(self) -> int:
        return self.assigned - self.reported


@dataclass(frozen=True)
class AssignedObserver:
    organisation: str
    code: str
    full_name: str
    contact: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime


@dataclass(frozen=True)
class MissingStation:
    """An assigned station none of whose assigned observers has submitted a copy."""

    station_id: int
    code: str
    number: str
    region: str
    commission: str
    observers: list[AssignedObserver] = field(default_factory=list)


@dataclass(frozen=True)
class Scope:
    """What a coverage view looks at: an election, optionally some organisations and one
    region (a commission id among `regions(election)`)."""

    election: Election
    organisation_ids: Sequence[int] | None = None  # None: every organisation
    region_id: int | None = None


def regions(election: Election) -> list[Commission]:
    """The top-level commissions below the root, by code."""
    roots = list(Commission.objects.filter(election=election, parent=None).order_by("code"))
    if len(roots) == 1:
        children = list(
            Commission.objects.filter(election=election, parent=roots[0]).order_by("code")
        )
        if children:
            return children
    return roots


def _region_of_commission(election: Election, region_ids: set[int]) -> dict[int, int]:
    """Commission id → the id of the region above it (or itself); commissions above the
    regions (the root) map nowhere."""
    parents = dict(
        Commission.objects.filter(election=election).values_list("pk", "parent_id").iterator()
    )
    found: dict[int, int] = {}
    for start in parents:
        path: list[int] = []
        node: int | None = start
        while node is not None and node not in found and node not in region_ids:
            path.append(node)
            node = parents.get(node)
        region = found.get(node) if node in found else node if node in region_ids else None
        if region is not None:
            for commission in path:
                found[commission] = region
    for region in region_ids:
        found[region] = region
    return found


def _assignments(scope: Scope) -> QuerySet[Assignment]:
    assignments = Assignment.objects.filter(station__election=scope.election)
    if scope.organisation_ids is not None:
        assignments = assignments.filter(observer__organisation_id__in=scope.organisation_ids)
    return assignments


@dataclass(frozen=True)
class StationStates:
    """What both views of coverage read: the regions, each commission's region, and each
    assigned station's commission and whether it has reported. Read once per page."""

    regions: list[Commission]
    region_of: dict[int, int]  # commission id -> region id
    reported: dict[int, bool]  # assigned station id -> has a copy from an assigned observer
    commission_of: dict[int, int]  # assigned station id -> commission id

    def region_of_station(self, station_id: int) -> int | None:
        return self.region_of.get(self.commission_of[station_id])


def station_states(scope: Scope) -> StationStates:
    all_regions = regions(scope.election)
    submitted = Exists(
        ProtocolCopy.objects.filter(
            station_id=OuterRef("station_id"), observer_id=OuterRef("observer_id")
        )
    )
    reported: dict[int, bool] = {}
    commission_of: dict[int, int] = {}
    rows = (
        _assignments(scope)
        .annotate(submitted=submitted)
        .values_list("station_id", "station__commission_id", "submitted")
    )
    for station_id, commission_id, has_copy in rows.iterator(chunk_size=10_000):
        reported[station_id] = reported.get(station_id, False) or has_copy
        commission_of[station_id] = commission_id
    region_of = _region_of_commission(scope.election, {r.pk for r in all_regions})
    return StationStates(all_regions, region_of, reported, commission_of)


def coverage(scope: Scope, states: StationStates | None = None) -> list[RegionCoverage]:
    """Per region (only the chosen one, if any): stations, assigned, reported."""
    states = states or station_states(scope)
    shown = [r for r in states.regions if scope.region_id in (None, r.pk)]
    assigned_in: dict[int, int] = defaultdict(int)
    reported_in: dict[int, int] = defaultdict(int)
    for station_id, has_copy in states.reported.items():
        region = states.region_of_station(station_id)
        if region is None:
            continue  # a station run directly by the root: in no region
        assigned_in[region] += 1
        reported_in[region] += has_copy
    return [RegionCoverage(r, r.station_count, assigned_in[r.pk], reported_in[r.pk]) for r in shown]


def missing_stations(scope: Scope, states: StationStates | None = None) -> Iterator[MissingStation]:
    """The assigned stations without a copy from their assigned observers, by station code,
    each with the observers assigned there."""
    states = states or station_states(scope)
    region_names = {r.pk: r.name for r in states.regions}
    region_of = states.region_of
    missing = {
        station_id
        for station_id, has_copy in states.reported.items()
        if not has_copy and scope.region_id in (None, states.region_of_station(station_id))
    }
    rows = (
        _assignments(scope)
        .filter(station_id__in=_unreported_station_ids(scope))
        .order_by("station__code", "starts_at", "observer__full_name")
        .values_list(
            "station_id",
            "station__code",
            "station__number",
            "station__commission_id",
            "station__commission__name",
            "observer__organisation__name",
            "observer__code",
            "observer__full_name",
            "observer__contact",
            "starts_at",
            "ends_at",
        )
    )
    current: MissingStation | None = None
    for row in rows.iterator(chunk_size=10_000):
        station_id = row[0]
        if station_id not in missing:
            continue
        if current is None or current.station_id != station_id:
            if current is not None:
                yield current
            current = MissingStation(
                station_id,
                row[1],
                row[2],
                region_names.get(region_of.get(row[3], -1), ""),
                row[4],
            )
        current.observers.append(AssignedObserver(*row[5:]))
    if current is not None:
        yield current


def _unreported_station_ids(scope: Scope) -> QuerySet[Assignment, Any]:
    """The assigned stations without any copy from their assigned observers, as a subquery.

    Written in SQL terms rather than as a list of ids, which could run to a hundred thousand
    parameters; `missing_stations` still checks each row against `missing` (the region).
    """
    has_copy = Exists(
        ProtocolCopy.objects.filter(
            station_id=OuterRef("station_id"), observer_id=OuterRef("observer_id")
        )
    )
    reported = _assignments(scope).filter(has_copy).values("station_id")
    return _assignments(scope).exclude(station_id__in=reported).values("station_id")
