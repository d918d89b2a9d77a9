"""Turnout and vote-share distributions and the election fingerprint.

The fingerprint is the 2-D histogram of turnout against the winner's share (Klimek, Yegorov,
Hanel & Thurner, "Statistical detection of systematic election irregularities", PNAS
109(41):16469–16473, 2012, Fig. 1): a fair election shows one roughly two-dimensional-Gaussian
blob; ballot stuffing smears it towards 100 % turnout and 100 % share.

Weights: "stations" counts polling stations (the PNAS figure); "voters" counts the people who
voted (ballots issued, G), as in Kobak, Shpilkin & Pshenichnikov's histograms (Significance
13(4), 2016), so that a big city station weighs more than a hamlet. Stations with no registered
voters or no counted ballot carry no turnout or share and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from pollwatch.core.forensics.stations import FloatArray, StationResults

Weighting = Literal["stations", "voters"]
WEIGHTINGS: tuple[Weighting, ...] = ("stations", "voters")


@dataclass(frozen=True)
class Histogram:
    """`counts[i]` is the weight with values in [edges[i], edges[i+1]) (the last bin is closed)."""

    edges: FloatArray
    counts: FloatArray
    weighting: Weighting

    @property
    def centres(self) -> FloatArray:
        return (self.edges[:-1] + self.edges[1:]) / 2


@dataclass(frozen=True)
class Fingerprint:
    """`counts[i, j]`: weight with turnout in bin i and the leader's share in bin j."""

    turnout_edges: FloatArray
    share_edges: FloatArray
    counts: FloatArray
    weighting: Weighting


def _weights(results: StationResults, weighting: Weighting) -> FloatArray:
    if weighting == "stations":
        return np.ones(results.stations)
    if weighting == "voters":
        return results.issued.astype(np.float64)
    raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")


def _edges(bins: int) -> FloatArray:
    if bins < 1:
        raise ValueError(f"bins must be positive, got {bins}")
    return np.linspace(0.0, 1.0, bins + 1)


def turnout_distribution(
    results: StationResults, bins: int = 100, weighting: Weighting = "stations"
) -> Histogram:
    """Histogram of G/V over [0, 1]; turnout above 1 (more ballots than voters) falls in the last
    bin so that no station silently disappears."""
    return _histogram(results.turnout(), _weights(results, weighting), bins, weighting)


def share_distribution(
    results: StationResults, bins: int = 100, weighting: Weighting = "stations"
) -> Histogram:
    """Histogram of the leader's share L/R over [0, 1]."""
    return _histogram(results.leader_share(), _weights(results, weighting), bins, weighting)


def fingerprint(
    results: StationResults, bins: int = 100, weighting: Weighting = "stations"
) -> Fingerprint:
    turnout, share = results.turnout(), results.leader_share()
    weights = _weights(results, weighting)
    known = np.isfinite(turnout) & np.isfinite(share)
    edges = _edges(bins)
    counts, _, _ = np.histogram2d(
        np.minimum(turnout[known], 1.0),
        share[known],
        bins=(edges, edges),
        weights=weights[known],
    )
    return Fingerprint(turnout_edges=edges, share_edges=edges, counts=counts, weighting=weighting)


def _histogram(
    values: FloatArray, weights: FloatArray, bins: int, weighting: Weighting
) -> Histogram:
    known = np.isfinite(values)
    edges = _edges(bins)
    counts, _ = np.histogram(np.minimum(values[known], 1.0), bins=edges, weights=weights[known])
    return Histogram(edges=edges, counts=counts.astype(np.float64), weighting=weighting)
