"""Digit tests: 2BL, last digit, Beber–Scacco, C05s, P05s."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.core.forensics.digits import (
    BENFORD_SECOND_DIGIT,
    BENFORD_SECOND_DIGIT_MEAN,
    digit_tests,
    second_digit,
)
from tests.core.forensics.conftest import honest
from tests.core.forensics.synthetic import invent_counts, pick, round_percentages

SIGNIFICANCE = 0.01


def test_benford_second_digit_law() -> None:
    assert BENFORD_SECOND_DIGIT.sum() == pytest.approx(1.0)
    assert round(BENFORD_SECOND_DIGIT_MEAN, 3) == 4.187
    assert BENFORD_SECOND_DIGIT[0] == pytest.approx(0.11968, abs=1e-5)


def test_second_digit_including_powers_of_ten() -> None:
    counts = np.array([5, 10, 19, 99, 100, 1000, 1234, 999, 56_789, 10**12 + 3 * 10**10])
    assert second_digit(counts).tolist() == [0, 9, 9, 0, 0, 2, 9, 6, 0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_synthetic_counts_pass_the_last_digit_tests(seed: int) -> None:
    election = honest(seed)
    tests = digit_tests(election.leader, election.counted, level=1 - SIGNIFICANCE, seed=seed)
    assert not tests.last_digit_mean.flagged
    assert not tests.c05s.flagged
    assert not tests.p05s.flagged
    assert tests.last_digit_chi_square.p_value >= SIGNIFICANCE


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_invented_counts_ending_in_0_or_5_are_flagged(seed: int) -> None:
    clean = honest(seed)
    invented = invent_counts(clean, pick(clean, 0.1, seed), seed)
    tests = digit_tests(invented.leader, invented.counted, level=1 - SIGNIFICANCE, seed=seed)
    assert tests.c05s.flagged and tests.c05s.value > 0.2
    assert tests.last_digit_mean.flagged
    assert tests.last_digit_chi_square.p_value < SIGNIFICANCE


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_percentages_rounded_to_fives_are_flagged_by_p05s(seed: int) -> None:
    clean = honest(seed)
    made_up = round_percentages(clean, pick(clean, 0.1, seed), seed, step=5)
    tests = digit_tests(made_up.leader, made_up.counted, level=1 - SIGNIFICANCE, seed=seed)
    assert tests.p05s.flagged and tests.p05s.value > 0.2


def test_2bl_accepts_counts_spread_over_decades_and_flags_counts_within_one() -> None:
    rng = np.random.default_rng(5)
    # Log-uniform counts over four decades follow Benford's law; counts of one station size
    # (a few hundred to a few thousand, like any one option's votes in a referendum) do not.
    # 2BL says the latter is "not Benford", which is no evidence of fraud (Mebane 2006).
    benford = np.floor(10 ** rng.uniform(1, 5, 50_000)).astype(np.int64)
    spread = digit_tests(benford, benford, level=1 - SIGNIFICANCE, seed=1)
    assert not spread.second_digit_mean.flagged
    one_decade = honest(1).leader
    narrow = digit_tests(one_decade, honest(1).counted, level=1 - SIGNIFICANCE, seed=1)
    assert narrow.second_digit_mean.flagged


def test_the_bootstrap_interval_matches_the_binomial_standard_error() -> None:
    election = honest(2)
    tests = digit_tests(election.leader, election.counted, level=0.95, replicates=4_000)
    c05s = tests.c05s
    se = np.sqrt(c05s.value * (1 - c05s.value) / c05s.n)
    assert (c05s.ci_high - c05s.ci_low) / (2 * 1.96 * se) == pytest.approx(1.0, abs=0.1)
