"""`pollwatch synth`: writes the files, summarises, and refuses bad requests without writing."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def _synth(*args: str) -> str:
    out = StringIO()
    call_command("synth", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_writes_csv_files_and_summarises(tmp_path: Path) -> None:
    out = tmp_path / "election"
    printed = _synth("--stations", "800", "--seed", "3", "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == [
        "assignments.csv",
        "commissions.csv",
        "copies.csv",
        "election.toml",
        "ground_truth.json",
        "observers.csv",
        "official_stations.csv",
        "official_stations_revised.csv",
        "official_totals.csv",
        "official_totals_revised.csv",
        "organisations.csv",
        "results.csv",
        "stations.csv",
    ]
    assert "20 regions" in printed
    assert "200 territorial commissions" in printed
    assert "800 polling stations" in printed
    assert "turnout" in printed and "Yes" in printed
    for name in ("commissions.csv", "stations.csv", "results.csv", "election.toml"):
        assert str(out / name) in printed


def test_xlsx_format(tmp_path: Path) -> None:
    _synth("--stations", "120", "--regions", "4", "--format", "xlsx", "--out", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "copies.xlsx",
        "election.toml",
        "ground_truth.json",
        "observers.xlsx",
        "official.xlsx",
        "official_revised.xlsx",
        "results.xlsx",
        "structure.xlsx",
    ]


def test_same_seed_same_files(tmp_path: Path) -> None:
    _synth("--stations", "300", "--seed", "8", "--out", str(tmp_path / "a"))
    _synth("--stations", "300", "--seed", "8", "--out", str(tmp_path / "b"))
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stations", "0"], "stations must be positive"),
        (["--stations", "-3"], "stations must be positive"),
        (["--stations", "10", "--regions", "0"], "regions must be positive"),
        (["--stations", "10", "--regions", "11"], "cannot exceed stations"),
        (["--stations", "10", "--regions", "2", "--territorials", "1"], "territorials"),
    ],
)
def test_refuses_impossible_sizes_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(CommandError, match=message):
        _synth(*args, "--out", str(out))
    assert not out.exists()


def test_refuses_xlsx_beyond_a_worksheets_rows(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(CommandError, match="XLSX"):
        _synth("--stations", "1048576", "--format", "xlsx", "--out", str(out))
    assert not out.exists()


def test_refuses_non_empty_directory_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(CommandError, match="not empty"):
        _synth("--stations", "50", "--out", str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]

    _synth("--stations", "50", "--out", str(tmp_path), "--force")
    assert (tmp_path / "stations.csv").exists()
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_refuses_a_file_as_output_directory(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(CommandError, match="not a directory"):
        _synth("--stations", "50", "--out", str(target), "--force")


def test_cli_exits_1_with_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "pollwatch", "synth", "--stations", "0", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "stations must be positive" in result.stderr
    assert not out.exists()


def test_cli_shows_progress_on_stderr(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pollwatch", "synth", "--stations", "200", "--out", "o"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Writing" in result.stderr and "100%" in result.stderr
    assert "200 polling stations" in result.stdout


def test_observer_and_fault_flags(tmp_path: Path) -> None:
    out = tmp_path / "election"
    printed = _synth(
        "--stations", "500", "--coverage", "0", "--unreported", "0", "--faulty-totals", "2",
        "--organisations", "3", "--out", str(out),
    )  # fmt: skip
    assert "3 organisations, 0 observers, 0 protocol copies" in printed
    assert "2 wrong territorial totals" in printed
    assert "0 stations changed silently" in printed  # no copies, so nowhere to notice it
    copies = (out / "copies.csv").read_text(encoding="utf-8").splitlines()
    assert len(copies) == 1  # the header alone
    organisations = (out / "organisations.csv").read_text(encoding="utf-8").splitlines()
    assert len(organisations) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--coverage", "1.5"], "coverage must be a share between 0 and 1"),
        (["--slips", "-1"], "slips must be a share"),
        (["--organisations", "0"], "organisations must be between 1 and"),
        (["--faulty-totals", "100000"], "faulty_totals"),
    ],
)
def test_refuses_impossible_observation_parameters(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(CommandError, match=message):
        _synth("--stations", "100", *args, "--out", str(out))
    assert not out.exists()
