"""Shpilkin's estimate of anomalous votes."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.core.forensics import StationResults
from pollwatch.core.forensics.klimek import FairModel, simulate
from pollwatch.core.forensics.shpilkin import clean_peak, shpilkin_estimate
from tests.core.forensics.conftest import honest
from tests.core.forensics.synthetic import pick, stuff_ballots

# Shpilkin's method assumes one homogeneous honest electorate whose leader share does not
# depend on turnout. The synthetic referendum's stations are not (towns vote less and less
# Yes than villages), so the homogeneous honest election is drawn from Klimek's fair model
# over the synthetic election's station sizes.
FAIR = FairModel(turnout_mean=0.55, turnout_sd=0.07, share_mean=0.6, share_sd=0.06)
# The leader's share in the peak bin (~1,100 of 20,000 stations) is known to ±0.2 points, which
# moves the estimate by ~0.8 % of his votes (one SD): a clean election stays within 3 %.
NOISE_SHARE = 0.03


def homogeneous(seed: int) -> StationResults:
    return simulate(honest(seed).registered, FAIR, incremental=0.0, extreme=0.0, sigma_x=0.1)


def test_the_clean_peak_is_the_lowest_mode_not_the_highest() -> None:
    turnout = np.arange(100)
    honest_mode = 1000 * np.exp(-(((turnout - 43) / 6) ** 2))
    stuffed_pile = 2500 * np.exp(-(((turnout - 85) / 8) ** 2))
    assert clean_peak(honest_mode + stuffed_pile) == 43


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_clean_homogeneous_election_has_no_excess(seed: int) -> None:
    estimate = shpilkin_estimate(homogeneous(seed))
    assert abs(estimate.excess_share) < NOISE_SHARE
    assert estimate.peak_turnout == pytest.approx(FAIR.turnout_mean, abs=0.03)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stuffed_ballots_are_counted_as_excess(seed: int) -> None:
    clean = homogeneous(seed)
    stuffed = stuff_ballots(
        StationResults(
            registered=clean.registered,
            issued=clean.issued,
            counted=clean.counted,
            leader=clean.leader,
            region=clean.region,
            options=np.column_stack([clean.leader, clean.counted - clean.leader]),
            option_names=("leader", "others"),
        ),
        pick(clean, 0.1, seed),
        seed,
    )
    injected = float((stuffed.leader - clean.leader).sum())
    estimate = shpilkin_estimate(stuffed)
    assert estimate.excess_share > NOISE_SHARE  # flagged
    assert abs(estimate.excess - injected) < NOISE_SHARE * stuffed.leader.sum()


@pytest.mark.slow
def test_russia_2018_excess_is_ten_million(russia_2018: StationResults) -> None:
    estimate = shpilkin_estimate(russia_2018)
    assert estimate.peak_turnout == pytest.approx(0.615)
    assert estimate.excess == pytest.approx(10.1e6, rel=0.05)
    assert estimate.expected + estimate.excess == pytest.approx(56_430_712)


@pytest.mark.slow
def test_russia_2020_finds_the_low_turnout_peak(russia_2020: StationResults) -> None:
    estimate = shpilkin_estimate(russia_2020)
    # The 2020 vote's voters pile up above 80 % turnout; the clean mode is near 44 %.
    assert 0.40 <= estimate.peak_turnout <= 0.48
    assert estimate.excess > 0
