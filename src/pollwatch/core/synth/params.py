"""What a synthetic election is generated from, and how its defaults scale with its size."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pollwatch.core.synth.geography import KAZAKHSTAN_REGIONS

# Kazakhstan's 2026 constitutional referendum had 10,411 polling stations.
DEFAULT_STATIONS = 10_411
DEFAULT_SEED = 2026
# Kazakhstan has about ten territorial commissions per region ...
TERRITORIALS_PER_REGION = 10
# ... and a territorial commission rarely runs more than about a hundred stations.
STATIONS_PER_TERRITORIAL = 100

# Bump when the generator changes what a given seed produces.
GENERATOR_VERSION = 1


class SynthParameterError(ValueError):
    """The parameters cannot describe an election (e.g. more regions than stations)."""


def default_regions(stations: int) -> int:
    return min(len(KAZAKHSTAN_REGIONS), stations)


def default_territorials(stations: int, regions: int) -> int:
    """About ten per region, more when stations would exceed ~100 per territorial."""
    wanted = max(TERRITORIALS_PER_REGION * regions, math.ceil(stations / STATIONS_PER_TERRITORIAL))
    return max(regions, min(wanted, stations))


@dataclass(frozen=True)
class SynthParams:
    stations: int
    regions: int
    territorials: int
    seed: int

    @classmethod
    def build(
        cls,
        stations: int = DEFAULT_STATIONS,
        regions: int | None = None,
        territorials: int | None = None,
        seed: int = DEFAULT_SEED,
    ) -> SynthParams:
        """Fill in the defaults that scale with `stations`, then validate."""
        if regions is None:
            regions = default_regions(stations)
        if territorials is None:
            territorials = default_territorials(stations, regions)
        return cls(stations=stations, regions=regions, territorials=territorials, seed=seed)

    def __post_init__(self) -> None:
        if self.stations < 1:
            raise SynthParameterError(f"stations must be positive, got {self.stations}")
        if self.regions < 1:
            raise SynthParameterError(f"regions must be positive, got {self.regions}")
        if self.regions > self.stations:
            raise SynthParameterError(
                f"regions ({self.regions}) cannot exceed stations ({self.stations})"
            )
        if not self.regions <= self.territorials <= self.stations:
            raise SynthParameterError(
                f"territorials ({self.territorials}) must be between regions ({self.regions})"
                f" and stations ({self.stations})"
            )
        if self.seed < 0:
            raise SynthParameterError(f"seed must be non-negative, got {self.seed}")
