"""The observer effect: turnout and the leader's share at stations with observers vs without.

Where observers were present, falsification is harder; a lower turnout and leader share at
observed stations, within the same region, is evidence that the unobserved figures were
inflated (Enikolopov, Korovkin, Petrova, Sonin & Zakharov, "Field experiment estimate of
electoral fraud in Russian parliamentary elections", PNAS 110(2):448–452, 2013; Hyde, "The
observer effect in international politics", World Politics 60(1), 2007).

Observers are rarely placed at random, so the comparison is stratified by region: within each
region h holding both kinds of station, dₕ = ȳ(observed) − ȳ(unobserved) on station means, with
Welch's variance s²₁/n₁ + s²₀/n₀; the overall effect is Σ wₕ dₕ with wₕ the region's share of the
stations in such regions, and variance Σ wₕ² var(dₕ). The confidence interval is normal.
Regions with only one kind of station, or fewer than two of either, carry no comparison and are
reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats  # type: ignore[import-untyped]

from pollwatch.core.forensics.stations import FloatArray, IntArray, StationResults

LEVEL = 0.95


@dataclass(frozen=True)
class Difference:
    """Observed minus unobserved, with its standard error and normal confidence interval."""

    observed_mean: float
    unobserved_mean: float
    difference: float
    se: float
    ci_low: float
    ci_high: float

    @property
    def significant(self) -> bool:
        return not self.ci_low <= 0.0 <= self.ci_high


@dataclass(frozen=True)
class RegionDifferences:
    """Per region (indexing `StationResults.region_names`); NaN where not comparable."""

    observed: IntArray
    unobserved: IntArray
    difference: FloatArray
    se: FloatArray
    weight: FloatArray


@dataclass(frozen=True)
class ObserverEffect:
    turnout: Difference
    leader_share: Difference
    turnout_unstratified: Difference
    leader_share_unstratified: Difference
    turnout_by_region: RegionDifferences
    leader_share_by_region: RegionDifferences
    level: float


def observer_effect(
    results: StationResults, observed: NDArray[np.bool_], level: float = LEVEL
) -> ObserverEffect:
    observed = np.asarray(observed, dtype=bool)
    if observed.shape != (results.stations,):
        raise ValueError(
            f"observed: expected one flag per station ({results.stations}), got {observed.shape}"
        )
    regions = max(len(results.region_names), int(results.region.max(initial=-1)) + 1)
    z = float(stats.norm.ppf(0.5 + level / 2))
    out: dict[str, tuple[Difference, Difference, RegionDifferences]] = {}
    for name, values in (("turnout", results.turnout()), ("share", results.leader_share())):
        known = np.isfinite(values)
        by_region = _by_region(values[known], observed[known], results.region[known], regions)
        stratified = _combine(by_region, values[known], observed[known], z)
        pooled = _by_region(
            values[known], observed[known], np.zeros(int(known.sum()), dtype=np.intp), 1
        )
        out[name] = (stratified, _combine(pooled, values[known], observed[known], z), by_region)
    return ObserverEffect(
        turnout=out["turnout"][0],
        leader_share=out["share"][0],
        turnout_unstratified=out["turnout"][1],
        leader_share_unstratified=out["share"][1],
        turnout_by_region=out["turnout"][2],
        leader_share_by_region=out["share"][2],
        level=level,
    )


def _by_region(
    values: FloatArray, observed: NDArray[np.bool_], region: NDArray[np.intp], regions: int
) -> RegionDifferences:
    group = region * 2 + observed  # 2h: unobserved, 2h + 1: observed
    n = np.bincount(group, minlength=2 * regions).reshape(regions, 2)
    total = np.bincount(group, weights=values, minlength=2 * regions).reshape(regions, 2)
    squares = np.bincount(group, weights=values**2, minlength=2 * regions).reshape(regions, 2)
    comparable = (n >= 2).all(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        variance = (squares - n * mean**2) / (n - 1)
        difference = np.where(comparable, mean[:, 1] - mean[:, 0], np.nan)
        se = np.where(
            comparable, np.sqrt(variance[:, 1] / n[:, 1] + variance[:, 0] / n[:, 0]), np.nan
        )
    stations = np.where(comparable, n.sum(axis=1), 0).astype(np.float64)
    weight = stations / stations.sum() if stations.sum() else stations
    return RegionDifferences(
        observed=n[:, 1], unobserved=n[:, 0], difference=difference, se=se, weight=weight
    )


def _combine(
    by_region: RegionDifferences, values: FloatArray, observed: NDArray[np.bool_], z: float
) -> Difference:
    comparable = by_region.weight > 0
    if not comparable.any():
        nan = float("nan")
        return Difference(nan, nan, nan, nan, nan, nan)
    w = by_region.weight[comparable]
    difference = float((w * by_region.difference[comparable]).sum())
    se = float(np.sqrt((w**2 * by_region.se[comparable] ** 2).sum()))
    return Difference(
        observed_mean=float(values[observed].mean()) if observed.any() else float("nan"),
        unobserved_mean=float(values[~observed].mean()) if (~observed).any() else float("nan"),
        difference=difference,
        se=se,
        ci_low=difference - z * se,
        ci_high=difference + z * se,
    )
