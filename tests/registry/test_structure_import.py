"""Importing an election's structure into the registry: all or nothing, idempotent, by code."""

from __future__ import annotations

import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from pollwatch.registry import structure_import
from pollwatch.registry.models import Commission, Election, PollingStation, ProtocolTemplate

pytestmark = pytest.mark.django_db

COMMISSIONS = """code,parent_code,level,name
KZ,,central,Central Commission
R1,KZ,region,Region One
R2,KZ,region,Region Two
T1,R1,territorial,Territorial One
"""
STATIONS = """code,number,commission_code,registered_voters,address,latitude,longitude
S1,1,T1,100,1 Main St,43.2,76.9
S2,2,T1,200,,,
S3,3,R2,50,"Somewhere, 5",,
"""


@pytest.fixture
def election() -> Election:
    template = ProtocolTemplate.objects.create(key="empty", name="Empty", lines=[], relations=[])
    return Election.objects.create(
        slug="kz-2026",
        name="Referendum",
        kind=Election.Kind.REFERENDUM,
        date=datetime.date(2026, 3, 15),
        template=template,
    )


def write(folder: Path, commissions: str = COMMISSIONS, stations: str = STATIONS) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "commissions.csv").write_text(commissions, encoding="utf-8")
    (folder / "stations.csv").write_text(stations, encoding="utf-8")
    return folder


def run(folder: Path, *extra: str, election: str = "kz-2026") -> str:
    """Run the command on folder's native files; returns what it printed."""
    out = StringIO()
    call_command(
        "import_structure",
        "--election",
        election,
        "--preset",
        "pollwatch",
        "--commissions",
        str(folder / "commissions.csv"),
        "--stations",
        str(folder / "stations.csv"),
        "--no-progress",
        *extra,
        stdout=out,
        stderr=StringIO(),
    )
    return out.getvalue()


def snapshot() -> tuple[list[Any], list[Any]]:
    commissions = list(
        Commission.objects.order_by("code").values_list(
            "code", "name", "level", "depth", "parent__code", "station_count", "registered_voters"
        )
    )
    stations = list(
        PollingStation.objects.order_by("code").values_list(
            "code",
            "number",
            "commission__code",
            "registered_voters",
            "address",
            "latitude",
            "longitude",
        )
    )
    return commissions, stations


def test_first_import_creates_everything_with_subtree_totals(
    election: Election, tmp_path: Path
) -> None:
    output = run(write(tmp_path))
    assert "Commissions: 4 created, 0 updated, 0 unchanged." in output
    assert "Stations: 3 created, 0 updated, 0 unchanged." in output
    assert "levels central → region → territorial; 350 registered voters" in output
    commissions, stations = snapshot()
    assert commissions == [
        ("KZ", "Central Commission", "central", 0, None, 3, 350),
        ("R1", "Region One", "region", 1, "KZ", 2, 300),
        ("R2", "Region Two", "region", 1, "KZ", 1, 50),
        ("T1", "Territorial One", "territorial", 2, "R1", 2, 300),
    ]
    assert stations == [
        ("S1", "1", "T1", 100, "1 Main St", 43.2, 76.9),
        ("S2", "2", "T1", 200, "", None, None),
        ("S3", "3", "R2", 50, "Somewhere, 5", None, None),
    ]
    assert all(c.election_id == election.pk for c in Commission.objects.all())


def test_second_identical_import_changes_nothing(election: Election, tmp_path: Path) -> None:
    folder = write(tmp_path)
    run(folder)
    before = snapshot()
    output = run(folder)
    assert "Commissions: 0 created, 0 updated, 4 unchanged." in output
    assert "Stations: 0 created, 0 updated, 3 unchanged." in output
    assert "left in place" not in output
    assert snapshot() == before


def test_reimport_updates_by_code_and_recomputes_totals(election: Election, tmp_path: Path) -> None:
    run(write(tmp_path / "first"))
    # T1 moves under R2 and is renamed; S1 moves to R2 and loses its coordinates; S2 changes
    # voters and gains coordinates; S4 is new; S3 is no longer in the file.
    commissions = COMMISSIONS.replace("T1,R1,territorial,Territorial One", "T1,R2,territorial,T-1")
    stations = (
        STATIONS.replace("S1,1,T1,100,1 Main St,43.2,76.9", "S1,1,R2,100,1 Main St,,")
        .replace("S2,2,T1,200,,,", "S2,2,T1,250,,51.1,71.4")
        .replace('S3,3,R2,50,"Somewhere, 5",,\n', "")
    ) + "S4,4,R1,10,,,\n"
    output = run(write(tmp_path / "second", commissions, stations))
    assert "Commissions: 0 created, 1 updated, 3 unchanged." in output
    assert "Stations: 1 created, 2 updated, 0 unchanged." in output
    assert "left in place (the import never deletes): 0 commissions, 1 stations." in output
    commissions_now, stations_now = snapshot()
    assert commissions_now == [
        ("KZ", "Central Commission", "central", 0, None, 4, 410),
        ("R1", "Region One", "region", 1, "KZ", 1, 10),
        ("R2", "Region Two", "region", 1, "KZ", 3, 400),  # with S3, not in the file but kept
        ("T1", "T-1", "territorial", 2, "R2", 1, 250),
    ]
    assert stations_now == [
        ("S1", "1", "R2", 100, "1 Main St", None, None),
        ("S2", "2", "T1", 250, "", 51.1, 71.4),
        ("S3", "3", "R2", 50, "Somewhere, 5", None, None),
        ("S4", "4", "R1", 10, "", None, None),
    ]


def test_depth_follows_a_commission_moved_up_the_hierarchy(
    election: Election, tmp_path: Path
) -> None:
    run(write(tmp_path / "first"))
    run(write(tmp_path / "second", COMMISSIONS.replace("T1,R1,", "T1,KZ,")))
    assert Commission.objects.get(code="T1").depth == 1
    assert Commission.objects.get(code="R1").station_count == 0


def test_dry_run_reports_and_changes_nothing(election: Election, tmp_path: Path) -> None:
    output = run(write(tmp_path), "--dry-run")
    assert "Dry run: nothing was changed." in output
    assert "Stations: 3 created" in output
    assert snapshot() == ([], [])


def test_one_workbook_holding_both_sheets(election: Election, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "commissions"
    for line in COMMISSIONS.splitlines():
        sheet.append(line.split(","))
    stations = workbook.create_sheet("stations")
    stations.append(STATIONS.splitlines()[0].split(","))
    stations.append(["S1", 1, "T1", 100, "1 Main St", 43.2, 76.9])
    stations.append(["S2", 2, "T1", 200, None, None, None])
    path = tmp_path / "structure.xlsx"
    workbook.save(path)
    call_command(
        "import_structure",
        "--election=kz-2026",
        "--preset=pollwatch",
        f"--stations={path}",
        "--no-progress",
        stdout=StringIO(),
    )
    assert snapshot()[1] == [
        ("S1", "1", "T1", 100, "1 Main St", 43.2, 76.9),
        ("S2", "2", "T1", 200, "", None, None),
    ]


# --- bad input: a clear error, and nothing changes ----------------------------------------


BAD_INPUTS: dict[str, tuple[str, str, list[str]]] = {
    # name: (commissions, stations, fragments the error must contain)
    "missing column": (
        COMMISSIONS,
        STATIONS.replace("registered_voters", "voters"),
        ["stations.csv, row 1, column 'registered_voters': expected this column"],
    ),
    "non-integer voters": (
        COMMISSIONS,
        STATIONS.replace("S2,2,T1,200", "S2,2,T1,2OO"),
        ["stations.csv, row 3, column 'registered_voters'", "whole number", "'2OO'"],
    ),
    "negative voters": (
        COMMISSIONS,
        STATIONS.replace("S2,2,T1,200", "S2,2,T1,-200"),
        ["stations.csv, row 3, column 'registered_voters'", "negative number -200"],
    ),
    "duplicate station code": (
        COMMISSIONS,
        STATIONS.replace("S3,3", "S1,3"),
        ["stations.csv, row 4, column 'code': station code 'S1' is already used at row 2"],
    ),
    "unknown commission": (
        COMMISSIONS,
        STATIONS.replace("S3,3,R2", "S3,3,R9"),
        ["stations.csv, row 4, column 'commission_code'", "got 'R9'"],
    ),
    "cycle": (
        COMMISSIONS.replace("R1,KZ,", "R1,T1,"),
        STATIONS,
        ["commissions.csv, row 3, column 'parent_code'", "cycle: R1 → T1 → R1"],
    ),
    "duplicate commission code": (
        COMMISSIONS + "T1,R2,territorial,Another\n",
        STATIONS,
        ["commissions.csv, row 6, column 'code': commission code 'T1' is already used at row 5"],
    ),
    "latitude out of range": (
        COMMISSIONS,
        STATIONS.replace("43.2,76.9", "-91,76.9"),
        ["stations.csv, row 2, column 'latitude': expected degrees between -90 and 90"],
    ),
    "longitude out of range": (
        COMMISSIONS,
        STATIONS.replace("43.2,76.9", "43.2,181"),
        ["stations.csv, row 2, column 'longitude': expected degrees between -180 and 180"],
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_refused_and_nothing_changes(
    election: Election, tmp_path: Path, case: str
) -> None:
    run(write(tmp_path / "good"))
    before = snapshot()
    commissions, stations, fragments = BAD_INPUTS[case]
    # Also change a valid row, so that a partial write would show.
    stations = stations.replace("S1,1,T1,100", "S1,1,T1,101")
    with pytest.raises(CommandError) as raised:
        run(write(tmp_path / "bad", commissions, stations))
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message
    assert "nothing was imported" in message
    assert snapshot() == before


def test_unreadable_file_is_refused_and_nothing_changes(election: Election, tmp_path: Path) -> None:
    folder = write(tmp_path)
    (folder / "stations.csv").write_bytes(
        STATIONS.encode() + "S9,9,T1,5,Улица,,\n".encode("cp1251")
    )
    with pytest.raises(CommandError, match=r"stations\.csv, row 5: the file is not UTF-8 text"):
        run(folder)
    assert snapshot() == ([], [])


def test_missing_file(election: Election, tmp_path: Path) -> None:
    folder = write(tmp_path)
    (folder / "stations.csv").unlink()
    with pytest.raises(CommandError, match=r"stations\.csv: file not found"):
        run(folder)


def test_workbook_with_the_wrong_sheet_is_refused(election: Election, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append(["code", "number"])
    path = tmp_path / "structure.xlsx"
    workbook.save(path)
    with pytest.raises(
        CommandError,
        match=r"structure\.xlsx: no sheet named 'commissions'; the workbook has: 'Sheet1'",
    ):
        call_command(
            "import_structure",
            "--election=kz-2026",
            "--preset=pollwatch",
            f"--stations={path}",
            "--no-progress",
        )
    assert snapshot() == ([], [])


def test_unknown_election(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No election with the slug nowhere"):
        run(write(tmp_path), election="nowhere")


def test_failure_while_writing_rolls_everything_back(
    election: Election, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(write(tmp_path / "first"))
    before = snapshot()

    def broken(*args: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(structure_import, "recompute_totals", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        run(write(tmp_path / "second", stations=STATIONS + "S4,4,R1,10,,,\n"))
    assert snapshot() == before


def test_command_line_prints_the_error_without_traceback_and_exits_1(
    election: Election, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pollwatch.cli import main

    folder = write(tmp_path, stations=STATIONS.replace("S2,2,T1,200", "S2,2,T1,-1"))
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "pollwatch", "import-structure", "--election", "kz-2026", "--preset", "pollwatch",
                "--commissions", str(folder / "commissions.csv"),
                "--stations", str(folder / "stations.csv"),
            ]
        )  # fmt: skip
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "stations.csv, row 3, column 'registered_voters'" in err
    assert "Traceback" not in err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("year", "stations", "registered_voters"),
    [(2020, 96_765, 107_999_611), (2018, 97_699, 109_008_428)],
)
def test_russia_imports_as_three_levels(
    election: Election, shared_data: Path, year: int, stations: int, registered_voters: int
) -> None:
    arguments = [
        "import_structure",
        "--election=kz-2026",
        f"--preset=ru-{year}",
        f"--stations={shared_data / 'russia' / f'{year}.csv.zip'}",
        "--no-progress",
    ]
    call_command(*arguments, stdout=StringIO())
    assert PollingStation.objects.count() == stations
    top = Commission.objects.filter(parent=None)
    assert {c.level for c in top} == {"region"}
    assert sum(c.registered_voters for c in top) == registered_voters
    assert sum(c.station_count for c in top) == stations
    assert set(Commission.objects.values_list("depth", flat=True)) == {0, 1}
    assert not PollingStation.objects.filter(commission__depth=0).exists()
    out = StringIO()
    call_command(*arguments, stdout=out)
    assert f"Stations: 0 created, 0 updated, {stations} unchanged." in out.getvalue()


def test_own_mapping_file_for_a_flat_table(election: Election, tmp_path: Path) -> None:
    mapping = tmp_path / "districts.toml"
    mapping.write_text(
        "[[levels]]\nlevel = 'oblast'\nname = 'Oblast'\n"
        "[[levels]]\nlevel = 'district'\nname = 'District'\n"
        "[stations.columns]\n"
        "number = { column = 'Station', pattern = 'No\\. *(\\d+)' }\n"
        "registered_voters = 'Voters'\naddress = 'Where'\n",
        encoding="utf-8",
    )
    table = tmp_path / "stations.csv"
    table.write_text(
        "Oblast,District,Station,Voters,Where\n"
        "Almaty,Medeu,No. 1,900,School 5\n"
        "Almaty,Medeu,No. 2,800,\n"
        "Almaty,Bostandyk,No.1,700,Library\n",
        encoding="utf-8",
    )
    arguments = [
        "import_structure", "--election=kz-2026", f"--mapping={mapping}",
        f"--stations={table}", "--no-progress",
    ]  # fmt: skip
    call_command(*arguments, stdout=StringIO())
    commissions, stations = snapshot()
    assert commissions == [
        ("Almaty", "Almaty", "oblast", 0, None, 3, 2400),
        ("Almaty/Bostandyk", "Bostandyk", "district", 1, "Almaty", 1, 700),
        ("Almaty/Medeu", "Medeu", "district", 1, "Almaty", 2, 1700),
    ]
    assert [s[:5] for s in stations] == [
        ("Almaty/Bostandyk/1", "1", "Almaty/Bostandyk", 700, "Library"),
        ("Almaty/Medeu/1", "1", "Almaty/Medeu", 900, "School 5"),
        ("Almaty/Medeu/2", "2", "Almaty/Medeu", 800, ""),
    ]
    out = StringIO()
    call_command(*arguments, stdout=out)
    assert "Stations: 0 created, 0 updated, 3 unchanged." in out.getvalue()
