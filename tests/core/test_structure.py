"""Mappings, presets and the validated structure plan, without a database."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pollwatch.core.structure import (
    MappingError,
    StructureError,
    StructurePlan,
    load_mapping,
    load_preset,
    parse_mapping,
    path_segment,
    preset_names,
    read_plan,
)
from pollwatch.core.structure.totals import subtree_totals

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


def native(
    tmp_path: Path, commissions: str = COMMISSIONS, stations: str = STATIONS
) -> StructurePlan:
    (tmp_path / "commissions.csv").write_text(commissions, encoding="utf-8")
    (tmp_path / "stations.csv").write_text(stations, encoding="utf-8")
    return read_plan(
        load_preset("pollwatch"), tmp_path / "stations.csv", tmp_path / "commissions.csv"
    )


def problems_of(tmp_path: Path, commissions: str = COMMISSIONS, stations: str = STATIONS) -> str:
    with pytest.raises(StructureError) as raised:
        native(tmp_path, commissions, stations)
    return str(raised.value)


# --- mappings ----------------------------------------------------------------------------


def test_presets_ship_with_the_package() -> None:
    assert {"pollwatch", "ru-2018", "ru-2020"} <= set(preset_names())
    assert not load_preset("pollwatch").is_flat
    assert [level.level for level in load_preset("ru-2020").levels] == ["region", "territorial"]


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(MappingError, match=r"no import preset 'ru-1996'; presets: pollwatch"):
        load_preset("ru-1996")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[stations.columns]\nnumber = 'n'",
            r"expected a \[commissions\] table .* or \[\[levels\]\]",
        ),
        (
            "[[levels]]\nlevel = 'region'\nname = 'r'\n[stations.columns]\nnumber = 'n'",
            r"\[stations.columns\] must name a column for registered_voters",
        ),
        (
            "[[levels]]\nlevel = 'region'\nname = 'r'\n[stations.columns]\nnumber = 'n'\n"
            "registered_voters = 'v'\ncolour = 'c'",
            r"unknown key\(s\) colour in \[stations.columns\]",
        ),
        (
            "[[levels]]\nlevel = 'region'\nname = 'r'\n[stations.columns]\n"
            "number = { column = 'n', pattern = '(' }\nregistered_voters = 'v'",
            r"stations.columns.number.pattern is not a valid regex",
        ),
        (
            "[[levels]]\nlevel = 'region'\nname = 'r'\n[stations.columns]\n"
            "registered_voters = 'v'\nnumber = 'n'\ncode = 'c'",
            r"unknown key\(s\) code",  # flat shapes derive codes, never read them
        ),
        ("[stations\n", r"not valid TOML"),
    ],
)
def test_bad_mapping_is_refused_naming_the_key(text: str, expected: str) -> None:
    with pytest.raises(MappingError, match=rf"^my\.toml: .*{expected}"):
        parse_mapping(text, source="my.toml")


def test_mapping_file_is_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        "[[levels]]\nlevel = 'district'\nname = 'District'\n"
        "[stations.columns]\nnumber = 'No'\nregistered_voters = 'Voters'\n",
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    assert mapping.is_flat
    assert mapping.stations.fields["number"].column == "No"
    with pytest.raises(MappingError, match=r"missing\.toml: cannot read the mapping file"):
        load_mapping(tmp_path / "missing.toml")


# --- native plans ------------------------------------------------------------------------


def test_native_plan_orders_parents_first_with_depth(tmp_path: Path) -> None:
    plan = native(tmp_path)
    assert [(c.code, c.parent_code, c.depth) for c in plan.commissions] == [
        ("KZ", None, 0),
        ("R1", "KZ", 1),
        ("R2", "KZ", 1),
        ("T1", "R1", 2),
    ]
    assert plan.levels() == ["central", "region", "territorial"]
    assert list(plan.stations.rows()) == [
        ("S1", "1", "T1", 100, "1 Main St", 43.2, 76.9),
        ("S2", "2", "T1", 200, "", None, None),
        ("S3", "3", "R2", 50, "Somewhere, 5", None, None),
    ]
    assert plan.registered_voters == 350
    assert plan.warnings == []


def test_native_plan_reads_both_sheets_of_one_workbook(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "commissions"  # type: ignore[union-attr]
    for line in COMMISSIONS.splitlines():
        workbook["commissions"].append(line.split(","))
    stations = workbook.create_sheet("stations")
    stations.append(["code", "number", "commission_code", "registered_voters"])
    stations.append(["S1", 1, "T1", 100])
    workbook.save(tmp_path / "structure.xlsx")
    plan = read_plan(load_preset("pollwatch"), tmp_path / "structure.xlsx")
    assert len(plan.commissions) == 4
    assert list(plan.stations.rows()) == [("S1", "1", "T1", 100, "", None, None)]
    # The optional columns are missing from the sheet: said, not silently skipped.
    assert any("no column 'address'" in warning for warning in plan.warnings)


def test_native_mapping_needs_a_commissions_table_beside_a_csv(tmp_path: Path) -> None:
    (tmp_path / "stations.csv").write_text(STATIONS, encoding="utf-8")
    with pytest.raises(MappingError, match="needs a commissions file"):
        read_plan(load_preset("pollwatch"), tmp_path / "stations.csv")


def test_missing_column_is_named_with_the_header(tmp_path: Path) -> None:
    stations = STATIONS.replace("registered_voters", "voters")
    message = problems_of(tmp_path, stations=stations)
    assert "stations.csv, row 1, column 'registered_voters': expected this column" in message
    assert "the header has: 'code', 'number', 'commission_code', 'voters'" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12a", "expected a whole number of zero or more, got '12a'"),
        ("1.5", "expected a whole number of zero or more, got '1.5'"),
        ("-5", "expected a count of zero or more, got a negative number -5"),
        ("", "expected the number of registered voters, the cell is empty"),
        ("99999999999", "expected a count of at most 2147483647"),
    ],
)
def test_bad_registered_voters(tmp_path: Path, value: str, expected: str) -> None:
    message = problems_of(tmp_path, stations=STATIONS.replace("S2,2,T1,200", f"S2,2,T1,{value}"))
    assert f"stations.csv, row 3, column 'registered_voters': {expected}" in message
    assert message.startswith("1 problem(s) found; nothing was imported:")


def test_duplicate_station_code_names_both_rows(tmp_path: Path) -> None:
    message = problems_of(tmp_path, stations=STATIONS.replace("S3,3", "S1,3"))
    assert (
        "stations.csv, row 4, column 'code': station code 'S1' is already used at row 2" in message
    )


def test_station_of_an_unknown_commission(tmp_path: Path) -> None:
    message = problems_of(tmp_path, stations=STATIONS.replace("S3,3,R2", "S3,3,T9"))
    assert (
        "stations.csv, row 4, column 'commission_code': expected the code of a commission "
        "in the commissions table, got 'T9'"
    ) in message


def test_cycle_in_the_hierarchy_names_its_codes(tmp_path: Path) -> None:
    commissions = COMMISSIONS.replace("R1,KZ,region", "R1,T1,region")
    message = problems_of(tmp_path, commissions=commissions)
    assert "commissions.csv, row 3, column 'parent_code'" in message
    assert "the commission hierarchy has a cycle: R1 → T1 → R1" in message
    assert "1 problem(s)" in message  # one cycle, reported once


def test_commission_that_is_its_own_parent(tmp_path: Path) -> None:
    message = problems_of(tmp_path, commissions=COMMISSIONS.replace("R2,KZ", "R2,R2"))
    assert "cycle: R2 → R2" in message


def test_unknown_parent_commission(tmp_path: Path) -> None:
    message = problems_of(tmp_path, commissions=COMMISSIONS.replace("R2,KZ", "R2,XX"))
    assert "commissions.csv, row 4, column 'parent_code'" in message
    assert "got 'XX'" in message


def test_unknown_parent_and_cycle_are_reported_in_one_run(tmp_path: Path) -> None:
    commissions = COMMISSIONS.replace("R2,KZ", "R2,XX").replace("R1,KZ", "R1,T1")
    message = problems_of(tmp_path, commissions=commissions)
    assert message.startswith("2 problem(s) found")
    assert "commissions.csv, row 4, column 'parent_code': expected the code of a commission" in (
        message
    )
    assert "got 'XX'" in message
    assert (
        "commissions.csv, row 3, column 'parent_code': the commission hierarchy has a cycle: "
        "R1 → T1 → R1"
    ) in message


def test_duplicate_commission_code(tmp_path: Path) -> None:
    message = problems_of(tmp_path, commissions=COMMISSIONS + "R1,KZ,region,Again\n")
    assert (
        "commissions.csv, row 6, column 'code': commission code 'R1' is already used at row 3"
        in message
    )


@pytest.mark.parametrize(
    ("coordinates", "expected"),
    [
        ("95,76.9", "column 'latitude': expected degrees between -90 and 90, got 95"),
        ("43.2,200", "column 'longitude': expected degrees between -180 and 180, got 200"),
        ("north,76.9", "column 'latitude': expected a number of degrees, got 'north'"),
        ("nan,76.9", "column 'latitude': expected a number of degrees, got 'nan'"),
        ("43.2,", "column 'longitude': expected both latitude and longitude, or neither"),
    ],
)
def test_bad_coordinates(tmp_path: Path, coordinates: str, expected: str) -> None:
    stations = STATIONS.replace("43.2,76.9", coordinates)
    assert f"stations.csv, row 2, {expected}" in problems_of(tmp_path, stations=stations)


def test_all_problems_are_collected_and_capped(tmp_path: Path) -> None:
    rows = "".join(f"X{i},{i},T1,-1,,,\n" for i in range(60))
    message = problems_of(tmp_path, stations=STATIONS + rows)
    assert message.startswith("60 problem(s) found")
    assert "row 5," in message and "row 54," in message and "row 55," not in message
    assert message.endswith("… and 10 more")


def test_short_row_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    message = problems_of(tmp_path, stations=STATIONS + "S4,4\n")
    assert "stations.csv, row 5: expected at least 7 cells as in the header, found 2" in message


def test_values_too_long_for_the_registry(tmp_path: Path) -> None:
    message = problems_of(tmp_path, stations=STATIONS.replace("S3,3,", "S3," + "9" * 51 + ","))
    assert "row 4, column 'number': expected at most 50 characters, got 51" in message


def test_no_stations(tmp_path: Path) -> None:
    message = problems_of(tmp_path, stations=STATIONS.splitlines()[0] + "\n")
    assert "stations.csv: expected at least one station, found none" in message


# --- flat plans --------------------------------------------------------------------------

RU_2020_HEADER = (
    "name,region,tik,uik,"
    '"Число участников голосования, включенных в список участников голосования на момент '
    'окончания голосования",ДА\n'
)


def flat(tmp_path: Path, body: str) -> StructurePlan:
    path = tmp_path / "2020.csv"
    path.write_text(RU_2020_HEADER + body, encoding="utf-8")
    return read_plan(load_preset("ru-2020"), path)


def test_flat_plan_derives_commission_and_station_codes(tmp_path: Path) -> None:
    plan = flat(
        tmp_path,
        "v,Region A,1 North,УИК №1,100,1\n"
        "v,Region A,1 North,УИК №2,200,1\n"
        "v,Region A,2 South/East,УИК №1,300,1\n"
        "v,Region B,1 North,УИК №1,400,1\n",
    )
    assert [(c.code, c.name, c.level, c.parent_code, c.depth) for c in plan.commissions] == [
        ("Region A", "Region A", "region", None, 0),
        ("Region B", "Region B", "region", None, 0),
        ("Region A/1 North", "1 North", "territorial", "Region A", 1),
        ("Region A/2 South%2FEast", "2 South/East", "territorial", "Region A", 1),
        ("Region B/1 North", "1 North", "territorial", "Region B", 1),
    ]
    assert [
        (code, number, commission) for code, number, commission, *_ in plan.stations.rows()
    ] == [
        ("Region A/1 North/1", "1", "Region A/1 North"),
        ("Region A/1 North/2", "2", "Region A/1 North"),
        ("Region A/2 South%2FEast/1", "1", "Region A/2 South%2FEast"),
        ("Region B/1 North/1", "1", "Region B/1 North"),
    ]


def test_path_segments_cannot_collide() -> None:
    assert path_segment("a/b") != path_segment("a%2Fb")


def test_flat_number_must_match_the_pattern(tmp_path: Path) -> None:
    with pytest.raises(StructureError) as raised:
        flat(tmp_path, "v,Region A,1 North,Участок 1,100,1\n")
    assert (
        "2020.csv, row 2, column 'uik': "
        "expected a value matching '^УИК №(\\\\d+)$', got 'Участок 1'"
    ) in str(raised.value)


def test_flat_empty_level_name_and_duplicate_station(tmp_path: Path) -> None:
    with pytest.raises(StructureError) as raised:
        flat(
            tmp_path,
            "v,Region A,,УИК №1,100,1\nv,Region A,1 North,УИК №1,100,1\n"
            "v,Region A,1 North,УИК №1,100,1\n",
        )
    message = str(raised.value)
    assert (
        "row 2, column 'tik': expected the name of the territorial commission, the cell is empty"
        in message
    )
    assert (
        "row 4, column 'uik': station code 'Region A/1 North/1' is already used at row 3" in message
    )


@pytest.mark.slow
def test_russia_2020_reference_file(shared_data: Path) -> None:
    plan = read_plan(load_preset("ru-2020"), shared_data / "russia" / "2020.csv.zip")
    assert len(plan.stations) == 96_765
    assert plan.registered_voters == 107_999_611
    assert plan.levels() == ["region", "territorial"]
    assert max(c.depth for c in plan.commissions) == 1
    assert sum(c.depth == 0 for c in plan.commissions) == 87


@pytest.mark.slow
def test_russia_2018_reference_file(shared_data: Path) -> None:
    plan = read_plan(load_preset("ru-2018"), shared_data / "russia" / "2018.csv.zip")
    assert len(plan.stations) == 97_699
    assert plan.registered_voters == 109_008_428


def test_quick_and_per_cell_readers_agree_on_unusual_valid_values(tmp_path: Path) -> None:
    # Rows with values only the per-cell reader accepts (decimal comma, ten-digit count) sit
    # between plain rows; all must come out as the per-cell reader reads them.
    stations = (
        STATIONS.splitlines()[0]
        + "\nS1, 1 ,T1, 0100 ,1 Main St,43.2,76.9\n"
        + 'S2,2,T1,1000000000,,"43,5","76,25"\n'
        + "S3,3,R2,7,,-0.0,180\n"
    )
    plan = native(tmp_path, stations=stations)
    assert list(plan.stations.rows()) == [
        ("S1", "1", "T1", 100, "1 Main St", 43.2, 76.9),
        ("S2", "2", "T1", 1_000_000_000, "", 43.5, 76.25),
        ("S3", "3", "R2", 7, "", -0.0, 180.0),
    ]


def test_progress_counts_every_station_row(tmp_path: Path) -> None:
    rows = "".join(f"X{i},{i},T1,1,,,\n" for i in range(25_000))
    (tmp_path / "commissions.csv").write_text(COMMISSIONS, encoding="utf-8")
    (tmp_path / "stations.csv").write_text(STATIONS + rows, encoding="utf-8")
    counted: list[int] = []
    read_plan(
        load_preset("pollwatch"),
        tmp_path / "stations.csv",
        tmp_path / "commissions.csv",
        on_rows=counted.append,
    )
    assert sum(counted) == 25_003
    assert len(counted) == 3  # in steps, not row by row


def test_subtree_totals_add_each_subtree_into_its_top() -> None:
    # 10 ─┬─ 20 ── 40
    #     └─ 30
    ids = np.array([10, 20, 30, 40], dtype=np.int64)
    parents = np.array([-1, 10, 10, 20], dtype=np.int64)
    depth, count, voters = subtree_totals(
        ids, parents, np.array([30, 40]), np.array([2, 3]), np.array([100, 50])
    )
    assert depth.tolist() == [0, 1, 1, 2]
    assert count.tolist() == [5, 3, 2, 3]
    assert voters.tolist() == [150, 50, 100, 50]
