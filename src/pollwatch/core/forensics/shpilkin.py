"""Shpilkin's estimate of anomalous votes for the leader.

S. Shpilkin, "Statistical investigation of the results of Russian elections in 2007–2009",
Troitsky Variant 21(40), 2009; as used in Kobak, Shpilkin & Pshenichnikov, "Putin's peaks:
Russian election data revisited", Significance 15(3):8–9, 2018.

Bin stations by turnout (1 % bins) and find the "clean" peak: the lowest-turnout mode of the
voters' turnout distribution. Stuffing piles voters up at high turnout, and in some elections
(Russia 2020) that pile outweighs the honest mode, so the peak is not the global maximum: it is
the first local maximum of the histogram smoothed over `SMOOTHING_BINS` bins that reaches
`MIN_PEAK_HEIGHT` of the highest bin, refined to the highest raw bin within two bins of it.

Assume that the other options' votes are honest everywhere and that, without falsification, the
leader would take in every bin the share he takes at the peak: his expected votes in a bin are
the others' votes × s/(1 − s), where s is his share of counted ballots at the peak.
The excess is his actual votes minus the expected ones, summed over all bins.

It is an estimate, not a test, and it rests on that assumption of one homogeneous electorate.
Where turnout and the leader's share co-vary honestly (towns vote less and differently from
villages), the baseline is off either way: on pollwatch's synthetic referendums, which are
built that way, a clean election gives −10 % to +2 % of the leader's votes, and stuffing that
reshapes the peak moves the estimate unpredictably. On a homogeneous electorate (tests) a clean
election gives ~0 and injected stuffing is recovered to within a few percent of his votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.forensics.stations import FloatArray, IntArray, StationResults

BIN_WIDTH = 0.01
SMOOTHING_BINS = 5
# A local maximum lower than this share of the highest bin is noise, not the clean peak.
MIN_PEAK_HEIGHT = 0.25
REFINE_BINS = 2


@dataclass(frozen=True)
class ShpilkinEstimate:
    edges: FloatArray  # turnout bins
    voters: FloatArray  # ballots issued per bin
    leader_votes: FloatArray  # per bin
    other_votes: FloatArray  # counted ballots not for the leader (others + invalid), per bin
    expected_leader_votes: FloatArray  # per bin
    peak_bin: int
    peak_share: float  # the leader's share of counted ballots in the peak bin

    @property
    def peak_turnout(self) -> float:
        """Centre of the peak bin."""
        return float((self.edges[self.peak_bin] + self.edges[self.peak_bin + 1]) / 2)

    @property
    def expected(self) -> float:
        return float(self.expected_leader_votes.sum())

    @property
    def excess(self) -> float:
        return float(self.leader_votes.sum() - self.expected)

    @property
    def excess_share(self) -> float:
        """The excess as a share of the leader's votes."""
        total = float(self.leader_votes.sum())
        return self.excess / total if total else 0.0


def shpilkin_estimate(results: StationResults, bin_width: float = BIN_WIDTH) -> ShpilkinEstimate:
    bins = round(1.0 / bin_width)
    edges = np.linspace(0.0, 1.0, bins + 1)
    turnout = results.turnout()
    known = np.isfinite(turnout) & (results.counted > 0)
    # Bin i holds turnout in [i·w, (i+1)·w); turnout ≥ 1 goes to the last bin.
    index = np.minimum((turnout[known] * bins).astype(np.intp), bins - 1)
    voters = _sum_by_bin(index, results.issued[known], bins)
    leader = _sum_by_bin(index, results.leader[known], bins)
    counted = _sum_by_bin(index, results.counted[known], bins)
    others: FloatArray = counted - leader
    if not voters.any():
        raise ValueError("no station has both voters and counted ballots: no turnout peak")
    peak = clean_peak(voters)
    share = float(leader[peak] / counted[peak])
    if share >= 1.0:
        raise ValueError("the leader took every ballot at the peak: no honest share to apply")
    return ShpilkinEstimate(
        edges=edges,
        voters=voters,
        leader_votes=leader,
        other_votes=others,
        expected_leader_votes=np.asarray(others * share / (1.0 - share), dtype=np.float64),
        peak_bin=peak,
        peak_share=share,
    )


def clean_peak(voters: FloatArray) -> int:
    """The bin of the lowest-turnout mode (see the module's docstring)."""
    kernel = np.ones(SMOOTHING_BINS) / SMOOTHING_BINS
    smooth = np.convolve(voters, kernel, mode="same")
    half = SMOOTHING_BINS // 2
    padded = np.pad(smooth, half, constant_values=-np.inf)
    neighbourhood = np.lib.stride_tricks.sliding_window_view(padded, SMOOTHING_BINS).max(axis=1)
    is_mode = (smooth >= neighbourhood) & (smooth >= MIN_PEAK_HEIGHT * smooth.max())
    first = int(np.flatnonzero(is_mode)[0])
    low, high = max(first - REFINE_BINS, 0), min(first + REFINE_BINS + 1, len(voters))
    return low + int(np.argmax(voters[low:high]))


def _sum_by_bin(index: NDArray[np.intp], values: IntArray, bins: int) -> FloatArray:
    return np.bincount(index, weights=values, minlength=bins).astype(np.float64)
