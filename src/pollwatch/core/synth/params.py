"""What a synthetic election is generated from, and how its defaults scale with its size."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

from pollwatch.core.synth.geography import KAZAKHSTAN_REGIONS

# Kazakhstan's 2026 constitutional referendum had 10,411 polling stations.
DEFAULT_STATIONS = 10_411
DEFAULT_SEED = 2026
# Kazakhstan has about ten territorial commissions per region ...
TERRITORIALS_PER_REGION = 10
# ... and a territorial commission rarely runs more than about a hundred stations.
STATIONS_PER_TERRITORIAL = 100

ELECTION_DATE = datetime.date(2026, 3, 15)
TIME_ZONE = "Asia/Almaty"
LANGUAGES = ("kk", "ru", "en")

# Observers and injected faults (shares; see SynthParams).
DEFAULT_ORGANISATIONS = 7
DEFAULT_COVERAGE = 0.6
DEFAULT_SLIPS = 0.005
DEFAULT_STUFFED = 0.005
DEFAULT_ARITHMETIC_ERRORS = 0.002
DEFAULT_MISSING_OFFICIAL = 0.003
DEFAULT_FAULTY_TOTALS = 1
DEFAULT_UNREPORTED = 0.02
DEFAULT_SILENT_CHANGES = 0.001
MAX_ORGANISATIONS = 100

# Bump when the generator changes what a given seed produces.
GENERATOR_VERSION = 2


class SynthParameterError(ValueError):
    """The parameters cannot describe an election (e.g. more regions than stations)."""


def at_least_one(share: float, candidates: int) -> int:
    """``share`` of ``candidates``, at least one when the share is positive and there is room."""
    if share <= 0 or candidates == 0:
        return 0
    return min(candidates, max(1, round(share * candidates)))


def default_regions(stations: int) -> int:
    return min(len(KAZAKHSTAN_REGIONS), stations)


def default_territorials(stations: int, regions: int) -> int:
    """About ten per region, more when stations would exceed ~100 per territorial."""
    wanted = max(TERRITORIALS_PER_REGION * regions, math.ceil(stations / STATIONS_PER_TERRITORIAL))
    return max(regions, min(wanted, stations))


@dataclass(frozen=True)
class SynthParams:
    """The election's size and seed, then its observers and the faults injected into it.

    Shares of faults are of the stations with copies (``stuffed``, ``arithmetic_errors``,
    ``missing_official``, ``silent_changes``), of the copies (``slips``) or of the stations
    without copies (``unreported``); a positive share injects at least one wherever there is
    room, so even a small demo shows every kind of finding.
    """

    stations: int
    regions: int
    territorials: int
    seed: int
    organisations: int = DEFAULT_ORGANISATIONS
    coverage: float = DEFAULT_COVERAGE  # share of stations with observers' copies
    slips: float = DEFAULT_SLIPS  # copies with one figure mistyped
    stuffed: float = DEFAULT_STUFFED  # official figures inflated (ballot stuffing)
    arithmetic_errors: float = DEFAULT_ARITHMETIC_ERRORS  # one official figure wrong
    missing_official: float = DEFAULT_MISSING_OFFICIAL  # no official result published
    faulty_totals: int = DEFAULT_FAULTY_TOTALS  # territorial totals not the sum of stations
    unreported: float = DEFAULT_UNREPORTED  # an observer assigned, no copy submitted
    silent_changes: float = DEFAULT_SILENT_CHANGES  # changed later without notice

    @classmethod
    def build(
        cls,
        stations: int = DEFAULT_STATIONS,
        regions: int | None = None,
        territorials: int | None = None,
        seed: int = DEFAULT_SEED,
        **observation: Any,
    ) -> SynthParams:
        """Fill in the defaults that scale with `stations`, then validate.

        ``observation`` takes the observer and fault fields (organisations, coverage, …).
        """
        if regions is None:
            regions = default_regions(stations)
        if territorials is None:
            territorials = default_territorials(stations, regions)
        return cls(
            stations=stations,
            regions=regions,
            territorials=territorials,
            seed=seed,
            **observation,
        )

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
        if not 1 <= self.organisations <= MAX_ORGANISATIONS:
            raise SynthParameterError(
                f"organisations must be between 1 and {MAX_ORGANISATIONS}, got {self.organisations}"
            )
        for name in (
            "coverage",
            "slips",
            "stuffed",
            "arithmetic_errors",
            "missing_official",
            "unreported",
            "silent_changes",
        ):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise SynthParameterError(f"{name} must be a share between 0 and 1, got {share}")
        if not 0 <= self.faulty_totals <= self.territorials:
            raise SynthParameterError(
                f"faulty_totals ({self.faulty_totals}) must be between 0 and the number of "
                f"territorials ({self.territorials})"
            )
