"""Reading a table's mapped fields row by row, recording every problem as it goes.

`RowReader` turns cells into values (text through the field's pattern, counts, coordinates),
each failure a problem naming the row and column; `StationCodes` finds repeated station codes.
Both serve the native and the flat shape alike.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence

from pollwatch.core.structure.mapping import LEVEL_FIELD, TableMapping
from pollwatch.core.structure.plan import VOTERS_MAX
from pollwatch.core.structure.problems import Problems
from pollwatch.core.tabular import Table


class RowReader:
    """Reads a table's mapped fields cell by cell, recording problems as it goes."""

    def __init__(
        self, table: Table, mapping: TableMapping, required: dict[str, bool], problems: Problems
    ) -> None:
        self.source = table.source
        self.problems = problems
        self.warnings: list[str] = []
        self.index: dict[str, int] = {}
        self.specs = mapping.fields
        positions = {name: i for i, name in reversed(list(enumerate(table.header)))}
        for name, spec in mapping.fields.items():
            if spec.column in positions:
                self.index[name] = positions[spec.column]
            elif required.get(name, True):
                problems.add(
                    self.source,
                    1,
                    spec.column,
                    f"expected this column (for {name.replace('_', ' ')}) in the header row; "
                    f"the header has: {_header_list(table.header)}",
                )
            else:
                self.warnings.append(
                    f"{self.source}: no column {spec.column!r}, so {name.replace('_', ' ')} is "
                    "left empty"
                )
        self.width = max(self.index.values(), default=-1) + 1
        self.row = 0

    def start(self, row: int, cells: list[str]) -> bool:
        """Begin reading a row; False (with a problem recorded) if it is too short."""
        self.row = row
        if len(cells) < self.width:
            self.problems.add(
                self.source,
                row,
                None,
                f"expected at least {self.width} cells as in the header, found {len(cells)}",
            )
            return False
        self.cells = cells
        return True

    def fail(self, name: str, message: str) -> None:
        self.problems.add(self.source, self.row, self.specs[name].column, message)

    def text(
        self, name: str, *, required: bool = True, max_length: int | None = None
    ) -> str | None:
        """The cell's text, stripped and passed through the field's pattern; None on a problem."""
        i = self.index.get(name)
        if i is None:
            return ""
        value = self.cells[i].strip()
        if not value:
            if required:
                self.fail(name, f"expected {_describe(name)}, the cell is empty")
                return None
            return ""
        pattern = self.specs[name].pattern
        if pattern is not None:
            match = pattern.fullmatch(value)
            if match is None:
                self.fail(name, f"expected a value matching {pattern.pattern!r}, got {value!r}")
                return None
            value = (match.group(1) if pattern.groups else match.group(0)).strip()
        if max_length is not None and len(value) > max_length:
            self.fail(name, f"expected at most {max_length} characters, got {len(value)}")
            return None
        return value

    def count(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if value.isascii() and value.isdigit():
            number = int(value)
            if number <= VOTERS_MAX:
                return number
            self.fail(name, f"expected a count of at most {VOTERS_MAX}, got {value}")
            return None
        if value.startswith("-") and value[1:].isdigit():
            self.fail(name, f"expected a count of zero or more, got a negative number {value}")
        else:
            self.fail(name, f"expected a whole number of zero or more, got {value!r}")
        return None

    def coordinates(self) -> tuple[float | None, float | None] | None:
        """(latitude, longitude), both None when both are empty; None on a problem."""
        lat_ok, latitude = self._coordinate("latitude", 90.0)
        lon_ok, longitude = self._coordinate("longitude", 180.0)
        if not (lat_ok and lon_ok):
            return None
        if (latitude is None) != (longitude is None):
            missing = "longitude" if longitude is None else "latitude"
            self.fail(
                missing, "expected both latitude and longitude, or neither; this one is empty"
            )
            return None
        return latitude, longitude

    def _coordinate(self, name: str, limit: float) -> tuple[bool, float | None]:
        value = self.text(name, required=False)
        if value is None:
            return False, None
        if not value:
            return True, None
        try:
            number = float(value.replace(",", ".") if value.count(",") == 1 else value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.fail(name, f"expected a number of degrees, got {value!r}")
            return False, None
        if not -limit <= number <= limit:
            self.fail(name, f"expected degrees between {-limit:g} and {limit:g}, got {value}")
            return False, None
        return True, number


def _describe(name: str) -> str:
    if name.startswith(LEVEL_FIELD):
        return f"the name of the {name.removeprefix(LEVEL_FIELD)} commission"
    return {
        "registered_voters": "the number of registered voters",
        "commission_code": "the code of the station's commission",
        "parent_code": "the code of the parent commission",
    }.get(name, f"a {name.replace('_', ' ')}")


def _header_list(header: Sequence[str], limit: int = 400) -> str:
    text = ", ".join(repr(name) for name in header)
    return text if len(text) <= limit else text[:limit] + " …"


class StationCodes:
    """Detects duplicate station codes without keeping a dict of a million entries.

    `order` is the list of accepted codes (the plan's code column); `rows` their row numbers.
    """

    def __init__(self, reader: RowReader, order: list[str]) -> None:
        self.reader = reader
        self.codes: set[str] = set()
        self.order = order
        self.rows = array("q")

    def add(self, code: str, row: int, field_name: str) -> bool:
        """Record an accepted code (the caller then appends it to `order`); False if a repeat,
        which is reported as a problem in `field_name`'s column."""
        if self.add_if_new(code, row):
            return True
        if not self.reader.problems.full:  # finding the first row is a scan: only if shown
            first = self.rows[self.order.index(code)]
            self.reader.fail(field_name, f"station code {code!r} is already used at row {first}")
        else:
            self.reader.fail(field_name, "duplicate station code")
        return False

    def add_if_new(self, code: str, row: int) -> bool:
        """Like `add`, but a repeat is only refused (False), not reported."""
        if code in self.codes:
            return False
        self.codes.add(code)
        self.rows.append(row)
        return True
