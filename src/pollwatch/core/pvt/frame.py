"""The sampling frame and a stratified random sample of polling stations.

NDI Quick Count handbook (Estok, Nevitte & Cowan, 2002), ch. 5: the frame is the official list
of polling stations; the sample is drawn at random within strata (regions, and optionally urban
and rural) in proportion to each stratum's number of stations, so that every station has a known
chance of selection. Allocation is proportional (to stations, or optionally to registered
voters) by largest remainder, with at least
`MIN_PER_STRATUM` stations in every stratum that has them, so that every stratum's variance can
be estimated; the estimator weights each stratum by N_h/n_h, so this costs no bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]

MIN_PER_STRATUM = 2


class FrameError(ValueError):
    """A frame or sample request that cannot be met."""


@dataclass(frozen=True)
class SamplingFrame:
    """One entry per polling station; `stratum` indexes `stratum_names`."""

    station_ids: NDArray[np.int64]
    stratum: NDArray[np.intp]
    registered: IntArray
    stratum_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.station_ids)
        if self.stratum.shape != (n,) or self.registered.shape != (n,):
            raise FrameError(
                f"station_ids, stratum and registered must have one entry per station ({n})"
            )
        if n and self.stratum.min() < 0:
            raise FrameError("stratum codes must be non-negative")
        if len(np.unique(self.station_ids)) != n:
            raise FrameError("station ids must be unique")

    @property
    def strata(self) -> int:
        return int(self.stratum.max(initial=-1)) + 1

    def stratum_sizes(self) -> IntArray:
        return np.bincount(self.stratum, minlength=self.strata).astype(np.int64)

    @cached_property
    def by_stratum(self) -> NDArray[np.intp]:
        """Station indices grouped by stratum (computed once per frame)."""
        return np.argsort(self.stratum, kind="stable")


def strata_codes(
    region: NDArray[np.intp], urban: NDArray[np.bool_] | None = None
) -> NDArray[np.intp]:
    """Region codes, or region × {rural, urban} when `urban` is given."""
    region = np.asarray(region, dtype=np.intp)
    if urban is None:
        return region
    return region * 2 + np.asarray(urban, dtype=np.intp)


@dataclass(frozen=True)
class StratifiedSample:
    """Indices into the frame, and the stratum sizes the estimator needs."""

    indices: NDArray[np.intp]
    population: IntArray  # N_h, stations per stratum in the frame
    allocated: IntArray  # n_h
    seed: int


def allocate(
    population: IntArray,
    size: int,
    minimum: int = MIN_PER_STRATUM,
    weight: NDArray[np.float64] | IntArray | None = None,
) -> IntArray:
    """n_h ∝ weight_h (default N_h) by largest remainder, at least min(minimum, N_h) and at most
    N_h each, summing to `size`."""
    population = np.asarray(population, dtype=np.int64)
    total = int(population.sum())
    if not 0 < size <= total:
        raise FrameError(f"sample size must be between 1 and {total} stations, got {size}")
    share = population if weight is None else np.asarray(weight, dtype=np.float64)
    if share.shape != population.shape or share.min(initial=0) < 0 or share.sum() <= 0:
        raise FrameError("allocation weights must be one non-negative number per stratum")
    floor = np.minimum(minimum, population)
    if floor.sum() > size:
        raise FrameError(
            f"sample size {size} is too small for {minimum} stations in each of"
            f" {np.count_nonzero(population)} strata ({int(floor.sum())} needed)"
        )
    quota = np.minimum(share * (size / share.sum()), population)
    allocated = np.maximum(np.floor(quota).astype(np.int64), floor)
    # Hand out the remaining stations to the strata furthest below their quota, or take back
    # the excess (floors can overshoot) from those furthest above it.
    while (gap := size - int(allocated.sum())) != 0:
        deficit = quota - allocated
        if gap > 0:
            eligible = allocated < population
            order = np.argsort(np.where(eligible, -deficit, np.inf), kind="stable")
        else:
            eligible = allocated > floor
            order = np.argsort(np.where(eligible, deficit, np.inf), kind="stable")
        chosen = order[: min(abs(gap), int(eligible.sum()))]
        allocated[chosen] += 1 if gap > 0 else -1
    return allocated


def stratified_sample(
    frame: SamplingFrame,
    size: int,
    seed: int,
    minimum: int = MIN_PER_STRATUM,
    by_voters: bool = False,
) -> StratifiedSample:
    """A simple random sample of n_h stations in every stratum, the same for the same seed.

    n_h is proportional to the stratum's stations, or with `by_voters` to its registered voters
    (strata of big urban stations then get more of the sample).
    """
    population = frame.stratum_sizes()
    weight = (
        np.bincount(frame.stratum, weights=frame.registered, minlength=frame.strata)
        if by_voters
        else None
    )
    allocated = allocate(population, size, minimum, weight)
    rng = np.random.default_rng(seed)
    by_stratum = frame.by_stratum
    starts = np.cumsum(population) - population
    chosen = [
        by_stratum[start + rng.choice(n_pop, n_take, replace=False)]
        for start, n_pop, n_take in zip(starts, population, allocated, strict=True)
        if n_take
    ]
    indices = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.intp)
    return StratifiedSample(
        indices=indices.astype(np.intp), population=population, allocated=allocated, seed=seed
    )
