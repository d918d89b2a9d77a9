"""Forensics and PVT on an election in the database: official results, observers' consensus."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pollwatch.analysis.election_figures import (
    ElectionFiguresError,
    observed_station_figures,
    official_station_figures,
    registry_frame,
)
from pollwatch.core.synth import SynthParams, generate, write_files
from pollwatch.demo.election import load_synthetic_election
from pollwatch.official.models import OfficialResult
from pollwatch.registry.models import Election, PollingStation

pytestmark = pytest.mark.django_db

STATIONS = 400


@pytest.fixture
def election(tmp_path: Path) -> Iterator[Election]:
    write_files(generate(SynthParams.build(stations=STATIONS, seed=5)), tmp_path / "synth")
    yield load_synthetic_election(tmp_path / "synth", crosscheck=False)


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_official_figures_follow_the_template_statistics(election: Election) -> None:
    figures = official_station_figures(election)
    rows = {
        row.station_id: row.figures
        for row in OfficialResult.objects.filter(election=election, current=True).exclude(
            station=None
        )
    }
    assert figures.stations == len(rows)
    assert sorted(rows) == figures.rows.tolist()
    first = rows[int(figures.rows[0])]
    assert figures.issued[0] == first["issued_in_station"] + first["issued_outside"]
    assert figures.counted[0] == first["invalid"] + first["yes"] + first["no"]
    assert figures.registered[0] == first["registered"]
    assert figures.options[0].tolist() == [first["yes"], first["no"]]
    codes = dict(PollingStation.objects.values_list("pk", "code"))
    assert figures.codes[0] == codes[int(figures.rows[0])]
    # Regions: the commissions under the central one, every station in one of them.
    assert len(figures.region_names) > 1
    assert figures.region.max() == len(figures.region_names) - 1


def test_observed_figures_are_the_consensus_where_copies_agree(election: Election) -> None:
    observed = observed_station_figures(election)
    official = official_station_figures(election)
    assert 0 < observed.stations < STATIONS
    # Most observed stations report what the commission published; stuffed ones do not.
    common = np.intersect1d(observed.rows, official.rows)
    at_observed = np.searchsorted(observed.rows, common)
    at_official = np.searchsorted(official.rows, common)
    same = observed.options[at_observed] == official.options[at_official]
    assert same.all(axis=1).mean() > 0.8
    assert not same.all()


def test_forensics_on_the_election_prints_the_report_as_json(election: Election) -> None:
    report = json.loads(_run("forensics", "--election", election.slug, "--json", "--no-klimek"))
    assert report["integer_percentage"]["included"] > 0
    assert report["stations"] == official_station_figures(election).stations
    observed = json.loads(
        _run("forensics", "--election", election.slug, "--observed", "--json", "--no-klimek")
    )
    assert observed["stations"] == observed_station_figures(election).stations


def test_pvt_draws_from_the_registry_and_estimates_from_the_copies(
    election: Election, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.csv"
    _run("pvt", "draw", "--election", election.slug, "--size", "150", "--seed", "3",
         "--by-region", "--out", str(sample))  # fmt: skip
    with sample.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    frame = registry_frame(election)
    assert len(rows) == 150
    assert {row["station_code"] for row in rows} <= set(frame.codes)
    report = json.loads(
        _run("pvt", "estimate", "--election", election.slug, "--sample", str(sample), "--json")
    )
    observed = set(observed_station_figures(election).codes)
    assert report["sample"] == 150
    assert report["reported"] == sum(row["station_code"] in observed for row in rows)
    assert 0 < report["reported"] < 150


def test_an_election_without_results_or_statistics_is_refused_clearly(
    election: Election,
) -> None:
    OfficialResult.objects.filter(election=election).update(current=False)
    with pytest.raises(ElectionFiguresError, match="no official station results"):
        official_station_figures(election)
    with pytest.raises(CommandError, match="no official station results"):
        _run("forensics", "--election", election.slug, "--json")
    template = election.template
    template.statistics = {}
    template.save()
    with pytest.raises(CommandError, match=r"does not say what the statistics read"):
        _run("forensics", "--election", election.slug, "--observed")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("forensics", "--election", "nowhere"), "No election nowhere"),
        (("forensics", "file.csv", "--election", "x", "--preset", "ru-2018"), "not both"),
        (("forensics", "--observed", "file.csv", "--preset", "ru-2018"), "needs --election"),
        (("forensics",), "Give --election SLUG or the per-station results file"),
    ],
)
def test_bad_arguments_are_refused_clearly(args: tuple[str, ...], expected: str) -> None:
    with pytest.raises(CommandError, match=expected):
        _run(*args)
