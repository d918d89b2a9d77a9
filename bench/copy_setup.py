"""An election ready for protocol copies, for the copy benchmarks (run inside a Django process).

A Kazakh-referendum election (the shipped template) with `stations` stations under territorial
commissions of 100, official results for every station (a few inflated, so copies differ from
them), and `observers_per_station` observers per station from three organisations, each
accredited and assigned to their station from twelve hours ago to an hour from now. Rows are
bulk-created: the benchmarks measure submissions, not setup. Observers get a device token each
when asked.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from typing import Any

ELECTION_DAY = datetime.date(2026, 3, 15)
LINES = (
    "registered", "ballots_received", "issued_in_station", "issued_outside", "cancelled",
    "ballots_in_boxes", "invalid", "not_counted", "yes", "no",
)  # fmt: skip


@dataclass(frozen=True)
class Seat:
    """One observer at one station: who submits there."""

    station_id: int
    registered: int
    user_id: int
    token: str | None


@dataclass(frozen=True)
class CopyElection:
    slug: str
    seats: list[Seat]


def protocol(registered: int, rng: random.Random, *, slip: int = 0) -> dict[str, int]:
    """A station's protocol whose arithmetic holds; ``slip`` moves votes from No to Yes."""
    issued_in = registered * rng.randint(40, 70) // 100
    outside = rng.randint(0, 20)
    issued = issued_in + outside
    invalid, not_counted = rng.randint(0, 10), rng.randint(0, 5)
    yes = (issued - invalid - not_counted) * rng.randint(50, 80) // 100
    no = issued - invalid - not_counted - yes
    return {
        "registered": registered,
        "ballots_received": registered,
        "issued_in_station": issued_in,
        "issued_outside": outside,
        "cancelled": registered - issued,
        "ballots_in_boxes": issued,
        "invalid": invalid,
        "not_counted": not_counted,
        "yes": yes + slip,
        "no": no - slip,
    }


def build(
    stations: int, observers_per_station: int, *, tokens: bool, seed: int = 1
) -> CopyElection:
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from pollwatch.accounts.roles import Role
    from pollwatch.accreditation.models import (
        Accreditation,
        Assignment,
        Observer,
        Organisation,
    )
    from pollwatch.official.models import OfficialResult, OfficialSnapshot
    from pollwatch.registry.models import Commission, Election, PollingStation
    from pollwatch.registry.protocol_templates import load_shipped_template

    rng = random.Random(seed)
    template = load_shipped_template("kz-referendum")
    election = Election.objects.create(
        slug="bench-copies",
        name="Bench referendum",
        kind=Election.Kind.REFERENDUM,
        date=ELECTION_DAY,
        template=template,
    )
    region = Commission.objects.create(election=election, code="R", name="Region", level="region")
    territories = Commission.objects.bulk_create(
        Commission(
            election=election, code=f"R-{t:04}", name=f"Territory {t}", level="territory",
            depth=1, parent=region,
        )
        for t in range(-(-stations // 100))
    )  # fmt: skip
    rows = PollingStation.objects.bulk_create(
        (
            PollingStation(
                election=election, code=f"{s + 1:07}", number=str(s + 1),
                commission=territories[s // 100], registered_voters=rng.randint(300, 3000),
            )
            for s in range(stations)
        ),
        batch_size=5000,
    )  # fmt: skip
    now = timezone.now()
    snapshot = OfficialSnapshot.objects.create(
        election=election, source="bench", sha256="0" * 64, imported_at=now,
        station_rows=stations,
    )  # fmt: skip
    OfficialResult.objects.bulk_create(
        (
            OfficialResult(
                snapshot=snapshot, election=election, station=row,
                figures=protocol(row.registered_voters, random.Random(row.pk),
                                 slip=25 if row.pk % 10 == 0 else 0),
            )
            for row in rows
        ),
        batch_size=5000,
    )  # fmt: skip
    organisations = Organisation.objects.bulk_create(
        Organisation(
            code=f"org-{o}", name=f"Organisation {o}", kind=Organisation.Kind.NGO,
            share_with_mission=True,
        )
        for o in range(3)
    )  # fmt: skip
    people = stations * observers_per_station
    users = User.objects.bulk_create(
        (User(username=f"observer-{u}", password="!") for u in range(people)), batch_size=5000
    )
    group, _ = Group.objects.get_or_create(name=Role.OBSERVER.value)
    User.groups.through.objects.bulk_create(
        (User.groups.through(user_id=user.pk, group_id=group.pk) for user in users),
        batch_size=5000,
    )
    observers = Observer.objects.bulk_create(
        (
            Observer(organisation=organisations[u % 3], code=f"o-{u}", full_name=f"Observer {u}",
                     user=user)
            for u, user in enumerate(users)
        ),
        batch_size=5000,
    )  # fmt: skip
    Accreditation.objects.bulk_create(
        (
            Accreditation(election=election, observer=observer, status="accredited",
                          number=f"A-{observer.pk}", requested_at=now)
            for observer in observers
        ),
        batch_size=5000,
    )  # fmt: skip
    # Election night is now: the API stamps submissions with the clock.
    opens, closes = now - datetime.timedelta(hours=12), now + datetime.timedelta(hours=1)
    Assignment.objects.bulk_create(
        (
            Assignment(observer=observer, station=rows[u // observers_per_station],
                       starts_at=opens, ends_at=closes)
            for u, observer in enumerate(observers)
        ),
        batch_size=5000,
    )  # fmt: skip
    issued = _tokens(users) if tokens else {}
    seats = [
        Seat(
            station_id=rows[u // observers_per_station].pk,
            registered=rows[u // observers_per_station].registered_voters,
            user_id=user.pk,
            token=issued.get(user.pk),
        )
        for u, user in enumerate(users)
    ]
    _analyze()
    return CopyElection(slug=election.slug, seats=seats)


def _tokens(users: list[Any]) -> dict[int, str]:
    from pollwatch.accounts.device_tokens import issue_device_token

    return {user.pk: issue_device_token(user, "bench phone").token for user in users}


def _analyze() -> None:
    """Fresh planner statistics, as autovacuum would gather within a minute of a bulk load."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
