"""Integer-percentage test (Kobak, Shpilkin & Pshenichnikov, AoAS 2016)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]

from pollwatch.core.forensics import StationResults
from pollwatch.core.forensics.integer_percentages import (
    included_stations,
    integer_percentage_test,
    monte_carlo_null,
    near_integer_percentage,
    near_integer_probability,
)
from tests.core.forensics.conftest import honest
from tests.core.forensics.synthetic import pick, round_percentages

SIGNIFICANCE = 0.01


def test_near_an_integer_is_decided_in_exact_integers() -> None:
    # 100·k/n: 50.05 (edge, in), 50.06 (out), 49.95 (edge, in), 33.333… (out), 0 and 100 (in).
    k = np.array([1001, 2503, 999, 1, 0, 700])
    n = np.array([2000, 5000, 2000, 3, 700, 700])
    assert near_integer_percentage(k, n).tolist() == [True, False, True, False, True, True]


def test_inclusion_follows_the_paper() -> None:
    r = StationResults(
        registered=np.array([100, 99, 1000, 1000, 1000, 1000]),
        issued=np.array([50, 50, 990, 991, 500, 500]),
        counted=np.array([50, 50, 990, 991, 0, 500]),
        leader=np.array([10, 10, 10, 10, 0, 496]),
        region=np.zeros(6, dtype=np.intp),
    )
    # V < 100; G/V = 0.991 > 0.99; R = 0; L/R = 0.992 > 0.99 are left out.
    assert included_stations(r).tolist() == [True, False, True, False, False, False]


@pytest.mark.parametrize(("n", "p"), [(100, 0.5), (137, 0.31), (1000, 0.7), (2503, 0.955)])
def test_exact_probability_equals_the_brute_force_sum(n: int, p: float) -> None:
    k = np.arange(n + 1)
    near = near_integer_percentage(k, np.full(n + 1, n))
    brute = stats.binom.pmf(k[near], n, p).sum()
    exact = near_integer_probability(np.array([n]), np.array([p]))[0]
    assert exact == pytest.approx(brute, abs=1e-12)


def test_a_station_with_nothing_to_draw_from_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one voter"):
        near_integer_probability(np.array([100, 0]), np.array([0.5, 0.5]))


def test_exact_null_agrees_with_a_1000_replicate_monte_carlo() -> None:
    results = honest(seed=7, stations=5_000)
    exact = integer_percentage_test(results)
    mc = monte_carlo_null(results, replicates=1_000, seed=1)
    for count, (mean, sd) in (
        (exact.either, mc.either),
        (exact.turnout, mc.turnout),
        (exact.leader_share, mc.leader_share),
    ):
        # Within four Monte Carlo standard errors of the mean and of the SD.
        assert abs(count.expected - mean) <= 4 * sd / np.sqrt(mc.replicates)
        assert abs(count.sd - sd) <= 4 * sd / np.sqrt(2 * (mc.replicates - 1))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_synthetic_elections_are_not_flagged(seed: int) -> None:
    test = integer_percentage_test(honest(seed))
    assert test.included > 15_000
    assert test.either.p_value >= SIGNIFICANCE
    assert test.turnout.p_value >= SIGNIFICANCE
    assert test.leader_share.p_value >= SIGNIFICANCE


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_made_up_round_percentages_at_two_percent_of_stations_are_flagged(seed: int) -> None:
    clean = honest(seed)
    falsified = round_percentages(clean, pick(clean, 0.02, seed), seed)
    test = integer_percentage_test(falsified)
    assert test.either.p_value < SIGNIFICANCE
    assert test.either.excess > 0.5 * 0.02 * clean.stations * 0.5  # rounding lands half the time


@pytest.mark.slow
def test_russia_2018_reproduces_kobak_shpilkin_pshenichnikov(russia_2018: StationResults) -> None:
    test = integer_percentage_test(russia_2018)
    assert test.included == 91_152
    assert test.either.observed == 19_271
    assert test.turnout.observed == 10_543
    assert test.leader_share.observed == 10_116
    assert test.either.excess == pytest.approx(1_709, abs=15)
    assert test.either.z > 10
    assert test.either.p_value < 1e-20


@pytest.mark.slow
def test_russia_2020_runs_with_ballots_in_boxes_as_both_r_and_g(
    russia_2020: StationResults,
) -> None:
    test = integer_percentage_test(russia_2020)
    assert 80_000 < test.included < russia_2020.stations
    assert test.either.observed > test.either.expected
    assert np.isfinite(test.either.z)
