"""Distributions, the fingerprint, the figures and the whole report."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.core.forensics import StationResults, forensics_report
from pollwatch.core.forensics.distributions import (
    fingerprint,
    share_distribution,
    turnout_distribution,
)
from pollwatch.core.forensics.figures import (
    distributions_figure,
    fingerprint_figure,
    integer_percentages_figure,
    klimek_figure,
    render,
    shpilkin_figure,
)
from pollwatch.core.forensics.integer_percentages import integer_percentage_test
from pollwatch.core.forensics.klimek import FairModel, fit, simulate
from pollwatch.core.forensics.shpilkin import shpilkin_estimate
from pollwatch.core.forensics.stations import ForensicsInputError
from pollwatch.core.forensics.tables import (
    fingerprint_table,
    histogram_table,
    integer_percentage_table,
    shpilkin_table,
)
from tests.core.forensics.conftest import honest
from tests.core.forensics.synthetic import pick, round_percentages


def tiny() -> StationResults:
    return StationResults(
        registered=np.array([100, 200, 100, 0]),
        issued=np.array([50, 200, 105, 0]),  # 50 %, 100 %, 105 % (in the last bin), none
        counted=np.array([50, 200, 100, 0]),
        leader=np.array([25, 200, 10, 0]),
        region=np.zeros(4, dtype=np.intp),
    )


def test_histograms_keep_every_station_with_a_turnout() -> None:
    turnout = turnout_distribution(tiny(), bins=10)
    assert turnout.counts.tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    voters = turnout_distribution(tiny(), bins=10, weighting="voters")
    assert voters.counts.sum() == 50 + 200 + 105
    share = share_distribution(tiny(), bins=4)
    assert share.counts.tolist() == [1, 0, 1, 1]


def test_fingerprint_weighted_by_stations_and_by_voters() -> None:
    election = honest(1)
    by_stations = fingerprint(election, bins=50)
    assert by_stations.counts.shape == (50, 50)
    assert by_stations.counts.sum() == np.count_nonzero(election.counted > 0)
    by_voters = fingerprint(election, weighting="voters")
    assert by_voters.counts.sum() == election.issued[election.counted > 0].sum()


def test_unknown_weighting_is_refused() -> None:
    with pytest.raises(ValueError, match="weighting"):
        fingerprint(tiny(), weighting="ballots")  # type: ignore[arg-type]


def test_inconsistent_figures_are_refused_with_the_station() -> None:
    with pytest.raises(ForensicsInputError, match="leader: more votes than ballots counted"):
        StationResults(
            registered=np.array([10]),
            issued=np.array([5]),
            counted=np.array([5]),
            leader=np.array([6]),
            region=np.zeros(1, dtype=np.intp),
        )


def test_every_figure_renders_to_png_and_reproducible_svg() -> None:
    election = honest(2, stations=3_000)
    fair = FairModel(0.6, 0.08, 0.6, 0.07)
    model = simulate(election.registered, fair, 0.2, 0.03, 0.1, seed=1)
    figures = [
        fingerprint_figure(fingerprint(election)),
        distributions_figure(turnout_distribution(election), share_distribution(election)),
        integer_percentages_figure(election, integer_percentage_test(election)),
        shpilkin_figure(shpilkin_estimate(election)),
        klimek_figure(fit(model, simulated=10_000, fair=fair)),
    ]
    for figure in figures:
        first, second = render(figure), render(figure)
        assert first.png.startswith(b"\x89PNG\r\n\x1a\n")
        assert first.svg.lstrip().startswith(b"<?xml")
        assert first.svg == second.svg


def test_the_report_runs_every_statistic() -> None:
    election = honest(3, stations=5_000)
    report = forensics_report(election, observed=pick(election, 0.3, 1))
    assert set(report.fingerprint) == {"stations", "voters"}
    assert report.integer_percentages.included > 0
    assert report.observers is not None
    assert np.isfinite(report.shpilkin.excess)
    assert set(report.option_digits) == {"yes", "no"}
    assert forensics_report(election).observers is None


def test_the_data_behind_each_figure_comes_as_columns() -> None:
    election = honest(1, stations=5_000)
    histogram = histogram_table(turnout_distribution(election, bins=20))
    assert len(histogram["low"]) == 20 and sum(histogram["stations"]) == election.stations
    cells = fingerprint_table(fingerprint(election, weighting="voters"))
    assert sum(cells["voters"]) == election.issued[election.counted > 0].sum()
    assert all(w > 0 for w in cells["voters"])
    shpilkin = shpilkin_table(shpilkin_estimate(election))
    assert sum(shpilkin["leader_votes"]) == election.leader.sum()
    test = integer_percentage_test(election)
    fine = integer_percentage_table(election, test)
    assert len(fine["percent_low"]) == 1_000
    assert sum(fine["stations_by_turnout"]) == test.included


def test_rounded_percentages_show_as_spikes_at_integers() -> None:
    clean = honest(2)
    falsified = pick(clean, 0.05, 2)
    rounded = round_percentages(clean, falsified, 2)

    def near_and_halfway(results: StationResults) -> tuple[float, float]:
        fine = integer_percentage_table(results, integer_percentage_test(results))
        by_share = np.array(fine["stations_by_leader_share"])
        integers = np.arange(30, 99) * 10  # bins [j, j + 0.1) and [j − 0.1, j) meet at j
        near = by_share[integers].sum() + by_share[integers - 1].sum()
        halfway = by_share[integers + 4].sum() + by_share[integers + 5].sum()
        return float(near), float(halfway)

    clean_near, clean_halfway = near_and_halfway(clean)
    rounded_near, rounded_halfway = near_and_halfway(rounded)
    # Rounding to a whole percentage lands within 0.05 points when the station has ≥ 1,000
    # ballots, about half of them: the spikes gain at least a third of the falsified stations.
    assert rounded_near - clean_near > falsified.sum() / 3
    assert rounded_halfway <= clean_halfway


@pytest.mark.slow
def test_the_report_runs_on_russia_2020(russia_2020: StationResults) -> None:
    report = forensics_report(russia_2020)
    assert report.fingerprint["voters"].counts.sum() == russia_2020.issued.sum()
    assert set(report.option_digits) == {"yes", "no"}
    assert report.shpilkin.excess > 0
