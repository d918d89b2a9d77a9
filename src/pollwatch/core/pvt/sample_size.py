"""Sample size for a parallel vote tabulation.

NDI, "The Quick Count and Election Observation: An NDI Handbook for Civic Organizations and
Political Parties" (Estok, Nevitte & Cowan, 2002), ch. 5: the number of voters a random sample
needs for margin of error E at confidence Z, when the population has N voters and the option's
share is P (0.5 is the worst case):

    n = P(1 − P) / ((E/Z)² + P(1 − P)/N)

The handbook's Peru 2001 example (N = 14,570,774, E = 0.32 %, Z = 2.58) gives 160,717.3 by this
formula; the handbook prints 163,185 after rounding its intermediate steps.
"""

from __future__ import annotations

import math

WORST_CASE_SHARE = 0.5
# The handbook's Z for each confidence level (it rounds 2.576 to 2.58).
HANDBOOK_Z = {"0.95": 1.96, "0.99": 2.58}


class SampleSizeError(ValueError):
    """Parameters outside their meaningful range."""


def ndi_sample_size(
    population: int, margin: float, z: float, share: float = WORST_CASE_SHARE
) -> float:
    """Voters the sample needs (unrounded: round up to be safe, as a plan would)."""
    if population < 1:
        raise SampleSizeError(f"population must be at least 1, got {population}")
    if not 0.0 < margin < 1.0:
        raise SampleSizeError(f"margin of error must be a fraction in (0, 1), got {margin}")
    if z <= 0.0:
        raise SampleSizeError(f"z must be positive, got {z}")
    if not 0.0 < share < 1.0:
        raise SampleSizeError(f"share must be in (0, 1), got {share}")
    variance = share * (1.0 - share)
    return variance / ((margin / z) ** 2 + variance / population)


def stations_for(voters: float, voters_per_station: float) -> int:
    """Stations to sample to reach `voters` when a station has `voters_per_station` on average."""
    if voters_per_station <= 0:
        raise SampleSizeError(f"voters per station must be positive, got {voters_per_station}")
    return math.ceil(voters / voters_per_station)
