"""`pollwatch forensics` on a per-station file: report, JSON, figures, and refusals."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management.base import CommandError
from openpyxl import Workbook

from pollwatch.analysis.management.commands import forensics
from pollwatch.core.forensics import klimek
from tests.analysis.conftest import HEADER, station_rows, write_csv
from tests.analysis.conftest import run as run_command


def run(*args: object) -> str:
    return run_command("forensics", *args)


def refused(*args: object) -> str:
    with pytest.raises(CommandError) as raised:
        run(*args)
    return str(raised.value)


@pytest.fixture
def quick_klimek(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fit's accuracy is tested in core; here only its way into the report, kept cheap.
    cheap = functools.partial(klimek.fit, simulated=5_000, max_evaluations=4)
    monkeypatch.setattr(forensics, "fit", cheap)


@pytest.mark.slow
def test_russia_2018_json_reproduces_the_published_figures(shared_data: Path) -> None:
    out = run(
        shared_data / "russia" / "2018.csv.zip", "--preset", "ru-2018", "--json", "--no-klimek"
    )
    result = json.loads(out)
    assert result["stations"] == 97_699
    assert result["leader"] == "Путин Владимир Владимирович"
    test = result["integer_percentage"]
    assert test["included"] == 91_152
    assert test["observed"] == 19_271
    assert test["excess"] == pytest.approx(test["observed"] - test["expected"])
    assert test["excess"] > 10 * test["sd"]
    assert result["shpilkin"]["excess_votes"] == pytest.approx(10.1e6, rel=0.05)
    assert 0.5 < result["shpilkin"]["peak_turnout"] < 0.7
    assert result["klimek"] is None
    assert result["observers"] is None


@pytest.mark.slow
def test_russia_2020_report_runs(shared_data: Path) -> None:
    out = run(shared_data / "russia" / "2020.csv.zip", "--preset", "ru-2020", "--no-klimek")
    assert "96,765 polling stations; leader: yes" in out
    for section in ("Integer percentages", "Shpilkin", "Digit tests", "Observers' effect"):
        assert section in out
    assert "not proof of fraud" in out


def test_report_says_what_each_test_means(
    results_file: Path, mapping_file: Path, quick_klimek: None
) -> None:
    out = run(results_file, "--mapping", mapping_file)
    assert "600 polling stations; leader: A" in out
    assert out.count("Meaning:") == 4  # integer percentages, Shpilkin, digits, Klimek
    assert "incremental fraud f_i = " in out
    assert "Observers' effect: not applicable" in out
    assert out.rstrip().endswith("An anomaly is a reason to ask, not proof of fraud.")


def test_json_carries_every_test(
    results_file: Path, mapping_file: Path, quick_klimek: None, tmp_path: Path
) -> None:
    result = json.loads(run(results_file, "--mapping", mapping_file, "--json", "--leader", "B"))
    assert result["leader"] == "B"
    assert set(result["integer_percentage"]) >= {"included", "observed", "expected", "excess", "sd"}
    assert set(result["shpilkin"]) >= {"peak_turnout", "excess_votes"}
    assert set(result["digits"]["options"]) == {"A", "B"}
    assert set(result["klimek"]) >= {"incremental", "extreme"}
    # An honest election: the count of round percentages is within noise of its expectation.
    test = result["integer_percentage"]
    assert abs(test["excess"]) < 4 * test["sd"]


def test_figures_are_written_as_png_and_svg(
    results_file: Path, mapping_file: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "figures"
    result = json.loads(
        run(
            results_file, "--mapping", mapping_file, "--json", "--no-klimek", "--figures", directory
        )
    )
    for stem in ("fingerprint", "shpilkin", "integer-percentages"):
        png, svg = directory / f"{stem}.png", directory / f"{stem}.svg"
        assert png.read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in svg.read_bytes()[:1000]
        assert str(png) in result["figures"] and str(svg) in result["figures"]
    assert not (directory / "klimek.png").exists()


def test_a_cell_that_is_not_a_number_is_named_by_row_and_column(
    tmp_path: Path, mapping_file: Path
) -> None:
    rows = station_rows(5)
    rows[2][HEADER.index("valid")] = "12a"
    path = write_csv(tmp_path / "bad.csv", rows)
    message = refused(path, "--mapping", mapping_file)
    assert f"{path}, row 4, column 'valid': expected a whole number of zero or more, got '12a'" in (
        message
    )


def test_a_missing_column_is_named_with_the_header(tmp_path: Path, mapping_file: Path) -> None:
    header = [name if name != "on_day" else "on day" for name in HEADER]
    path = write_csv(tmp_path / "bad.csv", station_rows(5), header)
    message = refused(path, "--mapping", mapping_file)
    assert "row 1, column 'on_day': expected this column (for ballots issued, part 2 of 2)" in (
        message
    )


def test_more_votes_than_ballots_is_refused(tmp_path: Path, mapping_file: Path) -> None:
    rows = station_rows(5)
    rows[0][HEADER.index("A")] = 10**6
    path = write_csv(tmp_path / "bad.csv", rows)
    assert "row 2, column 'A': expected at most the" in refused(path, "--mapping", mapping_file)


def test_unreadable_inputs_are_refused(tmp_path: Path, results_file: Path) -> None:
    assert "missing.csv: file not found" in refused(tmp_path / "missing.csv", "--preset", "ru-2018")
    assert "needs a [figures] table" in refused(results_file, "--preset", "pollwatch")
    bad_mapping = tmp_path / "bad.toml"
    bad_mapping.write_text("[figures\n", encoding="utf-8")
    assert "not valid TOML" in refused(results_file, "--mapping", bad_mapping)
    assert "or the per-station results file" in refused("--preset", "ru-2018")


def test_unknown_leader_lists_the_options(results_file: Path, mapping_file: Path) -> None:
    assert "no option 'C'" in refused(results_file, "--mapping", mapping_file, "--leader", "C")


def test_the_command_line_exits_1_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pollwatch",
            "forensics",
            str(tmp_path / "none.csv"),
            "--preset",
            "ru-2018",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=None,
    )
    assert done.returncode == 1
    assert "none.csv: file not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_workbook_sheet_gives_the_same_results_as_the_csv(
    results_file: Path, mapping_file: Path, tmp_path: Path
) -> None:
    workbook = Workbook()
    workbook.active.title = "cover"  # type: ignore[union-attr]
    sheet = workbook.create_sheet("results")
    sheet.append(HEADER)
    for row in station_rows():
        sheet.append([int(v) if isinstance(v, np.integer) else v for v in row])
    path = tmp_path / "results.xlsx"
    workbook.save(path)
    from_csv = json.loads(run(results_file, "--mapping", mapping_file, "--json", "--no-klimek"))
    from_xlsx = json.loads(
        run(path, "--mapping", mapping_file, "--sheet", "results", "--json", "--no-klimek")
    )
    assert from_xlsx["integer_percentage"] == from_csv["integer_percentage"]
    assert from_xlsx["shpilkin"] == from_csv["shpilkin"]
