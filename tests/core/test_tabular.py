"""Reading tables from CSV, zipped CSV and XLSX: rows, row numbers and errors naming the file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pollwatch.core.tabular import InputError, open_table


def read(path: Path, sheet: str | None = None) -> tuple[list[str], list[tuple[int, list[str]]]]:
    with open_table(path, sheet) as table:
        return table.header, list(table.rows)


def test_csv_header_and_numbered_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("code, number\nA,1\nB,2\n", encoding="utf-8")
    assert read(path) == (["code", "number"], [(2, ["A", "1"]), (3, ["B", "2"])])


def test_csv_with_byte_order_mark_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes("\ufeffcode,name\nA,Алматы\n".encode())
    assert read(path) == (["code", "name"], [(2, ["A", "Алматы"])])


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_read_alike(tmp_path: Path, delimiter: str) -> None:
    # Excel in a comma-decimal locale saves "CSV" with semicolons; quoted names may hold commas.
    path = tmp_path / "s.csv"
    header = delimiter.join(["code", '"Число избирателей, включенных в список"', "lat"])
    path.write_text(f"{header}\nA{delimiter}1200{delimiter}43,25\n", encoding="utf-8")
    assert read(path) == (
        ["code", "Число избирателей, включенных в список", "lat"],
        [(2, ["A", "1200", "43,25"])],
    )


def test_quoted_commas_do_not_fool_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text('region,"a; b; c; d",uik\nR,1,2\n', encoding="utf-8")
    assert read(path) == (["region", "a; b; c; d", "uik"], [(2, ["R", "1", "2"])])


def test_row_numbers_follow_the_file_across_blank_lines_and_multiline_cells(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.csv"
    path.write_text('code,address\nA,"line one\nline two"\n\nB,x\n', encoding="utf-8")
    _, rows = read(path)
    assert rows == [(2, ["A", "line one\nline two"]), (5, ["B", "x"])]


def test_rows_are_streamed_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("code\n" + "".join(f"S{i}\n" for i in range(1000)), encoding="utf-8")
    with open_table(path) as table:
        assert not isinstance(table.rows, list | tuple)
        assert next(table.rows) == (2, ["S0"])


def test_zip_holding_one_csv(tmp_path: Path) -> None:
    path = tmp_path / "s.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("s.csv", "code\nA\n")
    with open_table(path) as table:
        assert table.source.endswith("(s.csv)")
        assert list(table.rows) == [(2, ["A"])]


def test_zip_with_two_csvs_is_refused_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "code\n")
        archive.writestr("b.csv", "code\n")
    with pytest.raises(
        InputError, match=r"s\.zip: expected a zip holding exactly one \.csv.*a\.csv, b\.csv"
    ):
        read(path)


def test_damaged_zip_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.csv.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match=r"s\.csv\.zip: not a readable zip archive"):
        read(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        read(tmp_path / "nope.csv")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"empty\.csv: the file is empty \(expected a header row\)"
    ):
        read(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_blank_rows_above_the_header_are_skipped_in_csv_and_xlsx_alike(
    tmp_path: Path, suffix: str
) -> None:
    # Hand-exported sheets often start with a blank row; whitespace-only cells count as blank.
    rows = [["", ""], [" ", "  "], ["code", "number"], ["A", "1"]]
    path = tmp_path / f"s{suffix}"
    if suffix == ".csv":
        # Semicolons: the delimiter must come from the header, not from the blank first line.
        path.write_text("\n" + "\n".join(";".join(row) for row in rows[1:]) + "\n", "utf-8")
    else:
        _workbook(path, {"stations": rows})
    assert read(path) == (["code", "number"], [(4, ["A", "1"])])


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("code,number\n", encoding="utf-8")
    assert read(path) == (["code", "number"], [])


def test_text_that_is_not_utf8_names_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.csv"
    path.write_bytes(b"code,name\n" + "A,Москва\n".encode("cp1251"))
    with pytest.raises(InputError, match=r"cp1251\.csv, row 2: .*not UTF-8"):
        read(path)


def test_binary_garbage_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"garbage\.csv"):
        read(path)


def test_oversized_cell_is_an_error_naming_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("code,address\nA,x\nB," + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"s\.csv, row 3: .*a cell is longer than [\d,]+ char"):
        read(path)


def test_importing_the_module_leaves_the_csv_field_limit_alone() -> None:
    # csv.field_size_limit is process-wide: a fresh interpreter shows what the import does.
    code = (
        "import csv; before = csv.field_size_limit(); import pollwatch.core.tabular; "
        "print(before, csv.field_size_limit())"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert output[0] == output[1]


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_named_sheet_with_cells_as_text(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "s.xlsx",
        {
            "notes": [["ignored"]],
            "stations": [
                ["code", "voters", "lat", "note"],
                ["A", 1200, 43.25, "x"],
                [None, None, None, None],
                ["B", 12.0, None],
            ],
        },
    )
    header, rows = read(path, "stations")
    assert header == ["code", "voters", "lat", "note"]
    assert rows == [(2, ["A", "1200", "43.25", "x"]), (4, ["B", "12", "", ""])]


def test_xlsx_default_is_the_first_sheet(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "s.xlsx", {"first": [["code"], ["A"]], "second": [["other"]]})
    assert read(path) == (["code"], [(2, ["A"])])


def test_xlsx_missing_sheet_names_the_sheets_there_are(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "s.xlsx", {"communes": [["code"]], "stations": [["code"]]})
    with pytest.raises(
        InputError,
        match=r"s\.xlsx: no sheet named 'commissions'; the workbook has: 'communes', 'stations'",
    ):
        read(path, "commissions")


def test_xlsx_empty_sheet(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "s.xlsx", {"stations": []})
    with pytest.raises(InputError, match=r"s\.xlsx, sheet 'stations': the sheet is empty"):
        read(path, "stations")


def test_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("code\nA\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"fake\.xlsx: not a readable XLSX workbook"):
        read(path)


def test_russian_reference_file_streams_from_its_zip(shared_data: Path) -> None:
    with open_table(shared_data / "russia" / "2020.csv.zip") as table:
        assert table.header[:4] == ["name", "region", "tik", "uik"]
        number, first = next(table.rows)
    assert number == 2
    assert first[3] == "УИК №1"
