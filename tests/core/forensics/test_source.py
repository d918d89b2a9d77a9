"""Per-station figures read from a table through a mapping's [figures] table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pollwatch.core.forensics.source import FiguresError, StationFigures, read_station_figures
from pollwatch.core.structure import MappingError, parse_mapping, read_plan

FLAT = """
[[levels]]
level = "region"
name = "region"
[[levels]]
level = "territorial"
name = "tik"
[stations.columns]
number = { column = "uik", pattern = '^UIK (\\d+)$' }
registered_voters = "V"
[figures]
issued = ["G1", "G2"]
counted = "R"
[figures.options]
Yes = "Y"
No = "N"
"""
HEADER = "region,tik,uik,V,G1,G2,R,Y,N,kind\n"
ROWS = (
    "North,T/1,UIK 1,100,50,10,58,20,30,urban\n"
    "North,T/1,UIK 2,200,100,0,99,70,20,rural\n"
    "South,T2,UIK 3,300,150,50,200,100,90,Rural\n"
)


def read(
    tmp_path: Path, rows: str = ROWS, mapping: str = FLAT, urban_column: str | None = None
) -> StationFigures:
    path = tmp_path / "results.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    mapping_ = parse_mapping(mapping, source="m.toml")
    return read_station_figures(mapping_, path, urban_column=urban_column)


def test_columns_are_summed_and_options_named(tmp_path: Path) -> None:
    figures = read(tmp_path)
    assert figures.registered.tolist() == [100, 200, 300]
    assert figures.issued.tolist() == [60, 100, 200]
    assert figures.counted.tolist() == [58, 99, 200]
    assert figures.options.tolist() == [[20, 30], [70, 20], [100, 90]]
    assert figures.option_names == ("Yes", "No")
    assert figures.leader == "Yes"  # most votes over all stations
    assert figures.rows.tolist() == [2, 3, 4]
    assert figures.region_names == ("North", "South")
    assert figures.region.tolist() == [0, 0, 1]
    assert figures.urban is None
    results = figures.results("No")
    assert results.leader.tolist() == [30, 20, 90]


def test_station_codes_are_those_import_structure_derives(tmp_path: Path) -> None:
    figures = read(tmp_path)
    plan = read_plan(parse_mapping(FLAT, source="m.toml"), tmp_path / "results.csv")
    assert figures.codes == list(plan.stations.code)
    assert figures.codes[0] == "North/T%2F1/1"


def test_urban_column_is_read_as_a_mark(tmp_path: Path) -> None:
    figures = read(tmp_path, urban_column="kind")
    assert figures.urban is not None and figures.urban.tolist() == [True, False, False]
    with pytest.raises(FiguresError, match=r"row 2, column 'kind': expected one of 1, 0, .*'town'"):
        read(tmp_path, rows=ROWS.replace("urban", "town"), urban_column="kind")


def test_take_keeps_stations_in_the_order_asked(tmp_path: Path) -> None:
    part = read(tmp_path).take(np.array([2, 0], dtype=np.intp))
    assert part.codes == ["South/T2/3", "North/T%2F1/1"]
    assert part.issued.tolist() == [200, 60]


def test_every_problem_is_listed_with_row_and_column(tmp_path: Path) -> None:
    rows = (
        ROWS.replace("UIK 2,200", "2,200").replace(",90,", ",-9,")
        + "North,T/1,UIK 1,1,0,0,0,0,0,x\n"
    )
    with pytest.raises(FiguresError) as raised:
        read(tmp_path, rows=rows)
    message = str(raised.value)
    assert message.startswith("3 problem(s) found in the results file:")
    assert "row 3, column 'uik': expected a value matching" in message
    assert (
        "row 4, column 'N': expected a count of zero or more, got a negative number -9" in message
    )
    assert "row 5, column 'uik': station code 'North/T%2F1/1' is already used at row 2" in message


def test_a_leader_not_among_the_options_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"no option 'Maybe' .*; options: Yes, No"):
        read(tmp_path).results("Maybe")


def test_native_mapping_reads_the_code_column(tmp_path: Path) -> None:
    mapping = (
        '[commissions.columns]\ncode = "c"\nname = "n"\nlevel = "l"\n'
        '[stations.columns]\ncode = "uik"\nnumber = "uik"\ncommission_code = "tik"\n'
        'registered_voters = "V"\n'
        '[figures]\nissued = "G1"\ncounted = "R"\noptions = ["Y", "N"]\nleader = "N"\n'
    )
    figures = read(tmp_path, mapping=mapping)
    assert figures.codes == ["UIK 1", "UIK 2", "UIK 3"]
    assert figures.leader == "N"
    assert figures.region_names == ("",)  # no region column: one region


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FiguresError, match="expected at least one station"):
        read(tmp_path, rows="")
