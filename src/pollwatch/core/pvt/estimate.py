"""The PVT's estimates: stratified ratio estimators with their margins of error.

NDI Quick Count handbook (Estok, Nevitte & Cowan, 2002), ch. 5, and Cochran, "Sampling
Techniques" (3rd ed., 1977), §6.11 (the combined ratio estimate) and §5A: an option's share is
the ratio R̂ = Ŷ/X̂ of its estimated votes to the estimated ballots, with
Ŷ = Σₕ (Nₕ/nₕ) Σ_{i∈sₕ} yᵢ; turnout is estimated the same way as ballots over registered voters.
Its variance, by linearisation with the finite-population correction (1 − nₕ/Nₕ):

    v(R̂) = X̂⁻² Σₕ Nₕ² (1 − nₕ/Nₕ) s²_{e,h} / nₕ,   eᵢ = yᵢ − R̂ xᵢ,

where s²_{e,h} is the sample variance of e within stratum h. Margins of error are z · √v at
95 % (z = 1.960) and 99 % (z = 2.576). A stratum with a single reported station has no
variance of its own; it borrows the pooled within-stratum variance of the others. Strata with
no reported station yet are left out of both sums (the estimate then describes the reported
strata only, which `PvtEstimate.strata_missing` says).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats  # type: ignore[import-untyped]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

Z95 = float(stats.norm.ppf(0.975))
Z99 = float(stats.norm.ppf(0.995))


@dataclass(frozen=True)
class Ratio:
    """A ratio estimate per column (options) or a single one (turnout): value and SE."""

    value: FloatArray
    se: FloatArray

    @property
    def moe95(self) -> FloatArray:
        return Z95 * self.se

    @property
    def moe99(self) -> FloatArray:
        return Z99 * self.se

    def interval(self, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
        z = float(stats.norm.ppf(0.5 + level / 2))
        return self.value - z * self.se, self.value + z * self.se


@dataclass(frozen=True)
class PvtEstimate:
    shares: Ratio  # one per option: votes / counted ballots
    turnout: Ratio  # ballots issued / registered
    reported: int
    strata_missing: int


@dataclass(frozen=True)
class Comparison:
    """Official result against the PVT's estimate, per option."""

    difference: FloatArray  # official − estimate
    z: FloatArray
    within95: NDArray[np.bool_]
    within99: NDArray[np.bool_]


def ratio_estimate(
    numerator: FloatArray | IntArray,
    denominator: FloatArray | IntArray,
    stratum: NDArray[np.intp],
    population: IntArray,
) -> Ratio:
    """Combined stratified ratio estimator; `numerator` may have one column per option."""
    y = np.asarray(numerator, dtype=np.float64)
    single = y.ndim == 1
    if single:
        y = y[:, None]
    x = np.asarray(denominator, dtype=np.float64)
    strata = len(population)
    n_h = np.bincount(stratum, minlength=strata).astype(np.float64)
    reported = n_h > 0
    weight = np.divide(population, n_h, out=np.zeros(strata), where=reported)  # N_h / n_h
    w = weight[stratum]
    x_total = float((w * x).sum())
    if x_total <= 0:
        raise ValueError("no ballots in the reported stations: nothing to estimate from")
    ratio = (w[:, None] * y).sum(axis=0) / x_total
    residual = y - ratio[None, :] * x[:, None]  # e_i per option
    sum_e = _by_stratum(stratum, residual, strata)
    sum_e2 = _by_stratum(stratum, residual**2, strata)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = (sum_e2 - sum_e**2 / n_h[:, None]) / (n_h[:, None] - 1)
    has_variance = n_h >= 2
    if has_variance.any():
        pooled = (sum_e2 - sum_e**2 / np.maximum(n_h, 1)[:, None])[has_variance].sum(axis=0) / (
            n_h[has_variance] - 1
        ).sum()
    else:
        pooled = np.zeros(y.shape[1])
    s2 = np.where(has_variance[:, None], s2, pooled[None, :])
    fpc = np.where(reported, 1.0 - n_h / np.maximum(population, 1), 0.0)
    contribution = np.where(
        reported[:, None],
        (population**2 * fpc / np.maximum(n_h, 1))[:, None] * s2,
        0.0,
    )
    se = np.sqrt(np.maximum(contribution.sum(axis=0), 0.0)) / x_total
    if single:
        return Ratio(value=ratio.reshape(()), se=se.reshape(()))
    return Ratio(value=ratio, se=se)


def pvt_estimate(
    option_votes: IntArray,
    counted: IntArray,
    issued: IntArray,
    registered: IntArray,
    stratum: NDArray[np.intp],
    population: IntArray,
) -> PvtEstimate:
    """Every option's share of counted ballots and turnout, from the reported sample stations.

    Arrays hold the reported stations only (`option_votes` one column per option); `stratum`
    is each one's stratum and `population` the frame's stations per stratum (N_h).
    """
    reported_strata = np.bincount(stratum, minlength=len(population)) > 0
    return PvtEstimate(
        shares=ratio_estimate(option_votes, counted, stratum, population),
        turnout=ratio_estimate(issued, registered, stratum, population),
        reported=len(stratum),
        strata_missing=int(np.count_nonzero(~reported_strata & (population > 0))),
    )


def compare_with_official(estimate: Ratio, official: FloatArray) -> Comparison:
    """Is the official share within the PVT's margin of error?"""
    official = np.asarray(official, dtype=np.float64)
    difference = official - estimate.value
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(estimate.se > 0, difference / estimate.se, np.inf * np.sign(difference))
    return Comparison(
        difference=difference,
        z=z,
        within95=np.abs(difference) <= estimate.moe95,
        within99=np.abs(difference) <= estimate.moe99,
    )


def _by_stratum(stratum: NDArray[np.intp], values: FloatArray, strata: int) -> FloatArray:
    """Per-stratum column sums: (strata, columns)."""
    columns = values.shape[1]
    flat = stratum[:, None] * columns + np.arange(columns)[None, :]
    sums = np.bincount(flat.ravel(), weights=values.ravel(), minlength=strata * columns)
    return sums.astype(np.float64).reshape(strata, columns)
