"""`pollwatch pvt size | draw | estimate` on a per-station file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from tests.analysis.conftest import HEADER, run, station_rows, write_csv


def pvt(*args: object) -> str:
    return run("pvt", *args)


def refused(*args: object) -> str:
    with pytest.raises(CommandError) as raised:
        pvt(*args)
    return str(raised.value)


def sample_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


# --- size --------------------------------------------------------------------------------


def test_size_reproduces_the_handbooks_peru_2001_example() -> None:
    # NDI handbook: N = 14,570,774 voters, E = 0.32 %, Z = 2.58.
    out = pvt("size", "--population", 14_570_774, "--margin", 0.0032, "--confidence", "0.99")
    assert out.startswith("n = 160,717.3 voters (Z = 2.58")
    result = json.loads(
        pvt(
            "size",
            "--population",
            14_570_774,
            "--margin",
            0.0032,
            "--z",
            2.58,
            "--voters-per-station",
            400,
            "--json",
        )
    )
    assert int(result["n"]) == 160_717
    assert result["stations"] == 402


def test_size_at_95_percent_and_a_known_share() -> None:
    result = json.loads(
        pvt("size", "--population", 1_000_000, "--margin", 0.01, "--share", 0.3, "--json")
    )
    assert result["z"] == 1.96
    assert result["n"] == pytest.approx(0.21 / ((0.01 / 1.96) ** 2 + 0.21 / 1_000_000))


def test_size_refuses_a_margin_given_in_percent() -> None:
    assert "margin of error must be a fraction" in refused(
        "size", "--population", 1000, "--margin", 3
    )


# --- draw and estimate -------------------------------------------------------------------


def test_draw_writes_station_codes_with_their_strata(
    results_file: Path, mapping_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sample.csv"
    printed = pvt(
        "draw",
        results_file,
        "--mapping",
        mapping_file,
        "--size",
        60,
        "--seed",
        4,
        "--by-region",
        "--urban-column",
        "town",
        "--out",
        out,
    )
    assert "60 of 600 stations in 6 strata, seed 4" in printed
    rows = sample_rows(out)
    assert len(rows) == 60
    assert set(rows[0]) == {"station_code", "stratum", "stratum_stations", "row"}
    assert {row["stratum"] for row in rows} == {
        f"Region {r} / {kind}" for r in range(3) for kind in ("rural", "urban")
    }
    assert {row["stratum_stations"] for row in rows} == {"100"}
    first = rows[0]
    region, tik, number = first["station_code"].split("/")
    assert station_rows()[int(first["row"]) - 2][:3] == [region, tik, number]
    again = tmp_path / "again.csv"
    pvt(
        "draw",
        results_file,
        "--mapping",
        mapping_file,
        "--size",
        60,
        "--seed",
        4,
        "--by-region",
        "--urban-column",
        "town",
        "--out",
        again,
    )
    assert again.read_bytes() == out.read_bytes()


def test_estimate_from_the_files_own_figures(
    results_file: Path, mapping_file: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.csv"
    pvt(
        "draw", results_file, "--mapping", mapping_file, "--size", 200, "--seed", 1, "--out", sample
    )
    result = json.loads(
        pvt("estimate", results_file, "--mapping", mapping_file, "--sample", sample, "--json")
    )
    assert result["sample"] == result["reported"] == 200
    assert result["strata"] == 1 and result["strata_missing"] == 0
    assert [option["name"] for option in result["options"]] == ["A", "B"]
    for row in [*result["options"], result["turnout"]]:
        assert 0 < row["moe95"] < row["moe99"]
        assert row["difference"] == pytest.approx(row["official"] - row["estimate"])
    text = pvt("estimate", results_file, "--mapping", mapping_file, "--sample", sample)
    assert "200 of 200 sample stations reported" in text
    assert "not proof of fraud" in text


def test_estimate_from_reports_uses_the_reported_figures(
    results_file: Path, mapping_file: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.csv"
    pvt(
        "draw", results_file, "--mapping", mapping_file, "--size", 100, "--seed", 2, "--out", sample
    )
    drawn = {int(row["row"]) for row in sample_rows(sample)}
    # Half the sample reports, every one of them with all votes for B.
    reported = [row for i, row in enumerate(station_rows(), start=2) if i in drawn][:50]
    for row in reported:
        valid = row[HEADER.index("valid")]
        row[HEADER.index("A")], row[HEADER.index("B")] = 0, valid
    reports = write_csv(tmp_path / "reports.csv", reported)
    result = json.loads(
        pvt(
            "estimate",
            results_file,
            "--mapping",
            mapping_file,
            "--sample",
            sample,
            "--reports",
            reports,
            "--json",
        )
    )
    assert result["sample"] == 100 and result["reported"] == 50
    a, b = result["options"]
    assert a["estimate"] == 0.0 and b["estimate"] > 0.95
    assert not a["within99"]  # the official count is far from these reports


def test_a_report_for_a_station_outside_the_sample_is_refused(
    results_file: Path, mapping_file: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.csv"
    pvt("draw", results_file, "--mapping", mapping_file, "--size", 10, "--seed", 2, "--out", sample)
    drawn = {int(row["row"]) for row in sample_rows(sample)}
    outside = next(i for i in range(2, 602) if i not in drawn)
    reports = write_csv(tmp_path / "reports.csv", [station_rows()[outside - 2]])
    message = refused(
        "estimate",
        results_file,
        "--mapping",
        mapping_file,
        "--sample",
        sample,
        "--reports",
        reports,
    )
    assert f"reports.csv, row 2: station 'Region {(outside - 2) % 3}/" in message
    assert "is not in the sample" in message


def test_a_sample_from_another_file_is_refused(
    results_file: Path, mapping_file: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.csv"
    sample.write_text(
        "station_code,stratum,stratum_stations,row\n"
        "Region 0/TIK 0/1,national,600,2\n"
        "Nowhere/TIK 1/2,national,600,3\n"
        "Region 2/TIK 2/3,national,599,4\n",
        encoding="utf-8",
    )
    message = refused("estimate", results_file, "--mapping", mapping_file, "--sample", sample)
    assert "sample.csv, row 3, column 'station_code': no station 'Nowhere/TIK 1/2'" in message
    assert "row 4, column 'stratum_stations': expected 600 as in the stratum's first row" in message


def test_draw_refuses_an_impossible_sample(
    results_file: Path, mapping_file: Path, tmp_path: Path
) -> None:
    message = refused(
        "draw",
        results_file,
        "--mapping",
        mapping_file,
        "--size",
        5000,
        "--seed",
        1,
        "--out",
        tmp_path / "s.csv",
    )
    assert "sample size must be between 1 and 600 stations" in message
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.slow
def test_russia_2018_round_trip_covers_the_full_count(shared_data: Path, tmp_path: Path) -> None:
    path, sample = shared_data / "russia" / "2018.csv.zip", tmp_path / "sample.csv"
    pvt(
        "draw",
        path,
        "--preset",
        "ru-2018",
        "--size",
        2000,
        "--seed",
        2018,
        "--by-region",
        "--out",
        sample,
    )
    result = json.loads(pvt("estimate", path, "--preset", "ru-2018", "--sample", sample, "--json"))
    putin = next(o for o in result["options"] if o["name"] == "Путин Владимир Владимирович")
    assert putin["official"] == pytest.approx(56_430_712 / (72_787_734 + 791_258))
    assert abs(putin["official"] - putin["estimate"]) <= putin["moe99"]
    assert putin["within99"]
    assert result["strata"] == 87
