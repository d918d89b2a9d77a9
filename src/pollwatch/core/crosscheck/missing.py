"""Missing pieces: copies with no official result to compare, official results with no copy."""

from __future__ import annotations

import numpy as np

from pollwatch.core.crosscheck.consensus import Consensus
from pollwatch.core.crosscheck.findings import FindingKind, Findings, FingerprintNames
from pollwatch.core.crosscheck.inputs import BoolArray, IndexArray


def missing_official_results(
    consensus: Consensus, official_row: IndexArray, names: FingerprintNames
) -> Findings:
    """Stations with observers' copies whose official result is not (yet) published."""
    at = np.flatnonzero(official_row[consensus.station] < 0)
    return Findings.build(
        FindingKind.MISSING_OFFICIAL_RESULT,
        names,
        at.size,
        station=consensus.station[at],
        copies=consensus.station_copies[at],
        organisations=consensus.station_organisations[at],
    )


def missing_copies(
    consensus: Consensus, copy_expected: BoolArray, names: FingerprintNames
) -> Findings:
    """Stations where a copy is expected but no organisation has submitted one."""
    without = copy_expected.copy()
    without[consensus.station] = False
    station = np.flatnonzero(without)
    return Findings.build(FindingKind.MISSING_COPY, names, station.size, station=station)
