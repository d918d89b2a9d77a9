"""How the PVT's estimate settles as sample stations report on election night.

NDI Quick Count handbook (Estok, Nevitte & Cowan, 2002), ch. 7: the quick-count centre watches
the estimates and their margins after each batch of reports and announces only once they have
stabilised and enough of every stratum has reported (early reports are not random: towns report
before villages).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.pvt.estimate import FloatArray, IntArray, ratio_estimate


@dataclass(frozen=True)
class Convergence:
    """Estimates after the first `reported[c]` reports: shares[c, option], se[c, option]."""

    reported: IntArray
    shares: FloatArray
    se: FloatArray
    turnout: FloatArray
    turnout_se: FloatArray
    strata_missing: IntArray


def convergence(
    option_votes: IntArray,
    counted: IntArray,
    issued: IntArray,
    registered: IntArray,
    stratum: NDArray[np.intp],
    population: IntArray,
    arrival_order: NDArray[np.intp],
    checkpoints: IntArray,
) -> Convergence:
    """Re-estimate after each checkpoint's number of reports, in `arrival_order`.

    Loops over checkpoints (tens), never over stations.
    """
    checkpoints = np.asarray(checkpoints, dtype=np.int64)
    if checkpoints.min(initial=1) < 1 or checkpoints.max(initial=0) > len(arrival_order):
        raise ValueError(f"checkpoints must lie between 1 and {len(arrival_order)} reports")
    options = option_votes.shape[1]
    shares = np.full((len(checkpoints), options), np.nan)
    se = np.full((len(checkpoints), options), np.nan)
    turnout = np.full(len(checkpoints), np.nan)
    turnout_se = np.full(len(checkpoints), np.nan)
    missing = np.zeros(len(checkpoints), dtype=np.int64)
    for c, count in enumerate(checkpoints):
        first = arrival_order[:count]
        s = stratum[first]
        missing[c] = np.count_nonzero(
            (np.bincount(s, minlength=len(population)) == 0) & (population > 0)
        )
        if counted[first].sum() == 0 or registered[first].sum() == 0:
            continue
        share = ratio_estimate(option_votes[first], counted[first], s, population)
        turn = ratio_estimate(issued[first], registered[first], s, population)
        shares[c], se[c] = share.value, share.se
        turnout[c], turnout_se[c] = float(turn.value), float(turn.se)
    return Convergence(
        reported=checkpoints,
        shares=shares,
        se=se,
        turnout=turnout,
        turnout_se=turnout_se,
        strata_missing=missing,
    )
