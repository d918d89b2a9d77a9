"""Outcome rules: who won, whether a referendum passed — and whether that changes if the
observers' figures replace the official ones where they differ.

Shares are compared exactly, in integers: "more than half" at exactly half is not met, "at
least two-thirds" at exactly two-thirds is. Thresholds are fractions, configurable per
election, and say whether reaching the share exactly is enough (``inclusive``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from pollwatch.core.crosscheck.hierarchy import Hierarchy
from pollwatch.core.crosscheck.inputs import BoolArray, Figures, IndexArray, Int64Array
from pollwatch.core.tabulation import Tabulation, observed_in_place_of_official, tabulate

# Keeps part × denominator inside int64 for any vote count below 10^12.
MAX_DENOMINATOR = 1_000_000


class OutcomeRuleError(ValueError):
    """An outcome rule that cannot be applied (a share outside 0…1, an unknown line)."""


@dataclass(frozen=True)
class Threshold:
    """``part / whole`` must exceed ``share`` (or reach it, when ``inclusive``)."""

    share: Fraction
    inclusive: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.share <= 1 or self.share.denominator > MAX_DENOMINATOR:
            raise OutcomeRuleError(
                f"threshold {self.share}: expected a fraction between 0 and 1 with a "
                f"denominator of at most {MAX_DENOMINATOR:,}"
            )

    def met(self, part: int, whole: int) -> bool:
        return bool(self.met_each(np.array([part]), np.array([whole]))[0])

    def met_each(self, part: Int64Array, whole: Int64Array) -> BoolArray:
        """Element-wise; a zero ``whole`` never meets a threshold (no votes decide nothing)."""
        scaled = part * self.share.denominator
        bar = whole * self.share.numerator
        reached = scaled >= bar if self.inclusive else scaled > bar
        return np.asarray(reached & (whole > 0))

    def __str__(self) -> str:
        return f"{'≥' if self.inclusive else '>'} {self.share}"


HALF = Threshold(Fraction(1, 2))
TWO_THIRDS_OR_MORE = Threshold(Fraction(2, 3), inclusive=True)


@dataclass(frozen=True)
class TurnoutRule:
    """The vote counts only if ``participants`` (lines added up) exceed a share of registered."""

    participants: tuple[str, ...]
    registered: str = "registered"
    threshold: Threshold = HALF


@dataclass(frozen=True)
class MajorityRule:
    """The option with the most votes wins if it has more than ``threshold`` of the votes.

    The votes are the valid votes — the options' votes added up — unless ``out_of`` names the
    lines to take the share of (Russia: of everyone who voted, ``("valid", "invalid")``). With no
    winner (nobody above the threshold, or a tie for the most votes) ``decision`` is None: a
    runoff, or a referendum not decided. ``turnout``, if given, must be met first.
    """

    options: tuple[str, ...]
    threshold: Threshold = HALF
    out_of: tuple[str, ...] | None = None
    turnout: TurnoutRule | None = None


@dataclass(frozen=True)
class RegionalMajorityRule:
    """Kazakhstan's referendum rule, thresholds configurable.

    Held if participants exceed half of the registered citizens nationwide; adopted if more
    than half of the participants voted ``option`` in at least two-thirds of the regions.
    """

    participants: tuple[str, ...]
    option: str = "yes"
    registered: str = "registered"
    turnout: Threshold = HALF
    regional_share: Threshold = HALF
    regions_needed: Threshold = TWO_THIRDS_OR_MORE


OutcomeRule = MajorityRule | RegionalMajorityRule
ADOPTED, REJECTED = "adopted", "rejected"


@dataclass(frozen=True)
class Outcome:
    """What a rule decides from one tabulation, with the figures it decided on.

    ``decision`` is the winning option's line key (MajorityRule) or "adopted"/"rejected"
    (RegionalMajorityRule); None when the vote was not held or nobody won.
    """

    held: bool
    decision: str | None
    turnout: Fraction | None = None
    shares: dict[str, Fraction] = field(default_factory=dict)
    regions_in_favour: int | None = None
    regions: int | None = None
    regions_passing: tuple[int, ...] = ()  # commission indexes of the regions in favour


def decide(rule: OutcomeRule, tabulation: Tabulation, regions: IndexArray | None = None) -> Outcome:
    """Apply ``rule`` to ``tabulation``; ``regions`` are the commissions a regional rule counts."""
    if isinstance(rule, MajorityRule):
        return _majority(rule, tabulation)
    if regions is None or regions.size == 0:
        raise OutcomeRuleError("a regional rule needs the regions' commission indexes")
    return _regional(rule, tabulation, regions)


def _turnout(tabulation: Tabulation, participants: tuple[str, ...], registered: str) -> Fraction:
    voters = tabulation.national_figure(registered)
    return Fraction(tabulation.national_figure(*participants), voters) if voters else Fraction(0)


def _majority(rule: MajorityRule, tabulation: Tabulation) -> Outcome:
    turnout = None
    if rule.turnout is not None:
        t = rule.turnout
        turnout = _turnout(tabulation, t.participants, t.registered)
        took_part = tabulation.national_figure(*t.participants)
        if not t.threshold.met(took_part, tabulation.national_figure(t.registered)):
            return Outcome(held=False, decision=None, turnout=turnout)
    votes = {key: tabulation.national_figure(key) for key in rule.options}
    whole = tabulation.national_figure(*(rule.out_of or rule.options))
    shares = {key: Fraction(v, whole) if whole else Fraction(0) for key, v in votes.items()}
    most = max(votes.values())
    leaders = [key for key, v in votes.items() if v == most]
    winner = leaders[0] if len(leaders) == 1 and rule.threshold.met(most, whole) else None
    return Outcome(held=True, decision=winner, turnout=turnout, shares=shares)


def _regional(rule: RegionalMajorityRule, tabulation: Tabulation, regions: IndexArray) -> Outcome:
    turnout = _turnout(tabulation, rule.participants, rule.registered)
    took_part = tabulation.national_figure(*rule.participants)
    national_option = tabulation.national_figure(rule.option)
    shares = {rule.option: Fraction(national_option, took_part) if took_part else Fraction(0)}
    if not rule.turnout.met(took_part, tabulation.national_figure(rule.registered)):
        return Outcome(held=False, decision=None, turnout=turnout, shares=shares)
    in_favour = rule.regional_share.met_each(
        tabulation.figures_of(regions, rule.option),
        tabulation.figures_of(regions, *rule.participants),
    )
    count = int(in_favour.sum())
    adopted = rule.regions_needed.met(count, int(regions.size))
    return Outcome(
        held=True,
        decision=ADOPTED if adopted else REJECTED,
        turnout=turnout,
        shares=shares,
        regions_in_favour=count,
        regions=int(regions.size),
        regions_passing=tuple(regions[in_favour].tolist()),
    )


@dataclass(frozen=True)
class OutcomeComparison:
    """The outcome from the official figures and from the observers' figures in their place."""

    official: Outcome
    observed: Outcome
    official_tabulation: Tabulation
    observed_tabulation: Tabulation

    @property
    def regions_that_change(self) -> tuple[int, ...]:
        """Regions (commission indexes) in favour under one set of figures but not the other."""
        return tuple(
            sorted(set(self.official.regions_passing) ^ set(self.observed.regions_passing))
        )

    @property
    def changed(self) -> bool:
        """Whether the observers' figures change whether the vote was held or what it decided."""
        return (self.official.held, self.official.decision) != (
            self.observed.held,
            self.observed.decision,
        )


def would_outcome_change(
    rule: OutcomeRule,
    hierarchy: Hierarchy,
    line_keys: tuple[str, ...],
    official: Figures,
    observed: Figures,
    regions: IndexArray | None = None,
) -> OutcomeComparison:
    """Decide the outcome twice: from the official station figures, and from the same figures
    with the observers' consensus put in wherever they have one (``Consensus.figures``)."""
    official_tabulation = tabulate(hierarchy, official, line_keys)
    replaced = tabulate(hierarchy, observed_in_place_of_official(official, observed), line_keys)
    return OutcomeComparison(
        official=decide(rule, official_tabulation, regions),
        observed=decide(rule, replaced, regions),
        official_tabulation=official_tabulation,
        observed_tabulation=replaced,
    )
