"""The synthetic election generator: shape, arithmetic, variation, determinism, file contracts."""

from __future__ import annotations

import csv
import datetime
import hashlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from pollwatch.core.synth import (
    LINE_KEYS,
    TEMPLATE_KEY,
    SyntheticElection,
    SynthParameterError,
    SynthParams,
    generate,
    summarise,
    write_files,
)
from pollwatch.core.synth.apportion import apportion
from pollwatch.core.synth.files import WORKBOOKS
from pollwatch.core.synth.geography import LATITUDE_RANGE, LONGITUDE_RANGE
from pollwatch.core.synth.params import default_territorials
from tests.core.shipped_templates import shipped

CONTRACT_HEADERS = {
    "commissions.csv": ["code", "parent_code", "level", "name"],
    "stations.csv": [
        "code",
        "number",
        "commission_code",
        "registered_voters",
        "address",
        "latitude",
        "longitude",
    ],
    # One column per line of the protocol template the files name, in the template's order.
    "results.csv": ["station_code", *shipped(TEMPLATE_KEY).line_keys],
    "organisations.csv": [
        "code",
        "name",
        "kind",
        "share_with_mission",
        "share_with_organisations",
    ],
    "observers.csv": [
        "organisation",
        "code",
        "full_name",
        "contact",
        "languages",
        "accreditation_number",
    ],
    "assignments.csv": ["organisation", "observer", "station", "starts_at", "ends_at"],
    "copies.csv": [
        "id",
        "station",
        "organisation",
        "observer",
        "all_members_signed",
        "certified",
        *shipped(TEMPLATE_KEY).line_keys,
    ],
    "official_stations.csv": ["code", *shipped(TEMPLATE_KEY).line_keys],
    "official_totals.csv": ["code", *shipped(TEMPLATE_KEY).line_keys],
    "official_stations_revised.csv": ["code", *shipped(TEMPLATE_KEY).line_keys],
    "official_totals_revised.csv": ["code", *shipped(TEMPLATE_KEY).line_keys],
}
ALL_FILES = sorted([*CONTRACT_HEADERS, "election.toml", "ground_truth.json"])


@pytest.fixture(scope="module")
def default_election() -> SyntheticElection:
    return generate(SynthParams.build())


def _line(election: SyntheticElection, key: str) -> np.ndarray:
    return election.protocols.line(key)


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def _written_bytes(election: SyntheticElection, out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in write_files(election, out)}


# --- the default: a Kazakhstan-like referendum ---------------------------------------------


def test_default_has_kazakhstans_shape(default_election: SyntheticElection) -> None:
    summary = summarise(default_election)
    assert summary.regions == 20
    assert 190 <= summary.territorials <= 210
    assert summary.stations == pytest.approx(10_400, rel=0.03)
    assert summary.registered == pytest.approx(12_400_000, rel=0.04)
    assert 0.55 < summary.turnout < 0.8
    assert 0.6 < summary.yes_share < 0.9


def test_regions_are_kazakhstans_oblasts_and_cities(default_election: SyntheticElection) -> None:
    names = [region.name for region in default_election.structure.regions]
    assert len(set(names)) == 20
    assert {"Astana", "Almaty", "Shymkent", "Turkistan Region", "Ulytau Region"} <= set(names)


def test_station_sizes_are_realistic(default_election: SyntheticElection) -> None:
    registered = default_election.structure.registered
    assert registered.min() >= 25
    assert registered.max() <= 3_000
    assert registered.min() < 100  # a few dozen in the smallest villages


def test_urban_stations_are_bigger_and_cities_all_urban(
    default_election: SyntheticElection,
) -> None:
    structure = default_election.structure
    urban = structure.station_urban
    assert 0.25 < urban.mean() < 0.6
    assert structure.registered[urban].mean() > 2 * structure.registered[~urban].mean()
    cities = [i for i, region in enumerate(structure.regions) if region.is_city]
    assert len(cities) == 3
    assert urban[np.isin(structure.station_region, cities)].all()


def test_turnout_and_yes_vary_by_region_and_settlement(
    default_election: SyntheticElection,
) -> None:
    structure = default_election.structure
    issued = _line(default_election, "issued_in_station") + _line(
        default_election, "issued_outside"
    )
    registered = structure.registered
    region_turnout = np.bincount(structure.station_region, issued) / np.bincount(
        structure.station_region, registered
    )
    assert region_turnout.max() - region_turnout.min() > 0.3
    urban = structure.station_urban
    assert issued[~urban].sum() / registered[~urban].sum() > (
        issued[urban].sum() / registered[urban].sum() + 0.02
    )
    yes, no = _line(default_election, "yes"), _line(default_election, "no")
    assert yes[~urban].sum() / (yes + no)[~urban].sum() > yes[urban].sum() / (yes + no)[urban].sum()
    # Stations differ within a region too: beta-distributed, not a constant.
    station_turnout = issued / registered
    assert station_turnout[structure.station_region == 0].std() > 0.03


def test_every_control_relation_holds_at_every_station(
    default_election: SyntheticElection,
) -> None:
    figures = default_election.protocols.figures
    assert figures.dtype == np.int64
    assert figures.shape == (10_411, len(LINE_KEYS))
    assert (figures >= 0).all()
    line = {key: figures[:, i] for i, key in enumerate(LINE_KEYS)}
    issued = line["issued_in_station"] + line["issued_outside"]
    assert (line["ballots_received"] == issued + line["cancelled"]).all()
    assert (
        line["ballots_in_boxes"] == line["invalid"] + line["not_counted"] + line["yes"] + line["no"]
    ).all()
    assert (line["ballots_in_boxes"] <= issued).all()
    assert (issued <= line["registered"]).all()
    assert (line["registered"] == default_election.structure.registered).all()


def test_small_shares_are_small_but_present(default_election: SyntheticElection) -> None:
    def share(key: str, of: str) -> float:
        return float(_line(default_election, key).sum() / _line(default_election, of).sum())

    assert 0.005 < share("issued_outside", "issued_in_station") < 0.05
    assert 0.003 < share("invalid", "ballots_in_boxes") < 0.03
    assert 0 < share("not_counted", "ballots_in_boxes") < 0.005
    issued = _line(default_election, "issued_in_station") + _line(
        default_election, "issued_outside"
    )
    assert 0 < (issued - _line(default_election, "ballots_in_boxes")).sum() < 0.005 * issued.sum()


def test_coordinates_and_addresses_are_plausible(default_election: SyntheticElection) -> None:
    structure = default_election.structure
    assert (structure.latitude >= LATITUDE_RANGE[0]).all()
    assert (structure.latitude <= LATITUDE_RANGE[1]).all()
    assert (structure.longitude >= LONGITUDE_RANGE[0]).all()
    assert (structure.longitude <= LONGITUDE_RANGE[1]).all()
    astana = [r.name for r in structure.regions].index("Astana")
    in_astana = structure.station_region == astana
    assert abs(structure.latitude[in_astana].mean() - 51.17) < 0.1
    for address in structure.address[:: len(structure.address) // 50].tolist():
        settlement, street, building = address.split(", ")
        assert settlement and street and building.isdigit()
    assert all(a.startswith("Astana, ") for a in structure.address[in_astana].tolist())


# --- scaling and parameters ------------------------------------------------------------------


def test_territorial_defaults_scale_with_stations() -> None:
    assert default_territorials(10_411, 20) == 200
    assert default_territorials(1_000_000, 20) == 10_000
    assert default_territorials(50, 20) == 50  # never more than stations
    assert default_territorials(3, 3) == 3


def test_larger_election_keeps_the_structure() -> None:
    election = generate(SynthParams.build(stations=60_000, seed=3))
    summary = summarise(election)
    assert (summary.regions, summary.territorials, summary.stations) == (20, 600, 60_000)
    per_territorial = np.bincount(election.structure.station_territorial)
    assert per_territorial.min() >= 1
    assert per_territorial.mean() == 100
    assert len(set(election.structure.territorial_codes)) == 600


@pytest.mark.parametrize(
    ("stations", "regions", "territorials"),
    [(1, None, None), (5, None, None), (25, 20, 25), (300, 30, None), (40, 3, 40)],
)
def test_small_and_unusual_sizes(
    stations: int, regions: int | None, territorials: int | None
) -> None:
    params = SynthParams.build(stations=stations, regions=regions, territorials=territorials)
    election = generate(params)
    structure = election.structure
    assert len(structure.station_number) == stations
    assert len(structure.region_codes) == params.regions
    assert len(structure.territorial_codes) == params.territorials
    # Every region and territorial has at least one station.
    assert (np.bincount(structure.station_territorial, minlength=params.territorials) >= 1).all()
    assert len(np.unique(structure.station_region)) == params.regions
    assert len({r.name for r in structure.regions}) == params.regions
    assert len(set(structure.territorial_codes)) == params.territorials


@pytest.mark.parametrize(
    ("stations", "regions", "territorials"),
    [(0, None, None), (-5, None, None), (10, 0, None), (10, 11, None), (10, 5, 4), (10, 5, 11)],
)
def test_impossible_parameters_are_refused(
    stations: int, regions: int | None, territorials: int | None
) -> None:
    with pytest.raises(SynthParameterError):
        SynthParams.build(stations=stations, regions=regions, territorials=territorials)


def test_apportion_is_exact_and_gives_each_item_at_least_one() -> None:
    totals = np.array([10, 3, 1_000_003])
    group = np.array([0, 0, 0, 1, 1, 1, 2, 2], dtype=np.intp)
    weights = np.array([1.0, 0.0, 3.0, 5.0, 5.0, 5.0, 1.0, 2.0])
    parts = apportion(totals, group, weights)
    assert np.bincount(group, parts).tolist() == [10, 3, 1_000_003]
    assert parts.tolist()[:6] == [3, 1, 6, 1, 1, 1]  # 1 + (1.75, 0, 5.25) rounded
    assert parts[7] == pytest.approx(2 * parts[6], abs=2)


# --- determinism and files -------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    params = SynthParams.build(stations=3_000, seed=11)
    first = _written_bytes(generate(params), tmp_path / "a")
    second = _written_bytes(generate(params), tmp_path / "b")
    other = _written_bytes(generate(SynthParams.build(stations=3_000, seed=12)), tmp_path / "c")
    assert first == second
    for name in ("commissions.csv", "stations.csv", "results.csv"):
        assert first[name] != other[name], name


# SHA-256 of the files for 200 stations, seed 1. If a change to the generator (or to NumPy's
# distributions) alters them, that is a new generator: bump GENERATOR_VERSION, then update these.
GOLDEN_SHA256 = {
    "commissions.csv": "b66a9c96a2d1efa37516d3d68c0d7033a2a59e804b255669dbfc2aa845acdf65",
    "stations.csv": "c4833e0aa8fe9098bf0c395b3fd1ec7e9b97c916a284a630f49a109109663887",
    "results.csv": "48112eb1bcdc901f71a71894f92e97ddcc225bf7ecd2fbe07455c5dd6c1ae367",
}
_HASH_FILES = (
    "import hashlib, pathlib, sys\n"
    "from pollwatch.core.synth import SynthParams, generate, write_files\n"
    "out = pathlib.Path(sys.argv[1])\n"
    "for p in write_files(generate(SynthParams.build(stations=200, seed=1)), out):\n"
    "    print(p.name, hashlib.sha256(p.read_bytes()).hexdigest())\n"
)


def test_a_seed_means_the_same_files_in_any_process(tmp_path: Path) -> None:
    """Nothing depends on Python's per-process hash seed, and the output is pinned."""
    digests = []
    for hash_seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", _HASH_FILES, str(tmp_path / hash_seed)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            check=True,
        )
        digests.append(dict(line.split() for line in result.stdout.splitlines()))
    assert digests[0] == digests[1]
    in_process = {
        name: hashlib.sha256(data).hexdigest()
        for name, data in _written_bytes(
            generate(SynthParams.build(stations=200, seed=1)), tmp_path / "here"
        ).items()
    }
    assert in_process == digests[0]
    assert {name: in_process[name] for name in GOLDEN_SHA256} == GOLDEN_SHA256


def test_csv_files_parse_back_to_the_contract(tmp_path: Path) -> None:
    election = generate(SynthParams.build(stations=2_000, seed=5))
    write_files(election, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ALL_FILES
    tables = {name: _read_csv(tmp_path / name) for name in CONTRACT_HEADERS}
    for name, header in CONTRACT_HEADERS.items():
        assert tables[name][0] == header, name

    commissions = tables["commissions.csv"][1:]
    regions = {row[0] for row in commissions if row[2] == "region"}
    territorials = {row[0]: row[1] for row in commissions if row[2] == "territorial"}
    assert len(regions) == 20 and all(row[1] == "" for row in commissions if row[2] == "region")
    assert set(territorials.values()) == regions
    assert all(code.startswith(parent + "-T") for code, parent in territorials.items())

    stations = tables["stations.csv"][1:]
    assert len(stations) == 2_000
    assert len({row[1] for row in stations}) == 2_000  # numbers unique in the election
    assert {row[2] for row in stations} == set(territorials)
    assert all(len(row[4].split(", ")) == 3 for row in stations)
    registered = [int(row[3]) for row in stations]
    assert registered == election.structure.registered.tolist()
    assert [float(row[5]) for row in stations] == election.structure.latitude.tolist()

    results = tables["results.csv"][1:]
    assert [row[0] for row in results] == [row[0] for row in stations]
    figures = np.array([[int(v) for v in row[1:]] for row in results])
    assert (figures == election.protocols.figures).all()


def test_election_file_describes_the_referendum(tmp_path: Path) -> None:
    write_files(generate(SynthParams.build(stations=500, seed=9)), tmp_path)
    settings = tomllib.loads((tmp_path / "election.toml").read_text(encoding="utf-8"))
    assert settings["kind"] == "referendum"
    assert settings["date"] == datetime.date(2026, 3, 15)
    assert settings["time_zone"] == "Asia/Almaty"
    assert settings["languages"] == ["kk", "ru", "en"]
    assert settings["template"] == "kz-referendum"
    assert settings["seed"] == 9
    assert settings["slug"] and settings["name"]
    assert settings["synth"] | {"version": 0} == {
        "generator": "pollwatch synth",
        "version": 0,
        "stations": 500,
        "regions": 20,
        "territorials": 200,
    }


def test_xlsx_holds_the_same_tables(tmp_path: Path) -> None:
    election = generate(SynthParams.build(stations=300, seed=4))
    write_files(election, tmp_path / "csv")
    paths = write_files(election, tmp_path / "xlsx", "xlsx")
    assert sorted(p.name for p in paths) == [
        "copies.xlsx",
        "election.toml",
        "ground_truth.json",
        "observers.xlsx",
        "official.xlsx",
        "official_revised.xlsx",
        "results.xlsx",
        "structure.xlsx",
    ]
    workbooks = {
        name: openpyxl.load_workbook(tmp_path / "xlsx" / name, read_only=True)
        for name in sorted(WORKBOOKS)
    }
    sheets = {
        f"{sheet}.csv": workbook[sheet]
        for workbook in workbooks.values()
        for sheet in workbook.sheetnames
    }
    assert workbooks["structure.xlsx"].sheetnames == ["commissions", "stations"]
    assert sorted(sheets) == sorted(CONTRACT_HEADERS)
    assert (tmp_path / "xlsx" / "ground_truth.json").read_bytes() == (
        tmp_path / "csv" / "ground_truth.json"
    ).read_bytes()
    for name, sheet in sheets.items():
        rows = [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
        assert rows == _read_csv(tmp_path / "csv" / name), name


def test_failed_write_leaves_no_files(tmp_path: Path) -> None:
    election = generate(SynthParams.build(stations=50, seed=1))
    calls = 0

    def fail_on_second_chunk(rows: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_files(election, tmp_path, progress=fail_on_second_chunk)
    assert list(tmp_path.iterdir()) == []
