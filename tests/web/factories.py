"""A small election built through the ORM: two regions, three territorials, five stations."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from pollwatch.registry.models import Commission, Election, PollingStation, ProtocolTemplate


@dataclass(frozen=True)
class SmallElection:
    election: Election
    akmola: Commission
    kokshetau: Commission
    burabay: Commission
    almaty: Commission
    almalinsky: Commission
    station_101: PollingStation  # Kokshetau, 1,200 voters; Almalinsky has a station 101 too
    station_102: PollingStation
    almaty_101: PollingStation


def _commission(
    election: Election, code: str, name: str, parent: Commission | None, stations: int, voters: int
) -> Commission:
    return Commission.objects.create(
        election=election,
        code=code,
        name=name,
        level="territorial" if parent else "regional",
        depth=1 if parent else 0,
        parent=parent,
        station_count=stations,
        registered_voters=voters,
    )


def _station(
    commission: Commission, code: str, number: str, voters: int, **location: object
) -> PollingStation:
    return PollingStation.objects.create(
        election=commission.election,
        commission=commission,
        code=code,
        number=number,
        registered_voters=voters,
        **location,
    )


def build_small_election(slug: str = "test-referendum") -> SmallElection:
    template = ProtocolTemplate.objects.create(
        key=f"{slug}-template", name="Test protocol", lines=[], relations=[]
    )
    election = Election.objects.create(
        slug=slug,
        name="Test referendum 2026",
        kind=Election.Kind.REFERENDUM,
        date=datetime.date(2026, 3, 15),
        template=template,
    )
    akmola = _commission(election, "01", "Akmola Region", None, 3, 2500)
    kokshetau = _commission(election, "01-01", "Kokshetau City", akmola, 2, 2000)
    burabay = _commission(election, "01-02", "Burabay District", akmola, 1, 500)
    almaty = _commission(election, "02", "Almaty City", None, 2, 3500)
    almalinsky = _commission(election, "02-01", "Almalinsky District", almaty, 2, 3500)
    station_101 = _station(
        kokshetau,
        "0101101",
        "101",
        1200,
        address="12 Abay Street, Kokshetau",
        latitude=53.2833,
        longitude=69.3833,
    )
    station_102 = _station(kokshetau, "0101102", "102", 800)
    _station(burabay, "0102201", "201", 500)
    almaty_101 = _station(almalinsky, "0201101", "101", 2000, address="5 Tole Bi Street, Almaty")
    _station(almalinsky, "0201301", "301", 1500)
    return SmallElection(
        election=election,
        akmola=akmola,
        kokshetau=kokshetau,
        burabay=burabay,
        almaty=almaty,
        almalinsky=almalinsky,
        station_101=station_101,
        station_102=station_102,
        almaty_101=almaty_101,
    )
