"""Parallel vote tabulation: sample size, stratified sample, ratio estimates, convergence."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.core.forensics import StationResults
from pollwatch.core.pvt import (
    FrameError,
    SampleSizeError,
    SamplingFrame,
    allocate,
    compare_with_official,
    convergence,
    ndi_sample_size,
    pvt_estimate,
    ratio_estimate,
    stations_for,
    strata_codes,
    stratified_sample,
)
from pollwatch.core.synth import SynthParams, generate
from tests.core.forensics.conftest import load_russia


def synthetic(stations: int = 20_000, seed: int = 4) -> tuple[SamplingFrame, StationResults]:
    election = generate(SynthParams.build(stations=stations, seed=seed))
    line = election.protocols.line
    yes, no = line("yes"), line("no")
    results = StationResults(
        registered=line("registered"),
        issued=line("issued_in_station") + line("issued_outside"),
        counted=line("invalid") + yes + no,
        leader=yes,
        region=election.structure.station_region,
        options=np.column_stack([yes, no]),
        option_names=("yes", "no"),
    )
    frame = SamplingFrame(
        station_ids=election.structure.station_number,
        stratum=strata_codes(results.region, election.structure.station_urban),
        registered=results.registered,
    )
    return frame, results


@pytest.fixture(scope="module")
def russia_2018(shared_data: Path) -> StationResults:
    return load_russia(shared_data, 2018)


def frame_of(results: StationResults) -> SamplingFrame:
    return SamplingFrame(
        station_ids=np.arange(results.stations, dtype=np.int64),
        stratum=results.region,
        registered=results.registered,
    )


# --- sample size -------------------------------------------------------------------------


def test_ndi_formula_reproduces_the_handbooks_peru_2001_example() -> None:
    n = ndi_sample_size(population=14_570_774, margin=0.0032, z=2.58)
    assert math.floor(n) == 160_717
    assert n == pytest.approx(160_717.26, abs=0.01)


def test_sample_size_grows_to_the_population_as_the_margin_shrinks() -> None:
    assert ndi_sample_size(1_000, 1e-6, 1.96) == pytest.approx(1_000, rel=1e-3)
    assert ndi_sample_size(10**9, 0.01, 1.96) == pytest.approx(0.25 / (0.01 / 1.96) ** 2, rel=1e-3)
    assert stations_for(160_717.3, 500) == 322


@pytest.mark.parametrize(
    ("population", "margin", "z", "share"),
    [(0, 0.01, 1.96, 0.5), (100, 0.0, 1.96, 0.5), (100, 0.01, 0.0, 0.5), (100, 0.01, 1.96, 1.0)],
)
def test_meaningless_sample_size_parameters_are_refused(
    population: int, margin: float, z: float, share: float
) -> None:
    with pytest.raises(SampleSizeError):
        ndi_sample_size(population, margin, z, share)


# --- frame and sample ---------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(population=st.lists(st.integers(0, 400), min_size=1, max_size=30), data=st.data())
def test_allocation_is_proportional_with_a_floor_and_exact_total(
    population: list[int], data: st.DataObject
) -> None:
    sizes = np.array(population)
    floor_total = int(np.minimum(2, sizes).sum())
    if sizes.sum() == 0:
        with pytest.raises(FrameError, match="between 1 and 0"):
            allocate(sizes, 1)
        return
    size = data.draw(st.integers(max(floor_total, 1), int(sizes.sum())))
    allocated = allocate(sizes, size)
    assert allocated.sum() == size
    assert (allocated <= sizes).all()
    assert (allocated >= np.minimum(2, sizes)).all()
    quota = sizes * size / sizes.sum()
    # Strata above the floor are within one station of their proportional quota, or as far
    # below it as the floors elsewhere force.
    above = allocated > np.minimum(2, sizes)
    assert (allocated[above] <= np.ceil(quota[above])).all()


def test_allocation_refuses_a_sample_too_small_for_the_floors() -> None:
    with pytest.raises(FrameError, match="too small"):
        allocate(np.array([10, 10, 10]), 5)


def test_the_sample_is_stratified_and_reproducible_from_its_seed() -> None:
    frame, _ = synthetic()
    sample = stratified_sample(frame, 1_500, seed=11)
    again = stratified_sample(frame, 1_500, seed=11)
    other = stratified_sample(frame, 1_500, seed=12)
    assert np.array_equal(sample.indices, again.indices)
    assert not np.array_equal(sample.indices, other.indices)
    assert len(np.unique(sample.indices)) == 1_500
    per_stratum = np.bincount(frame.stratum[sample.indices], minlength=frame.strata)
    assert np.array_equal(per_stratum, sample.allocated)
    assert np.array_equal(sample.population, frame.stratum_sizes())


def test_allocation_by_registered_voters_favours_strata_of_big_stations() -> None:
    frame, _ = synthetic()
    by_stations = stratified_sample(frame, 1_500, seed=1)
    by_voters = stratified_sample(frame, 1_500, seed=1, by_voters=True)
    voters = np.bincount(frame.stratum, weights=frame.registered, minlength=frame.strata)
    quota = 1_500 * voters / voters.sum()
    assert by_voters.allocated.sum() == 1_500
    # Within a station of the quota, or two where another stratum's floor took one away.
    assert np.abs(by_voters.allocated - quota).max() <= 2
    urban = np.arange(frame.strata) % 2 == 1  # urban stations are bigger
    assert by_voters.allocated[urban].sum() > by_stations.allocated[urban].sum()


def test_a_frame_with_duplicate_station_ids_is_refused() -> None:
    with pytest.raises(FrameError, match="unique"):
        SamplingFrame(np.array([1, 1]), np.array([0, 0]), np.array([10, 10]))


# --- estimates ----------------------------------------------------------------------------


def test_a_full_count_has_the_exact_result_and_no_margin() -> None:
    frame, results = synthetic(3_000)
    everyone = np.arange(results.stations)
    estimate = pvt_estimate(
        results.options, results.counted, results.issued, results.registered,
        frame.stratum, frame.stratum_sizes(),
    )  # fmt: skip
    assert estimate.shares.value == pytest.approx(
        results.options.sum(axis=0) / results.counted.sum()
    )
    assert estimate.shares.se == pytest.approx([0.0, 0.0], abs=1e-12)
    assert float(estimate.turnout.value) == pytest.approx(
        results.issued[everyone].sum() / results.registered.sum()
    )
    assert estimate.strata_missing == 0


def test_margins_at_95_and_99_percent() -> None:
    frame, results = synthetic()
    sample = stratified_sample(frame, 1_500, seed=1)
    i = sample.indices
    share = ratio_estimate(
        results.leader[i], results.counted[i], frame.stratum[i], sample.population
    )
    assert float(share.moe95) == pytest.approx(1.959964 * float(share.se))
    assert float(share.moe99) == pytest.approx(2.575829 * float(share.se))
    assert 0.001 < float(share.moe95) < 0.02


def test_95_percent_intervals_cover_the_full_count_on_a_synthetic_election() -> None:
    frame, results = synthetic()
    truth = results.leader.sum() / results.counted.sum()
    covered = 0
    for seed in range(400):
        sample = stratified_sample(frame, 800, seed=seed)
        i = sample.indices
        low, high = ratio_estimate(
            results.leader[i], results.counted[i], frame.stratum[i], sample.population
        ).interval(0.95)
        covered += bool(low <= truth <= high)
    # 400 samples: the coverage's own SD is 1.1 points; 95 % ± 3.3 points.
    assert 0.917 <= covered / 400 <= 0.983


def test_comparison_with_the_official_result() -> None:
    frame, results = synthetic()
    sample = stratified_sample(frame, 1_500, seed=3)
    i = sample.indices
    shares = ratio_estimate(
        results.options[i], results.counted[i], frame.stratum[i], sample.population
    )
    official = results.options.sum(axis=0) / results.counted.sum()
    honest = compare_with_official(shares, official)
    assert honest.within99.all()
    inflated = compare_with_official(shares, official + np.array([0.05, -0.05]))
    assert not inflated.within99.any()
    assert (np.abs(inflated.z) > 2.576).all()
    turnout = ratio_estimate(
        results.issued[i], results.registered[i], frame.stratum[i], sample.population
    )
    official_turnout = results.issued.sum() / results.registered.sum()
    assert compare_with_official(turnout, official_turnout).within99
    assert not compare_with_official(turnout, official_turnout + 0.1).within99


def test_estimates_converge_as_reports_arrive() -> None:
    frame, results = synthetic()
    sample = stratified_sample(frame, 1_500, seed=5)
    i = sample.indices
    # Towns report first: urban stations (odd stratum codes) lead the arrival order.
    urban_first = np.argsort(~(frame.stratum[i] % 2 == 1), kind="stable")
    checkpoints = np.array([100, 500, 1_000, 1_500])
    path = convergence(
        results.options[i], results.counted[i], results.issued[i], results.registered[i],
        frame.stratum[i], sample.population, urban_first, checkpoints,
    )  # fmt: skip
    final = pvt_estimate(
        results.options[i], results.counted[i], results.issued[i], results.registered[i],
        frame.stratum[i], sample.population,
    )  # fmt: skip
    assert path.shares[-1] == pytest.approx(final.shares.value)
    assert path.turnout[-1] == pytest.approx(float(final.turnout.value))
    assert path.strata_missing[0] > 0 and path.strata_missing[-1] == 0
    truth = results.leader.sum() / results.counted.sum()
    assert abs(path.shares[-1, 0] - truth) < abs(path.shares[0, 0] - truth)


@pytest.mark.slow
def test_russia_2018_95_percent_intervals_cover_the_full_count(
    russia_2018: StationResults,
) -> None:
    frame = frame_of(russia_2018)
    truth = russia_2018.leader.sum() / russia_2018.counted.sum()
    covered = 0
    for seed in range(1_000):
        sample = stratified_sample(frame, 1_500, seed=seed)
        i = sample.indices
        low, high = ratio_estimate(
            russia_2018.leader[i], russia_2018.counted[i], frame.stratum[i], sample.population
        ).interval(0.95)
        covered += bool(low <= truth <= high)
    assert 0.93 <= covered / 1_000 <= 0.97


def test_a_stratum_with_one_report_borrows_the_pooled_variance() -> None:
    # Stratum 0: four stations reported; stratum 1: one; stratum 2: none yet.
    votes = np.array([50.0, 60.0, 55.0, 45.0, 70.0])
    ballots = np.array([100.0, 100.0, 100.0, 100.0, 100.0])
    stratum = np.array([0, 0, 0, 0, 1])
    population = np.array([40, 10, 5])
    estimate = ratio_estimate(votes, ballots, stratum, population)
    weights = np.array([10.0, 10.0, 10.0, 10.0, 10.0])  # N_h / n_h
    assert float(estimate.value) == pytest.approx(
        (weights * votes).sum() / (weights * ballots).sum()
    )
    r = float(estimate.value)
    e0 = votes[:4] - r * ballots[:4]
    s2 = e0.var(ddof=1)  # stratum 1 has no variance of its own: it borrows stratum 0's
    variance = 40**2 * (1 - 4 / 40) * s2 / 4 + 10**2 * (1 - 1 / 10) * s2 / 1
    assert float(estimate.se) == pytest.approx(np.sqrt(variance) / (weights * ballots).sum())
    full = pvt_estimate(
        votes[:, None], ballots.astype(np.int64), ballots.astype(np.int64),
        ballots.astype(np.int64), stratum, population,
    )  # fmt: skip
    assert full.strata_missing == 1
