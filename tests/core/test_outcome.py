"""Outcome rules on hand-made tabulations, including the exact edges of every threshold."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from pollwatch.core.crosscheck import Figures, Hierarchy
from pollwatch.core.crosscheck.inputs import IndexArray
from pollwatch.core.outcome import (
    ADOPTED,
    REJECTED,
    MajorityRule,
    OutcomeRuleError,
    RegionalMajorityRule,
    Threshold,
    TurnoutRule,
    decide,
    would_outcome_change,
)
from pollwatch.core.tabulation import Tabulation, tabulate

KEYS = ("registered", "issued", "yes", "no")
KAZAKH = RegionalMajorityRule(participants=("issued",))


def _national(registered: int, issued: int, yes: int, no: int) -> Tabulation:
    figures = Figures.complete([[registered, issued, yes, no]])
    return tabulate(Hierarchy.flat(1), figures, KEYS)


def _regions(*regions: tuple[int, int, int, int]) -> tuple[Tabulation, IndexArray]:
    """One station per region, regions 1… under a centre 0; returns (tabulation, regions)."""
    count = len(regions)
    hierarchy = Hierarchy(
        commission_parent=np.array([-1] + [0] * count, dtype=np.intp),
        station_commission=np.arange(1, count + 1, dtype=np.intp),
    )
    table = tabulate(hierarchy, Figures.complete(list(regions)), KEYS)
    return table, hierarchy.level(1)


def test_threshold_edges_are_exact() -> None:
    half = Threshold(Fraction(1, 2))
    assert not half.met(50, 100)
    assert half.met(51, 100)
    assert Threshold(Fraction(1, 2), inclusive=True).met(50, 100)
    two_thirds = Threshold(Fraction(2, 3), inclusive=True)
    assert two_thirds.met(2, 3) and two_thirds.met(14, 21)
    assert not two_thirds.met(13, 21)
    assert not Threshold(Fraction(2, 3)).met(2, 3)
    assert not half.met(0, 0)
    # Large counts: no floating point between 0.5 and one vote in a hundred million.
    assert half.met(50_000_001, 100_000_000)
    assert not half.met(50_000_000, 100_000_000)


def test_thresholds_outside_zero_to_one_are_refused() -> None:
    with pytest.raises(OutcomeRuleError, match="between 0 and 1"):
        Threshold(Fraction(3, 2))
    with pytest.raises(OutcomeRuleError, match="denominator"):
        Threshold(Fraction(1, 10**7))


def test_majority_of_valid_votes() -> None:
    rule = MajorityRule(options=("yes", "no"))
    assert decide(rule, _national(100, 80, 41, 39)).decision == "yes"
    assert decide(rule, _national(100, 80, 30, 50)).decision == "no"
    exactly_half = decide(rule, _national(100, 80, 40, 40))
    assert exactly_half.held and exactly_half.decision is None
    assert exactly_half.shares == {"yes": Fraction(1, 2), "no": Fraction(1, 2)}


def test_majority_of_everyone_who_voted_counts_invalid_ballots_too() -> None:
    # 41 of 80 valid is a majority; 41 of 80 + 3 invalid (= the issued line here) is not.
    rule = MajorityRule(options=("yes", "no"), out_of=("issued",))
    assert decide(rule, _national(100, 83, 41, 39)).decision is None
    assert decide(rule, _national(100, 81, 41, 39)).decision == "yes"


def test_a_plurality_rule_and_a_tie() -> None:
    rule = MajorityRule(options=("yes", "no"), threshold=Threshold(Fraction(0), inclusive=True))
    assert decide(rule, _national(100, 80, 30, 50)).decision == "no"
    assert decide(rule, _national(100, 80, 40, 40)).decision is None


def test_turnout_threshold() -> None:
    rule = MajorityRule(options=("yes", "no"), turnout=TurnoutRule(participants=("issued",)))
    at_half = decide(rule, _national(100, 50, 40, 10))
    assert not at_half.held and at_half.decision is None
    assert at_half.turnout == Fraction(1, 2)
    above = decide(rule, _national(100, 51, 40, 11))
    assert above.held and above.decision == "yes"
    inclusive = MajorityRule(
        options=("yes", "no"),
        turnout=TurnoutRule(("issued",), threshold=Threshold(Fraction(1, 2), inclusive=True)),
    )
    assert decide(inclusive, _national(100, 50, 40, 10)).held


def test_kazakh_rule_turnout_must_exceed_half_nationwide() -> None:
    table, regions = _regions((100, 50, 50, 0), (100, 50, 50, 0), (100, 50, 50, 0))
    outcome = decide(KAZAKH, table, regions)
    assert not outcome.held and outcome.decision is None
    table, regions = _regions((100, 51, 50, 0), (100, 50, 50, 0), (100, 50, 50, 0))
    assert decide(KAZAKH, table, regions).decision == ADOPTED


def test_kazakh_rule_exactly_two_thirds_of_regions_is_enough() -> None:
    yes, no = (100, 60, 40, 20), (100, 60, 20, 40)
    table, regions = _regions(yes, yes, yes, yes, no, no)
    outcome = decide(KAZAKH, table, regions)
    assert (outcome.decision, outcome.regions_in_favour, outcome.regions) == (ADOPTED, 4, 6)
    table, regions = _regions(yes, yes, yes, no, no, no)
    assert decide(KAZAKH, table, regions).decision == REJECTED


def test_kazakh_rule_exactly_half_of_a_regions_participants_is_not_a_majority_there() -> None:
    yes, half = (100, 60, 40, 20), (100, 60, 30, 30)
    table, regions = _regions(yes, yes, half)
    outcome = decide(KAZAKH, table, regions)
    assert (outcome.decision, outcome.regions_in_favour) == (ADOPTED, 2)
    table, regions = _regions(yes, half, half)
    assert decide(KAZAKH, table, regions).decision == REJECTED
    # Share of participants, not of valid votes: 31 Yes of 60 issued though only 50 valid.
    table, regions = _regions(yes, (100, 60, 31, 19), (100, 60, 30, 20))
    assert decide(KAZAKH, table, regions).regions_in_favour == 2


def test_kazakh_rule_thresholds_are_configurable() -> None:
    strict = RegionalMajorityRule(
        participants=("issued",), regions_needed=Threshold(Fraction(3, 4), inclusive=True)
    )
    yes, no = (100, 60, 40, 20), (100, 60, 20, 40)
    table, regions = _regions(yes, yes, yes, yes, no, no)
    assert decide(strict, table, regions).decision == REJECTED
    with pytest.raises(OutcomeRuleError, match="regions"):
        decide(KAZAKH, table)


def test_the_observers_figures_change_the_outcome() -> None:
    # Three regions with one station each; officially Yes wins in region 3 (31 of 60).
    hierarchy = Hierarchy(
        np.array([-1, 0, 0, 0], dtype=np.intp), np.array([1, 2, 3], dtype=np.intp)
    )
    official = Figures.complete([[100, 60, 40, 20], [100, 60, 20, 40], [100, 60, 31, 29]])
    observed = Figures(
        np.array([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 29, 31]], dtype=np.int64),
        np.array([[True] * 4, [True] * 4, [True, True, False, False]]),
    )
    comparison = would_outcome_change(
        KAZAKH, hierarchy, KEYS, official, observed, hierarchy.level(1)
    )
    assert comparison.official.decision == ADOPTED
    assert comparison.observed.decision == REJECTED
    assert comparison.changed
    assert comparison.official.regions_passing == (1, 3)
    assert comparison.regions_that_change == (3,)
    assert comparison.observed_tabulation.national.tolist() == [300, 180, 89, 91]


def test_differences_that_do_not_change_the_outcome() -> None:
    hierarchy = Hierarchy.flat(2)
    official = Figures.complete([[100, 60, 50, 10], [100, 60, 45, 15]])
    observed = Figures(
        np.array([[0, 0, 40, 20], [0, 0, 0, 0]], dtype=np.int64),
        np.array([[True, True, False, False], [True] * 4]),
    )
    rule = MajorityRule(options=("yes", "no"))
    comparison = would_outcome_change(rule, hierarchy, KEYS, official, observed)
    assert comparison.official.decision == comparison.observed.decision == "yes"
    assert comparison.official.shares["yes"] == Fraction(95, 120)
    assert comparison.observed.shares["yes"] == Fraction(85, 120)
    assert not comparison.changed
