"""Every forensic statistic of one election in one call (the Klimek fit is separate: slower)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.forensics.digits import DigitTests, digit_tests
from pollwatch.core.forensics.distributions import (
    Fingerprint,
    Histogram,
    Weighting,
    fingerprint,
    share_distribution,
    turnout_distribution,
)
from pollwatch.core.forensics.integer_percentages import (
    IntegerPercentageTest,
    integer_percentage_test,
)
from pollwatch.core.forensics.observers import ObserverEffect, observer_effect
from pollwatch.core.forensics.shpilkin import ShpilkinEstimate, shpilkin_estimate
from pollwatch.core.forensics.stations import StationResults


@dataclass(frozen=True)
class ForensicsReport:
    turnout: dict[Weighting, Histogram]
    leader_share: dict[Weighting, Histogram]
    fingerprint: dict[Weighting, Fingerprint]
    integer_percentages: IntegerPercentageTest
    shpilkin: ShpilkinEstimate
    leader_digits: DigitTests
    option_digits: dict[str, DigitTests]  # every option's votes, by option name
    observers: ObserverEffect | None


def forensics_report(
    results: StationResults,
    observed: NDArray[np.bool_] | None = None,
    seed: int = 0,
) -> ForensicsReport:
    weightings: tuple[Weighting, ...] = ("stations", "voters")
    return ForensicsReport(
        turnout={w: turnout_distribution(results, weighting=w) for w in weightings},
        leader_share={w: share_distribution(results, weighting=w) for w in weightings},
        fingerprint={w: fingerprint(results, weighting=w) for w in weightings},
        integer_percentages=integer_percentage_test(results),
        shpilkin=shpilkin_estimate(results),
        leader_digits=digit_tests(results.leader, results.counted, seed=seed),
        option_digits={
            name: digit_tests(results.options[:, k], results.counted, seed=seed)
            for k, name in enumerate(results.option_names)
            if results.options.size
        },
        observers=None if observed is None else observer_effect(results, observed),
    )
