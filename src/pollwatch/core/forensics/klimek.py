"""Klimek's fraud model: incremental and extreme fraud fractions fitted to the fingerprint.

P. Klimek, Y. Yegorov, R. Hanel, S. Thurner, "Statistical detection of systematic election
irregularities", PNAS 109(41):16469–16473, 2012 ("Model" and SI). In a fair election each
station i has turnout τᵢ ~ N(τ̄, σ_τ) and winner's share νᵢ ~ N(ν̄, σ_ν), independently. Then:

- with probability f_i, **incremental fraud**: a fraction xᵢ ~ |N(0, σ_x)| of the non-voters'
  ballots is cast for the winner (ballot stuffing) and a fraction xᵢ^α of the other options'
  votes is switched to him (vote stealing);
- with probability f_e, **extreme fraud**: the same with xᵢ ~ 1 − |N(0, σ_x)|, nearly every
  ballot for the winner.

The first guess of τ̄, ν̄ is the clean peak of the stations' turnout distribution and the median
share of the stations at or below it, and of σ_τ, σ_ν the spreads of the same stations (stuffing
only ever moves stations to the right). (f_i, f_e) are fitted by least squares between the
observed and simulated station-weighted fingerprints on a grid, and the fair model and σ_x by a
pattern search around the first guess (incremental fraud also moves the peak, so the first
guess alone biases f_i down).

Fitting is cheap because the simulation uses common random numbers: each station's fair,
incremental and extreme outcomes and its uniform draw u are fixed once per σ_x, the station
is extreme when u < f_e and incremental when f_e ≤ u < f_e + f_i. With the stations ordered
by u, the simulated histogram for any (f_i, f_e) on the grid is a difference of three
cumulative histograms — no re-simulation per grid point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.forensics.shpilkin import clean_peak
from pollwatch.core.forensics.stations import FloatArray, IntArray, StationResults

BINS = 50
FRACTION_STEP = 0.01  # grid of f_i and f_e
MAX_EXTREME = 0.3
SIGMA_X_START = 0.1
# Below this, incremental fraud barely moves a station and f_i stops being identifiable.
SIGMA_X_MIN = 0.05
# Pattern search over (τ̄, σ_τ, ν̄, σ_ν, σ_x): first steps, bounds, and when to stop.
INITIAL_STEPS = (0.02, 0.01, 0.02, 0.01, 0.04)
_BOUNDS = ((0.0, 1.0), (0.005, 0.5), (0.0, 1.0), (0.005, 0.5), (SIGMA_X_MIN, 0.5))
STEP_HALVINGS = 3
MAX_EVALUATIONS = 120
ALPHA = 2.0
# Simulated stations per fit: ~80 per fingerprint cell, whatever the election's size.
SIMULATED_STATIONS = 200_000
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class FairModel:
    turnout_mean: float
    turnout_sd: float
    share_mean: float
    share_sd: float


@dataclass(frozen=True)
class KlimekFit:
    incremental: float  # f_i
    extreme: float  # f_e
    sigma_x: float
    alpha: float
    fair: FairModel
    residual: float  # sum of squared differences of the normalised fingerprints
    observed: FloatArray  # station shares per (turnout bin, share bin)
    fitted: FloatArray
    fair_only: FloatArray  # the fair model's fingerprint (f_i = f_e = 0)
    edges: FloatArray
    evaluations: int  # simulated fingerprints scored by the pattern search


def fair_model(results: StationResults) -> FairModel:
    turnout, share = results.turnout(), results.leader_share()
    known = np.isfinite(turnout) & np.isfinite(share)
    turnout, share = np.minimum(turnout[known], 1.0), share[known]
    bins = 100
    histogram = np.bincount(np.minimum((turnout * bins).astype(np.intp), bins - 1), minlength=bins)
    peak = (clean_peak(histogram.astype(np.float64)) + 0.5) / bins
    clean = turnout <= peak
    return FairModel(
        turnout_mean=peak,
        turnout_sd=float(np.sqrt(np.mean((turnout[clean] - peak) ** 2))),
        share_mean=float(np.median(share[clean])),
        share_sd=float(MAD_TO_SD * np.median(np.abs(share[clean] - np.median(share[clean])))),
    )


def simulate(
    registered: IntArray,
    fair: FairModel,
    incremental: float,
    extreme: float,
    sigma_x: float,
    alpha: float = ALPHA,
    seed: int = 0,
) -> StationResults:
    """An election drawn from the model, with binomial counts (for tests and figures)."""
    rng = np.random.default_rng(seed)
    n = len(registered)
    draws = _Draws(
        tau=rng.standard_normal(n),
        nu=rng.standard_normal(n),
        noise=np.abs(rng.standard_normal((2, n))),
        u=rng.random(n),
    )
    outcomes = _outcomes(draws, fair, sigma_x, alpha)
    u = draws.u
    kind = np.where(u < extreme, 2, np.where(u < extreme + incremental, 1, 0))
    turnout = np.choose(kind, [outcomes.turnout[k] for k in range(3)])
    share = np.choose(kind, [outcomes.share[k] for k in range(3)])
    registered = np.asarray(registered, dtype=np.int64)
    issued = rng.binomial(registered, turnout)
    leader = rng.binomial(issued, share)
    return StationResults(
        registered=registered,
        issued=issued,
        counted=issued,
        leader=leader,
        region=np.zeros(n, dtype=np.intp),
    )


def fit(
    results: StationResults,
    bins: int = BINS,
    seed: int = 0,
    simulated: int = SIMULATED_STATIONS,
    max_evaluations: int = MAX_EVALUATIONS,
    fair: FairModel | None = None,
) -> KlimekFit:
    """Least-squares fit of (f_i, f_e) on a grid, jointly with σ_x and the fair model.

    The fair model's first guess comes from `fair_model`; but incremental fraud also moves
    stations at and below the peak, so a pattern search then refines (τ̄, σ_τ, ν̄, σ_ν, σ_x),
    each candidate scored by its best (f_i, f_e) on the grid. Given `fair` (known from elsewhere,
    e.g. an election held clean), only σ_x is searched.

    Limits, found on simulated elections: f_e is recovered well; f_i trades off against the
    fair model's location and width (heavy incremental fraud with small xᵢ looks like a fair
    election with a higher, wider peak), so the joint fit tends to underestimate f_i, and on
    heterogeneous electorates (towns and villages, regions voting differently) the single
    Gaussian fair model is wrong and f_i absorbs the heterogeneity. Read f_i with care.
    """
    observed = _normalised(_bin_index(results.turnout(), results.leader_share(), bins), bins)
    rng = np.random.default_rng(seed)
    n = simulated
    draws = _Draws(
        tau=rng.standard_normal(n),
        nu=rng.standard_normal(n),
        noise=np.abs(rng.standard_normal((2, n))),
        u=rng.random(n),
    )
    fractions = np.round(np.arange(0.0, 1.0 + 1e-9, FRACTION_STEP), 10)

    def score(point: FloatArray) -> tuple[float, float, float, FloatArray]:
        candidate = FairModel(*(float(v) for v in point[:4]))
        outcomes = _outcomes(draws, candidate, float(point[4]), ALPHA)
        cumulative = _cumulative_histograms(outcomes, draws.u, fractions, bins)
        return _grid_search(cumulative, fractions, n, observed)

    first = fair if fair is not None else fair_model(results)
    searched = [4] if fair is not None else list(range(5))
    point = np.array(
        [first.turnout_mean, first.turnout_sd, first.share_mean, first.share_sd, SIGMA_X_START]
    )
    steps = np.array(INITIAL_STEPS)
    best = score(point)
    evaluations = 1
    for _ in range(STEP_HALVINGS):
        improved = True
        while improved and evaluations < max_evaluations:
            improved = False
            for k in searched:
                for sign in (1.0, -1.0):
                    candidate = point.copy()
                    candidate[k] = np.clip(candidate[k] + sign * steps[k], *_BOUNDS[k])
                    if candidate[k] == point[k]:
                        continue
                    trial = score(candidate)
                    evaluations += 1
                    if trial[0] < best[0]:
                        point, best, improved = candidate, trial, True
                        break
        steps /= 2
    residual, f_i, f_e, histogram = best
    fitted_fair = FairModel(*(float(v) for v in point[:4]))
    fair_only = _outcomes(draws, fitted_fair, float(point[4]), ALPHA)
    return KlimekFit(
        incremental=f_i,
        extreme=f_e,
        sigma_x=float(point[4]),
        alpha=ALPHA,
        fair=fitted_fair,
        residual=residual,
        observed=observed.reshape(bins, bins),
        fitted=histogram.reshape(bins, bins),
        fair_only=_normalised(
            _bin_index(fair_only.turnout[0], fair_only.share[0], bins), bins
        ).reshape(bins, bins),
        edges=np.linspace(0.0, 1.0, bins + 1),
        evaluations=evaluations,
    )


@dataclass(frozen=True)
class _Draws:
    """Common random numbers: the same standard draws for every candidate parameter set."""

    tau: FloatArray
    nu: FloatArray
    noise: FloatArray  # (2, n) half-normal: incremental and extreme
    u: FloatArray


@dataclass(frozen=True)
class _Outcomes:
    turnout: FloatArray  # (3, n): fair, incremental, extreme
    share: FloatArray


def _outcomes(draws: _Draws, fair: FairModel, sigma_x: float, alpha: float) -> _Outcomes:
    n = len(draws.u)
    tau = np.clip(fair.turnout_mean + fair.turnout_sd * draws.tau, 0.0, 1.0)
    nu = np.clip(fair.share_mean + fair.share_sd * draws.nu, 0.0, 1.0)
    x_incremental = np.clip(sigma_x * draws.noise[0], 0.0, 1.0)
    x_extreme = np.clip(1.0 - sigma_x * draws.noise[1], 0.0, 1.0)
    turnout, share = [tau], [nu]
    for x in (x_incremental, x_extreme):
        stuffed = tau + x * (1.0 - tau)
        winner = tau * nu + x * (1.0 - tau) + x**alpha * tau * (1.0 - nu)
        turnout.append(stuffed)
        share.append(np.divide(winner, stuffed, out=np.zeros(n), where=stuffed > 0))
    return _Outcomes(turnout=np.array(turnout), share=np.array(share))


def _bin_index(turnout: FloatArray, share: FloatArray, bins: int) -> NDArray[np.intp]:
    known = np.isfinite(turnout) & np.isfinite(share)
    i = np.minimum((np.minimum(turnout[known], 1.0) * bins).astype(np.intp), bins - 1)
    j = np.minimum((share[known] * bins).astype(np.intp), bins - 1)
    return i * bins + j


def _normalised(cells: NDArray[np.intp], bins: int) -> FloatArray:
    counts = np.bincount(cells, minlength=bins * bins).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def _cumulative_histograms(
    outcomes: _Outcomes, u: FloatArray, thresholds: FloatArray, bins: int
) -> FloatArray:
    """[kind, t, cell]: how many stations with u < thresholds[t] land in each cell as `kind`."""
    order = np.argsort(u)
    group = np.searchsorted(thresholds, u[order], side="right")  # first threshold above u
    cells = bins * bins
    out = np.empty((3, len(thresholds), cells))
    for kind in range(3):
        cell = _bin_index(outcomes.turnout[kind][order], outcomes.share[kind][order], bins)
        per_group = np.bincount(
            group * cells + cell, minlength=(len(thresholds) + 1) * cells
        ).reshape(len(thresholds) + 1, cells)
        out[kind] = np.cumsum(per_group, axis=0)[: len(thresholds)]
    return out


def _grid_search(
    cumulative: FloatArray, fractions: FloatArray, n: int, observed: FloatArray
) -> tuple[float, float, float, FloatArray]:
    """Best (f_i, f_e) on the grid: extreme = u < f_e, incremental = f_e ≤ u < f_e + f_i."""
    fair, incremental, extreme = cumulative
    everyone = fair[-1]
    best: tuple[float, float, float, FloatArray] | None = None
    max_extreme_index = round(MAX_EXTREME / FRACTION_STEP)
    for e in range(max_extreme_index + 1):
        # All f_i with f_e + f_i ≤ 1 at once: thresholds t = e..end.
        histograms = (
            extreme[e][None, :]
            + incremental[e:]
            - incremental[e][None, :]
            + everyone[None, :]
            - fair[e:]
        ) / n
        residuals = ((histograms - observed[None, :]) ** 2).sum(axis=1)
        k = int(np.argmin(residuals))
        if best is None or residuals[k] < best[0]:
            best = (
                float(residuals[k]),
                float(fractions[e + k] - fractions[e]),
                float(fractions[e]),
                histograms[k],
            )
    assert best is not None
    return best
