"""The validated plan: commissions with parent and depth, parents before children, and stations.

A plan is only ever built from input without a single problem, so everything in it fits the
registry: the limits below are the column sizes of the registry tables, checked while reading so
that a long value is a clear error rather than a database failure halfway through (or, on
SQLite, silently stored).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

CODE_MAX = 255
NAME_MAX = 300
LEVEL_MAX = 50
NUMBER_MAX = 50
VOTERS_MAX = 2**31 - 1


@dataclass(frozen=True)
class CommissionPlan:
    code: str
    name: str
    level: str
    parent_code: str | None
    depth: int


@dataclass
class StationColumns:
    """Stations column by column: a million of them cost lists, not a million objects."""

    code: list[str] = field(default_factory=list)
    number: list[str] = field(default_factory=list)
    commission_code: list[str] = field(default_factory=list)
    registered_voters: list[int] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    latitude: list[float | None] = field(default_factory=list)
    longitude: list[float | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.code)

    def append(
        self,
        code: str,
        number: str,
        commission_code: str,
        voters: int,
        address: str,
        coordinates: tuple[float | None, float | None],
    ) -> None:
        self.code.append(code)
        self.number.append(number)
        self.commission_code.append(commission_code)
        self.registered_voters.append(voters)
        self.address.append(address)
        self.latitude.append(coordinates[0])
        self.longitude.append(coordinates[1])

    def rows(self) -> Iterator[tuple[str, str, str, int, str, float | None, float | None]]:
        """(code, number, commission_code, registered_voters, address, latitude, longitude)."""
        return zip(
            self.code,
            self.number,
            self.commission_code,
            self.registered_voters,
            self.address,
            self.latitude,
            self.longitude,
            strict=True,
        )


@dataclass
class StructurePlan:
    commissions: list[CommissionPlan]  # parents before children
    stations: StationColumns
    warnings: list[str] = field(default_factory=list)

    @property
    def registered_voters(self) -> int:
        return sum(self.stations.registered_voters)

    def levels(self) -> list[str]:
        """The commission levels, top first."""
        seen: dict[str, int] = {}
        for commission in self.commissions:
            seen.setdefault(commission.level, commission.depth)
        return sorted(seen, key=seen.__getitem__)
