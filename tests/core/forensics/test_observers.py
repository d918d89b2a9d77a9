"""The observer effect, stratified by region."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.core.forensics.observers import observer_effect
from tests.core.forensics.conftest import honest
from tests.core.forensics.synthetic import pick, stuff_ballots


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_randomly_placed_observers_see_no_difference_in_a_clean_election(seed: int) -> None:
    election = honest(seed)
    effect = observer_effect(election, pick(election, 0.3, seed + 100))
    assert not effect.turnout.significant
    assert not effect.leader_share.significant


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stuffing_where_no_observer_watches_is_detected(seed: int) -> None:
    clean = honest(seed)
    observed = pick(clean, 0.3, seed + 100)
    stuffed = stuff_ballots(clean, ~observed & pick(clean, 0.3, seed), seed)
    effect = observer_effect(stuffed, observed)
    assert effect.turnout.significant and effect.turnout.difference < 0
    assert effect.leader_share.significant and effect.leader_share.difference < 0


def test_observers_sent_to_low_turnout_regions_bias_only_the_unstratified_difference() -> None:
    election = honest(1)
    turnout = election.turnout()
    region_turnout = np.bincount(election.region, weights=turnout) / np.bincount(election.region)
    low_regions = region_turnout[election.region] < np.median(region_turnout)
    # Observers at 60 % of stations in low-turnout regions, 5 % elsewhere, at random within.
    rng = np.random.default_rng(1)
    observed = rng.random(election.stations) < np.where(low_regions, 0.6, 0.05)
    effect = observer_effect(election, observed)
    assert effect.turnout_unstratified.significant and effect.turnout_unstratified.difference < 0
    assert not effect.turnout.significant


def test_regions_without_both_kinds_of_station_carry_no_comparison() -> None:
    election = honest(1)
    observed = pick(election, 0.3, 5) & (election.region != 0)  # nobody observes region 0
    effect = observer_effect(election, observed)
    assert np.isnan(effect.turnout_by_region.difference[0])
    assert effect.turnout_by_region.weight[0] == 0.0
    assert effect.turnout_by_region.weight.sum() == pytest.approx(1.0)
    assert effect.turnout_by_region.observed[0] == 0


def test_one_flag_per_station_is_required() -> None:
    election = honest(1)
    with pytest.raises(ValueError, match="one flag per station"):
        observer_effect(election, np.zeros(3, dtype=bool))
