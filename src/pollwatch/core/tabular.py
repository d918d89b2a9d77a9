"""Read a table — header and rows — from CSV, a zip holding one CSV, or an XLSX sheet.

Rows are streamed, never loaded whole: a million-row file costs the memory of one row. Every row
carries its 1-based row number in the file (the header is row 1), so that an error can point at
the line a clerk will open.
"""

from __future__ import annotations

import csv
import datetime
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

# Excel can store a cell of up to 32,767 characters; anything longer in a CSV is a broken file.
# The csv module's own limit (131,072 characters unless the process changed it) is left alone:
# csv.field_size_limit is process-wide, and a longer cell is reported as an error (_csv_error).
EXCEL_CELL_MAX = 32_767

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_QUOTED = re.compile(r'"[^"]*"')


class InputError(Exception):
    """Bad input: the message names the file and, where known, the row, column and expectation."""


@dataclass
class Table:
    """One table of a file: `source` names it in messages ("stations.csv", "x.xlsx, sheet 's'")."""

    source: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]


def is_workbook(path: Path) -> bool:
    return path.suffix.lower() in XLSX_SUFFIXES


@contextmanager
def open_table(path: Path, sheet: str | None = None) -> Iterator[Table]:
    """Open `path` as a table; `sheet` picks an XLSX sheet (default: the first one).

    Raises InputError for a missing or unreadable file, a missing sheet or an empty table.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    with ExitStack() as stack:
        yield _open_xlsx(path, sheet, stack) if is_workbook(path) else _open_csv(path, stack)


def _open_csv(path: Path, stack: ExitStack) -> Table:
    try:
        if path.suffix.lower() == ".zip":
            raw = _open_zipped_csv(path, stack)
            source = f"{path} ({raw.name})"
        else:
            raw = stack.enter_context(path.open("rb"))
            source = str(path)
    except OSError as error:
        raise InputError(f"{path}: cannot read the file ({error.strerror or error})") from error
    lines = _decoded_lines(raw, source)
    # The delimiter is read off the first line with text on it, not a blank line above the header.
    leading: list[str] = []
    for line in lines:
        leading.append(line)
        if line.strip():
            break
    first = leading[-1] if leading else ""
    reader = csv.reader(itertools.chain(leading, lines), delimiter=_delimiter(first))
    header = _first_row(source, reader)
    return Table(
        source=source, header=[cell.strip() for cell in header], rows=_csv_rows(source, reader)
    )


def _open_zipped_csv(path: Path, stack: ExitStack) -> IO[bytes]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except zipfile.BadZipFile as error:
        raise InputError(f"{path}: not a readable zip archive ({error})") from error
    members = [info for info in archive.infolist() if not info.is_dir()]
    csvs = [info for info in members if info.filename.lower().endswith(".csv")]
    if len(csvs) != 1:
        names = ", ".join(info.filename for info in members) or "nothing"
        raise InputError(f"{path}: expected a zip holding exactly one .csv file, found {names}")
    return stack.enter_context(archive.open(csvs[0]))


def _delimiter(header: str) -> str:
    """Comma, semicolon or tab, whichever separates the header's names.

    Excel saves "CSV" with semicolons where the decimal separator is a comma (Russian and Kazakh
    locales among them). Quoted names are left out of the count: they may hold any of the three.
    """
    unquoted = _QUOTED.sub("", header)
    return max(",;\t", key=unquoted.count)  # a tie (a one-column file) keeps the comma


def _decoded_lines(raw: IO[bytes], source: str) -> Iterator[str]:
    """The file's lines as text, decoded one by one so that bad bytes are pinned to a row."""
    for number, line in enumerate(raw, start=1):
        try:
            # utf-8-sig drops the byte-order mark Excel writes, and reads plain UTF-8 alike.
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise InputError(
                f"{source}, row {number}: the file is not UTF-8 text at byte {error.start + 1} "
                "of the line (save it as CSV UTF-8)"
            ) from error


def _header_row(rows: Iterable[list[str]]) -> list[str] | None:
    """The first row with text in it, or None; CSV and XLSX alike.

    Rows of empty or whitespace-only cells above the header are skipped: a blank row or two
    before the header is common in spreadsheets exported by hand.
    """
    return next((row for row in rows if any(cell.strip() for cell in row)), None)


def _first_row(source: str, reader: Iterator[list[str]]) -> list[str]:
    try:
        header = _header_row(reader)
    except (csv.Error, OSError, zipfile.BadZipFile) as error:
        raise InputError(f"{source}: cannot read the header row: {_csv_error(error)}") from error
    if header is None:
        raise InputError(f"{source}: the file is empty (expected a header row)")
    return header


def _csv_error(error: Exception) -> str:
    """What went wrong reading a CSV record, an oversized cell said plainly."""
    if isinstance(error, csv.Error) and "field larger than field limit" in str(error):
        return (
            f"a cell is longer than {csv.field_size_limit():,} characters (a spreadsheet cell "
            f"holds at most {EXCEL_CELL_MAX:,}); the file is damaged or not a table"
        )
    return str(error)


def _csv_rows(source: str, reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    # line_num counts physical lines; a record starts on the line after the previous record
    # ended, which is what a text editor shows even when a quoted cell spans lines.
    line_num = reader.line_num  # type: ignore[attr-defined]
    try:
        for row in reader:
            start, line_num = line_num + 1, reader.line_num  # type: ignore[attr-defined]
            if row and any(row):
                yield start, row
    except (csv.Error, OSError, zipfile.BadZipFile) as error:
        raise InputError(
            f"{source}, row {line_num + 1}: cannot read the row: {_csv_error(error)}"
        ) from error


def _load_workbook(path: Path, stack: ExitStack) -> Workbook:
    import openpyxl  # imported here: reading CSV must not pay for loading openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged or foreign file
        raise InputError(f"{path}: not a readable XLSX workbook ({error})") from error
    stack.callback(workbook.close)
    return workbook


def _open_xlsx(path: Path, sheet: str | None, stack: ExitStack) -> Table:
    workbook = _load_workbook(path, stack)
    names = list(workbook.sheetnames)
    if sheet is None:
        if not names:
            raise InputError(f"{path}: the workbook has no sheets")
        sheet = names[0]
    elif sheet not in names:
        raise InputError(
            f"{path}: no sheet named {sheet!r}; the workbook has: {', '.join(map(repr, names))}"
        )
    source = f"{path}, sheet {sheet!r}"
    worksheet = workbook[sheet]
    # Some writers store a wrong sheet size, and openpyxl would then stop short: measure it.
    worksheet.reset_dimensions()
    rows = (
        (number, [_cell_text(value) for value in values])
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1)
    )
    header = _header_row(row for _, row in rows)
    if header is None:
        raise InputError(f"{source}: the sheet is empty (expected a header row)")
    return Table(
        source=source, header=[cell.strip() for cell in header], rows=_xlsx_rows(rows, len(header))
    )


def _xlsx_rows(
    rows: Iterator[tuple[int, list[str]]], width: int
) -> Iterator[tuple[int, list[str]]]:
    for number, row in rows:
        if any(row):
            # A sheet has no short rows: missing trailing cells are empty cells.
            yield number, row + [""] * (width - len(row))


def _cell_text(value: object) -> str:
    """A cell as the text a CSV would hold: 12.0 → "12", empty → ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
