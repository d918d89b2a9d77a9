"""A small synthetic referendum in the database, with observers, copies and official results.

Built through the ORM (as submissions and imports leave it), with the honest figures kept so
that tests can inject discrepancies and know exactly what a cross-check must find.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from django.utils import timezone

from pollwatch.accreditation.models import Assignment, Observer, Organisation
from pollwatch.core.synth import LINE_KEYS, SynthParams, generate
from pollwatch.official.models import OfficialResult, OfficialSnapshot
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.registry.models import Commission, Election, PollingStation
from pollwatch.registry.protocol_templates import load_shipped_template

K = {key: i for i, key in enumerate(LINE_KEYS)}


@dataclass
class StoredElection:
    election: Election
    central: Commission
    regions: list[Commission]
    territorials: list[Commission]
    stations: list[PollingStation]
    honest: npt.NDArray[np.int64]  # stations × LINE_KEYS
    organisations: list[Organisation] = field(default_factory=list)
    observers: list[Observer] = field(default_factory=list)

    def figures(self, position: int, **changes: int) -> dict[str, int]:
        """The honest figures of the station at ``position``, with some lines changed."""
        figures = dict(zip(LINE_KEYS, self.honest[position].tolist(), strict=True))
        figures.update(changes)
        return figures

    def add_copy(
        self,
        position: int,
        organisation: int,
        figures: dict[str, int] | None = None,
        supersedes: ProtocolCopy | None = None,
    ) -> ProtocolCopy:
        return ProtocolCopy.objects.create(
            id=uuid.uuid4(),
            election=self.election,
            station=self.stations[position],
            observer=self.observers[organisation],
            organisation=self.organisations[organisation],
            figures=self.figures(position) if figures is None else figures,
            all_members_signed=True,
            certified=True,
            supersedes=supersedes,
            body_sha256="0" * 64,
            received_at=timezone.now(),
        )

    def assign(self, position: int, organisation: int = 0) -> Assignment:
        day = timezone.now()
        return Assignment.objects.create(
            observer=self.observers[organisation],
            station=self.stations[position],
            starts_at=day,
            ends_at=day + datetime.timedelta(hours=12),
        )

    def publish(
        self,
        stations: dict[int, dict[str, int]],
        commissions: dict[Commission, dict[str, int]] | None = None,
    ) -> OfficialSnapshot:
        """One snapshot with the given station figures (by position) and commission totals."""
        snapshot = OfficialSnapshot.objects.create(
            election=self.election,
            source="test",
            sha256=uuid.uuid4().hex * 2,
            imported_at=timezone.now(),
            station_rows=len(stations),
            commission_rows=len(commissions or {}),
        )
        OfficialResult.objects.bulk_create(
            [
                OfficialResult(
                    snapshot=snapshot,
                    election=self.election,
                    station=self.stations[position],
                    figures=figures,
                )
                for position, figures in stations.items()
            ]
            + [
                OfficialResult(
                    snapshot=snapshot, election=self.election, commission=commission, figures=f
                )
                for commission, f in (commissions or {}).items()
            ]
        )
        return snapshot


def store_election(stations: int = 24, seed: int = 5, organisations: int = 3) -> StoredElection:
    synth = generate(SynthParams.build(stations=stations, regions=2, territorials=4, seed=seed))
    structure = synth.structure
    template = load_shipped_template("kz-referendum")
    assert template is not None
    election = Election.objects.create(
        slug=f"synthetic-{seed}",
        name="Synthetic referendum",
        kind="referendum",
        date=datetime.date(2026, 3, 15),
        template=template,
    )

    def commission(code: str, level: str, depth: int, parent: Commission | None) -> Commission:
        return Commission.objects.create(
            election=election, code=code, name=code, level=level, depth=depth, parent=parent
        )

    central = commission("KZ", "central", 0, None)
    regions = [commission(code, "region", 1, central) for code in structure.region_codes]
    territorials = [
        commission(code, "territorial", 2, regions[region])
        for code, region in zip(
            structure.territorial_codes, structure.territorial_region.tolist(), strict=True
        )
    ]
    rows = PollingStation.objects.bulk_create(
        PollingStation(
            election=election,
            code=f"S{position:03d}",
            number=str(position),
            commission=territorials[territorial],
            registered_voters=int(structure.registered[position]),
        )
        for position, territorial in enumerate(structure.station_territorial.tolist())
    )
    stored = StoredElection(
        election, central, regions, territorials, list(rows), synth.protocols.figures
    )
    for i in range(organisations):
        organisation = Organisation.objects.create(
            code=f"org-{seed}-{i}", name=f"Org {i}", kind="ngo", share_with_mission=True
        )
        stored.organisations.append(organisation)
        stored.observers.append(
            Observer.objects.create(organisation=organisation, code=f"o{i}", full_name=f"O {i}")
        )
    return stored
