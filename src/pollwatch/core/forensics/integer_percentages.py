"""The integer-percentage test of Kobak, Shpilkin & Pshenichnikov.

D. Kobak, S. Shpilkin, M. S. Pshenichnikov, "Integer percentages as electoral falsification
fingerprints", Annals of Applied Statistics 10(1):54–73, 2016. A commission that writes down a
made-up result tends to pick round percentages; honest counts land on an integer percentage only
as often as binomial noise allows.

Stations included (§3 of the paper): R > 0, V ≥ 100, G/V ≤ 0.99 and L/R ≤ 0.99. The statistic O
counts the included stations whose turnout 100·G/V or leader share 100·L/R lies within 0.05 of
an integer; both tests are done in exact integer arithmetic (|100·k − j·n| ≤ n/20), so no
rounding of floating-point ratios can move a station in or out.

Null hypothesis: at every station L ~ Binomial(R, L/R) and G ~ Binomial(V, G/V), independently.
Where the paper estimates the null by Monte Carlo, this module computes each station's
probability of landing near an integer exactly — the binomial probability mass over the counts
k with |100·k − j·n| ≤ n/20 for every integer j within eight standard deviations of the mean —
so that E[O] = Σ pᵢ and Var[O] = Σ pᵢ(1 − pᵢ) with pᵢ = 1 − (1 − p_turnoutᵢ)(1 − p_shareᵢ).
`monte_carlo_null` runs the paper's simulation for comparison (tests/core/forensics check that
the two agree within the Monte Carlo's error). The z-score's p-value is one-sided (an excess is
what falsification produces) from the normal approximation, which is accurate here because O is
a sum of tens of thousands of independent indicators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats  # type: ignore[import-untyped]

from pollwatch.core.forensics.stations import FloatArray, IntArray, StationResults

MIN_REGISTERED = 100
MAX_RATIO = 0.99
# "Within 0.05 of an integer percentage": |100·k/n − j| ≤ 0.05  ⇔  |2000·k − 20·j·n| ≤ n.
TOLERANCE_DENOMINATOR = 20
# Integers further than this many binomial standard deviations from the mean carry < 1e-15.
WINDOW_SIGMAS = 8.0


@dataclass(frozen=True)
class IntegerCount:
    """Observed count of near-integer stations against its exact binomial null."""

    observed: int
    expected: float
    sd: float

    @property
    def excess(self) -> float:
        return self.observed - self.expected

    @property
    def z(self) -> float:
        return self.excess / self.sd if self.sd > 0 else 0.0

    @property
    def p_value(self) -> float:
        """One-sided: the chance of an excess at least this large under the null."""
        return float(stats.norm.sf(self.z))


@dataclass(frozen=True)
class IntegerPercentageTest:
    included: int
    either: IntegerCount  # turnout or leader share near an integer: the paper's O
    turnout: IntegerCount
    leader_share: IntegerCount
    included_mask: NDArray[np.bool_]


def included_stations(results: StationResults) -> NDArray[np.bool_]:
    """R > 0, V ≥ 100, G/V ≤ 0.99, L/R ≤ 0.99 — compared in integers (100·G ≤ 99·V)."""
    return (
        (results.counted > 0)
        & (results.registered >= MIN_REGISTERED)
        & (100 * results.issued <= 99 * results.registered)
        & (100 * results.leader <= 99 * results.counted)
    )


def near_integer_percentage(count: IntArray, total: IntArray) -> NDArray[np.bool_]:
    """Whether 100·count/total lies within 0.05 of an integer (total > 0)."""
    remainder = (100 * count) % total
    distance = np.minimum(remainder, total - remainder)  # to the nearest multiple of total
    return TOLERANCE_DENOMINATOR * distance <= total


def near_integer_probability(total: IntArray, p: FloatArray) -> FloatArray:
    """P(100·K/total within 0.05 of an integer) for K ~ Binomial(total, p), per station.

    Sums the binomial mass over every count k that qualifies, for the integer percentages j
    within WINDOW_SIGMAS standard deviations of 100·p; one flat, vectorised pass over
    (station, j, k) triples.
    """
    total = np.asarray(total, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    if total.size and total.min() < 1:
        raise ValueError("every station needs at least one voter or ballot to draw from")
    sd_percent = 100.0 * np.sqrt(p * (1.0 - p) / np.maximum(total, 1))
    half_width = np.ceil(WINDOW_SIGMAS * sd_percent).astype(np.int64) + 1
    centre = np.rint(100.0 * p).astype(np.int64)
    # (station, j) pairs: j runs over centre ± half_width.
    station, offset = _ragged(2 * half_width + 1)
    j = centre[station] + offset - half_width[station]
    n = total[station]
    # Counts k with |100·k − j·n| ≤ n/20, i.e. 2000·k in [20·j·n − n, 20·j·n + n].
    scale = 100 * TOLERANCE_DENOMINATOR
    low = np.maximum(-((n - TOLERANCE_DENOMINATOR * j * n) // scale), 0)
    high = np.minimum((TOLERANCE_DENOMINATOR * j * n + n) // scale, n)
    width = np.where((j >= 0) & (j <= 100), np.maximum(high - low + 1, 0), 0)
    # (station, j, k) triples.
    pair, k_offset = _ragged(width)
    k = low[pair] + k_offset
    owner = station[pair]
    mass = stats.binom.pmf(k, total[owner], p[owner])
    return np.bincount(owner, weights=mass, minlength=len(total)).astype(np.float64)


def integer_percentage_test(results: StationResults) -> IntegerPercentageTest:
    """The paper's O, its exact null mean and SD, for either, turnout alone and share alone."""
    mask = included_stations(results)
    registered, issued = results.registered[mask], results.issued[mask]
    counted, leader = results.counted[mask], results.leader[mask]
    turnout_hit = near_integer_percentage(issued, registered)
    share_hit = near_integer_percentage(leader, counted)
    p_turnout = near_integer_probability(registered, issued / registered)
    p_share = near_integer_probability(counted, leader / counted)
    p_either = 1.0 - (1.0 - p_turnout) * (1.0 - p_share)
    return IntegerPercentageTest(
        included=int(mask.sum()),
        either=_count(turnout_hit | share_hit, p_either),
        turnout=_count(turnout_hit, p_turnout),
        leader_share=_count(share_hit, p_share),
        included_mask=mask,
    )


@dataclass(frozen=True)
class MonteCarloNull:
    """Null mean and SD of the three counts from simulated elections."""

    replicates: int
    either: tuple[float, float]
    turnout: tuple[float, float]
    leader_share: tuple[float, float]


def monte_carlo_null(
    results: StationResults, replicates: int = 1_000, seed: int = 0
) -> MonteCarloNull:
    """The paper's null by simulation: redraw G and L binomially at every included station.

    Vectorised over stations; loops over replicates only.
    """
    mask = included_stations(results)
    registered, counted = results.registered[mask], results.counted[mask]
    p_turnout = results.issued[mask] / registered
    p_share = results.leader[mask] / counted
    rng = np.random.default_rng(seed)
    counts = np.empty((replicates, 3))
    for r in range(replicates):
        turnout_hit = near_integer_percentage(rng.binomial(registered, p_turnout), registered)
        share_hit = near_integer_percentage(rng.binomial(counted, p_share), counted)
        counts[r] = (
            np.count_nonzero(turnout_hit | share_hit),
            np.count_nonzero(turnout_hit),
            np.count_nonzero(share_hit),
        )
    mean, sd = counts.mean(axis=0), counts.std(axis=0, ddof=1)
    return MonteCarloNull(
        replicates=replicates,
        either=(float(mean[0]), float(sd[0])),
        turnout=(float(mean[1]), float(sd[1])),
        leader_share=(float(mean[2]), float(sd[2])),
    )


def _count(hits: NDArray[np.bool_], p: FloatArray) -> IntegerCount:
    return IntegerCount(
        observed=int(np.count_nonzero(hits)),
        expected=float(p.sum()),
        sd=float(np.sqrt((p * (1.0 - p)).sum())),
    )


def _ragged(lengths: IntArray) -> tuple[NDArray[np.intp], IntArray]:
    """For lengths (3, 0, 2): owners (0, 0, 0, 2, 2) and positions (0, 1, 2, 0, 1)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    return owner, np.arange(int(lengths.sum()), dtype=np.int64) - starts[owner]
