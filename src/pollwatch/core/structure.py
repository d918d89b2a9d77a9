r"""An election's structure — commissions and polling stations — read from tables into a plan.

A *mapping* (TOML, see pollwatch/import_presets/) says which column holds which field, in one of
two shapes:

- native: two tables, commissions (code, parent_code, level, name) and stations (code, number,
  commission_code, registered_voters, address, latitude, longitude);
- flat: one row per station, the hierarchy given as one name column per level (region → tik);
  commission codes are derived from the names path and station codes from the path and the
  station number, so that importing the same file twice names the same things.

A mapping file, native shape (see pollwatch.toml for the whole of it):

    [commissions]
    sheet = "commissions"            # XLSX only; a CSV is its own table
    [commissions.columns]
    code = "code"                    # field = header name, or
    ...                              # field = { column = "...", pattern = '...' }

and flat shape (ru-2020.toml):

    [[levels]]                       # top first; one per commission level
    level = "region"
    name = "region"                  # the column holding that commission's name
    [stations.columns]
    number = { column = "uik", pattern = '^УИК №(\d+)$' }
    registered_voters = "..."

Optional fields (address, latitude, longitude, parent_code) whose column the file lacks are
left empty, with a warning.

The *plan* is the validated result: commissions with parent and depth, parents before children,
and stations. Every problem is collected (the first MAX_PROBLEMS are kept, the rest counted),
each naming file, row, column and what was expected; any problem means no plan at all.
"""

from __future__ import annotations

import math
import operator
import re
import tomllib
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pollwatch.core.tabular import InputError, Table, is_workbook, open_table

MAX_PROBLEMS = 50
PROGRESS_EVERY = 10_000

# Column sizes of the registry tables; checked here so that a long value is a clear error
# rather than a database failure halfway through (or, on SQLite, silently stored).
CODE_MAX = 255
NAME_MAX = 300
LEVEL_MAX = 50
NUMBER_MAX = 50
VOTERS_MAX = 2**31 - 1

COMMISSION_FIELDS = {"code": True, "name": True, "level": True, "parent_code": False}
STATION_FIELDS = {
    "code": True,
    "number": True,
    "commission_code": True,
    "registered_voters": True,
    "address": False,
    "latitude": False,
    "longitude": False,
}
# In the flat shape codes are derived, never read.
FLAT_STATION_FIELDS = {
    k: v for k, v in STATION_FIELDS.items() if k not in {"code", "commission_code"}
}

# Flat mappings read each level's commission name as a field named "level:<level>".
LEVEL_FIELD = "level:"

OnRows = Callable[[int], object]


# --- mapping -------------------------------------------------------------------------------


class MappingError(InputError):
    """The mapping file itself is wrong."""


@dataclass(frozen=True)
class ColumnSpec:
    """Where one field is read: a header name, and optionally a regex the cell must match.

    The whole cell must match the pattern; its first group, if it has one, is the value.
    """

    column: str
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class TableMapping:
    sheet: str | None
    fields: dict[str, ColumnSpec]


@dataclass(frozen=True)
class LevelMapping:
    level: str
    name: ColumnSpec


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    stations: TableMapping
    commissions: TableMapping | None  # native shape only
    levels: tuple[LevelMapping, ...]  # flat shape only

    @property
    def is_flat(self) -> bool:
        return bool(self.levels)


def preset_names() -> list[str]:
    folder = resources.files("pollwatch") / "import_presets"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_preset(name: str) -> Mapping:
    """A built-in mapping, by name (pollwatch, ru-2018, ru-2020)."""
    if name not in preset_names():
        raise MappingError(f"no import preset {name!r}; presets: {', '.join(preset_names())}")
    resource = resources.files("pollwatch") / "import_presets" / f"{name}.toml"
    return parse_mapping(resource.read_text(encoding="utf-8"), source=f"preset {name!r}")


def load_mapping(path: Path) -> Mapping:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"{path}: cannot read the mapping file ({error})") from error
    return parse_mapping(text, source=str(path))


def parse_mapping(text: str, source: str) -> Mapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{source}: not valid TOML ({error})") from error
    _only_keys(data, {"name", "description", "commissions", "stations", "levels"}, source, "")
    levels = tuple(
        _parse_level(item, source, i) for i, item in enumerate(_list(data, "levels", source))
    )
    if levels and "commissions" in data:
        raise MappingError(
            f"{source}: give either [commissions] (two tables) or [[levels]] (one flat table), "
            "not both"
        )
    if not levels and "commissions" not in data:
        raise MappingError(
            f"{source}: expected a [commissions] table (two tables) or [[levels]] (one flat table)"
        )
    if "stations" not in data:
        raise MappingError(f"{source}: expected a [stations] table")
    station_fields = FLAT_STATION_FIELDS if levels else STATION_FIELDS
    return Mapping(
        name=str(data.get("name", source)),
        description=str(data.get("description", "")),
        stations=_parse_table(data["stations"], station_fields, source, "stations"),
        commissions=None
        if levels
        else _parse_table(data["commissions"], COMMISSION_FIELDS, source, "commissions"),
        levels=levels,
    )


def _parse_table(data: Any, fields: dict[str, bool], source: str, key: str) -> TableMapping:
    if not isinstance(data, dict):
        raise MappingError(f"{source}: [{key}] must be a table")
    _only_keys(data, {"sheet", "columns"}, source, key)
    columns = data.get("columns")
    if not isinstance(columns, dict):
        raise MappingError(f"{source}: expected a [{key}.columns] table naming the columns")
    _only_keys(columns, set(fields), source, f"{key}.columns")
    missing = [name for name, required in fields.items() if required and name not in columns]
    if missing:
        raise MappingError(f"{source}: [{key}.columns] must name a column for {', '.join(missing)}")
    sheet = data.get("sheet")
    if sheet is not None and not isinstance(sheet, str):
        raise MappingError(f"{source}: {key}.sheet must be a string")
    specs = {
        name: _parse_spec(value, source, f"{key}.columns.{name}") for name, value in columns.items()
    }
    return TableMapping(sheet=sheet, fields=specs)


def _parse_level(data: Any, source: str, index: int) -> LevelMapping:
    where = f"levels[{index}]"
    if not isinstance(data, dict):
        raise MappingError(f"{source}: {where} must be a table")
    _only_keys(data, {"level", "name"}, source, where)
    level = data.get("level")
    if not isinstance(level, str) or not level or len(level) > LEVEL_MAX:
        raise MappingError(
            f"{source}: {where}.level must be a level name of 1–{LEVEL_MAX} characters"
        )
    if "name" not in data:
        raise MappingError(
            f"{source}: {where}.name must name the column holding the commission name"
        )
    return LevelMapping(level=level, name=_parse_spec(data["name"], source, f"{where}.name"))


def _parse_spec(value: Any, source: str, where: str) -> ColumnSpec:
    if isinstance(value, str) and value:
        return ColumnSpec(column=value)
    if isinstance(value, dict):
        _only_keys(value, {"column", "pattern"}, source, where)
        column, pattern = value.get("column"), value.get("pattern")
        if not isinstance(column, str) or not column:
            raise MappingError(f"{source}: {where}.column must be a column name")
        if pattern is None:
            return ColumnSpec(column=column)
        if not isinstance(pattern, str):
            raise MappingError(f"{source}: {where}.pattern must be a string")
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            raise MappingError(
                f"{source}: {where}.pattern is not a valid regex ({error})"
            ) from error
        return ColumnSpec(column=column, pattern=compiled)
    raise MappingError(
        f"{source}: {where} must be a column name or {{ column = ..., pattern = ... }}"
    )


def _list(data: dict[str, Any], key: str, source: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise MappingError(f"{source}: {key} must be an array of tables ([[{key}]])")
    return value


def _only_keys(data: dict[str, Any], allowed: set[str], source: str, where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        place = f"[{where}]" if where else "the top level"
        raise MappingError(
            f"{source}: unknown key(s) {', '.join(unknown)} in {place}; "
            f"expected: {', '.join(sorted(allowed))}"
        )


# --- problems ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    source: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class StructureError(InputError):
    def __init__(self, problems: list[Problem], total: int) -> None:
        self.problems = problems
        self.total = total
        lines = [f"{total} problem(s) found; nothing was imported:"]
        lines += [f"  {problem}" for problem in problems]
        if total > len(problems):
            lines.append(f"  … and {total - len(problems)} more")
        super().__init__("\n".join(lines))


class Problems:
    """Collects problems, keeping the first `limit` and counting the rest."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.kept: list[Problem] = []
        self.total = 0
        self.limit = limit

    @property
    def full(self) -> bool:
        return self.total >= self.limit

    def add(self, source: str, row: int | None, column: str | None, message: str) -> None:
        self.total += 1
        if len(self.kept) < self.limit:
            self.kept.append(Problem(source, row, column, message))

    def raise_if_any(self) -> None:
        if self.total:
            raise StructureError(self.kept, self.total)


# --- plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommissionPlan:
    code: str
    name: str
    level: str
    parent_code: str | None
    depth: int


@dataclass
class StationColumns:
    """Stations column by column: a million of them cost lists, not a million objects."""

    code: list[str] = field(default_factory=list)
    number: list[str] = field(default_factory=list)
    commission_code: list[str] = field(default_factory=list)
    registered_voters: list[int] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    latitude: list[float | None] = field(default_factory=list)
    longitude: list[float | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.code)

    def rows(self) -> Iterator[tuple[str, str, str, int, str, float | None, float | None]]:
        """(code, number, commission_code, registered_voters, address, latitude, longitude)."""
        return zip(
            self.code,
            self.number,
            self.commission_code,
            self.registered_voters,
            self.address,
            self.latitude,
            self.longitude,
            strict=True,
        )


@dataclass
class StructurePlan:
    commissions: list[CommissionPlan]  # parents before children
    stations: StationColumns
    warnings: list[str] = field(default_factory=list)

    @property
    def registered_voters(self) -> int:
        return sum(self.stations.registered_voters)

    def levels(self) -> list[str]:
        """The commission levels, top first."""
        seen: dict[str, int] = {}
        for commission in self.commissions:
            seen.setdefault(commission.level, commission.depth)
        return sorted(seen, key=seen.__getitem__)


def read_plan(
    mapping: Mapping,
    stations: Path,
    commissions: Path | None = None,
    *,
    stations_sheet: str | None = None,
    commissions_sheet: str | None = None,
    on_rows: OnRows | None = None,
) -> StructurePlan:
    """Read the files named by the command line into a validated plan.

    Native mappings read commissions from `commissions`, or from the stations workbook when
    that is an XLSX file holding both sheets.
    """
    station_sheet = stations_sheet or mapping.stations.sheet
    if mapping.is_flat:
        if commissions is not None:
            raise MappingError(
                f"mapping {mapping.name!r} reads commissions from the stations table's "
                "name columns; it takes no commissions file"
            )
        with open_table(stations, station_sheet) as table:
            return plan_flat(mapping, table, on_rows)
    assert mapping.commissions is not None
    if commissions is None:
        if not is_workbook(Path(stations)):
            raise MappingError(
                f"mapping {mapping.name!r} needs a commissions file as well as the stations file "
                "(or one XLSX workbook holding both sheets)"
            )
        commissions = stations
    commission_sheet = commissions_sheet or mapping.commissions.sheet
    with (
        open_table(commissions, commission_sheet) as commission_table,
        open_table(stations, station_sheet) as station_table,
    ):
        return plan_native(mapping, commission_table, station_table, on_rows)


class _RowReader:
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


def _report_progress(on_rows: OnRows | None, count: int) -> None:
    if on_rows is not None and count % PROGRESS_EVERY == 0:
        on_rows(PROGRESS_EVERY)


def _finish_progress(on_rows: OnRows | None, count: int) -> None:
    if on_rows is not None:
        on_rows(count % PROGRESS_EVERY)


# --- native shape --------------------------------------------------------------------------


@dataclass
class _CommissionRow:
    row: int
    code: str
    name: str
    level: str
    parent_code: str | None


def plan_native(
    mapping: Mapping, commissions: Table, stations: Table, on_rows: OnRows | None = None
) -> StructurePlan:
    assert mapping.commissions is not None
    problems = Problems()
    commission_reader = _RowReader(commissions, mapping.commissions, COMMISSION_FIELDS, problems)
    station_reader = _RowReader(stations, mapping.stations, STATION_FIELDS, problems)
    # Without the columns every row would repeat the same complaint.
    problems.raise_if_any()

    rows = _read_commissions(commission_reader, commissions.rows, problems)
    planned = _order_hierarchy(rows, commissions.source, commission_reader, problems)
    # Stations refer to commissions by code; each code string is then shared, not copied.
    known = {code: code for code in rows}
    columns = _read_native_stations(station_reader, stations.rows, known, problems, on_rows)
    problems.raise_if_any()
    return StructurePlan(
        commissions=planned,
        stations=columns,
        warnings=commission_reader.warnings + station_reader.warnings,
    )


def _read_commissions(
    reader: _RowReader, rows: Iterator[tuple[int, list[str]]], problems: Problems
) -> dict[str, _CommissionRow]:
    found: dict[str, _CommissionRow] = {}
    for row, cells in rows:
        if not reader.start(row, cells):
            continue
        code = reader.text("code", max_length=CODE_MAX)
        name = reader.text("name", max_length=NAME_MAX)
        level = reader.text("level", max_length=LEVEL_MAX)
        parent = reader.text("parent_code", required=False, max_length=CODE_MAX)
        if code is None or name is None or level is None or parent is None:
            continue
        if code in found:
            reader.fail(
                "code", f"commission code {code!r} is already used at row {found[code].row}"
            )
            continue
        found[code] = _CommissionRow(row, code, name, level, parent or None)
    if not found and problems.total == 0:
        problems.add(reader.source, None, None, "expected at least one commission, found none")
    return found


def _order_hierarchy(
    rows: dict[str, _CommissionRow], source: str, reader: _RowReader, problems: Problems
) -> list[CommissionPlan]:
    """Commissions with their depth, parents first; problems for unknown parents and cycles."""
    column = reader.specs["parent_code"].column if "parent_code" in reader.specs else None
    for row in rows.values():
        if row.parent_code is not None and row.parent_code not in rows:
            problems.add(
                source,
                row.row,
                column,
                f"expected the code of a commission in this table, got {row.parent_code!r}",
            )
    if problems.total:
        return []
    depth: dict[str, int] = {}
    for start in rows:
        # Walk up until a commission of known depth or the top, then assign depths back down.
        path: list[str] = []
        on_path: set[str] = set()
        code: str | None = start
        while code is not None and code not in depth:
            if code in on_path:
                cycle = [*path[path.index(code) :], code]
                problems.add(
                    source,
                    rows[code].row,
                    column,
                    f"the commission hierarchy has a cycle: {' → '.join(cycle)}",
                )
                for member in cycle:
                    depth[member] = 0  # reported once; stop walking into it again
                path = []
                break
            path.append(code)
            on_path.add(code)
            code = rows[code].parent_code
        base = -1 if code is None else depth[code]
        for offset, member in enumerate(reversed(path), start=1):
            depth[member] = base + offset
    if problems.total:
        return []
    ordered = sorted(rows.values(), key=lambda row: (depth[row.code], row.row))
    return [
        CommissionPlan(row.code, row.name, row.level, row.parent_code, depth[row.code])
        for row in ordered
    ]


def _read_native_stations(
    reader: _RowReader,
    rows: Iterator[tuple[int, list[str]]],
    commissions: dict[str, str],
    problems: Problems,
    on_rows: OnRows | None,
) -> StationColumns:
    columns = StationColumns()
    seen = _StationCodes(reader, columns.code)
    fast = _fast_station_reader(reader, commissions)
    count = 0
    for row, cells in rows:
        count += 1
        _report_progress(on_rows, count)
        if fast is not None and len(cells) >= reader.width:
            station = fast(cells)
            if station is not None and station[0] not in seen.codes:
                seen.codes.add(station[0])
                seen.rows.append(row)
                _append(columns, *station)
                continue
        if not reader.start(row, cells):
            continue
        code = reader.text("code", max_length=CODE_MAX)
        number = reader.text("number", max_length=NUMBER_MAX)
        commission_code = reader.text("commission_code", max_length=CODE_MAX)
        voters = reader.count("registered_voters")
        address = reader.text("address", required=False)
        coordinates = reader.coordinates()
        if commission_code is not None:
            commission = commissions.get(commission_code)
            if commission is None:
                reader.fail(
                    "commission_code",
                    f"expected the code of a commission in the commissions table, "
                    f"got {commission_code!r}",
                )
            commission_code = commission
        if (
            code is None
            or number is None
            or commission_code is None
            or voters is None
            or address is None
            or coordinates is None
            or not seen.add(code, row, "code")
        ):
            continue
        _append(columns, code, number, commission_code, voters, address, coordinates)
    _finish_progress(on_rows, count)
    if count == 0:
        problems.add(reader.source, None, None, "expected at least one station, found none")
    return columns


StationValues = tuple[str, str, str, int, str, tuple[float | None, float | None]]


def _fast_station_reader(
    reader: _RowReader, commissions: dict[str, str]
) -> Callable[[list[str]], StationValues | None] | None:
    """A quick reader for the common row, where every value is plainly valid.

    The per-cell reader above costs several calls per cell, which a million rows feel. This
    one reads a row in a few C-level operations and accepts only what the per-cell reader would
    accept, with the same result; any doubt (None) sends the row to the per-cell reader, which
    decides and writes the message. Mappings with patterns or absent columns always take the
    per-cell path.
    """
    names = list(STATION_FIELDS)
    if any(reader.specs[name].pattern for name in names) or set(names) - set(reader.index):
        return None
    get = operator.itemgetter(*(reader.index[name] for name in names))
    digits_max = len(str(VOTERS_MAX)) - 1  # shorter numbers cannot exceed VOTERS_MAX

    def read(cells: list[str]) -> StationValues | None:
        code, number, commission, voters, address, lat, lon = (c.strip() for c in get(cells))
        if not (
            code
            and number
            and len(code) <= CODE_MAX
            and len(number) <= NUMBER_MAX
            and voters.isascii()
            and voters.isdigit()
            and len(voters) <= digits_max
        ):
            return None
        commission = commissions.get(commission)
        if commission is None:
            return None
        if not (lat or lon):
            return code, number, commission, int(voters), address, (None, None)
        try:
            latitude, longitude = float(lat), float(lon)
        except ValueError:
            return None
        # NaN fails both comparisons, so it goes to the per-cell reader too.
        if -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0:
            return code, number, commission, int(voters), address, (latitude, longitude)
        return None

    return read


class _StationCodes:
    """Detects duplicate station codes without keeping a dict of a million entries.

    `order` is the list of accepted codes (the plan's code column); `rows` their row numbers.
    """

    def __init__(self, reader: _RowReader, order: list[str]) -> None:
        self.reader = reader
        self.codes: set[str] = set()
        self.order = order
        self.rows = array("q")

    def add(self, code: str, row: int, field_name: str) -> bool:
        """Record an accepted code (the caller then appends it to `order`); False if a repeat."""
        if code in self.codes:
            if not self.reader.problems.full:  # finding the first row is a scan: only if shown
                first = self.rows[self.order.index(code)]
                self.reader.fail(
                    field_name, f"station code {code!r} is already used at row {first}"
                )
            else:
                self.reader.fail(field_name, "duplicate station code")
            return False
        self.codes.add(code)
        self.rows.append(row)
        return True


def _append(
    columns: StationColumns,
    code: str,
    number: str,
    commission_code: str,
    voters: int,
    address: str,
    coordinates: tuple[float | None, float | None],
) -> None:
    columns.code.append(code)
    columns.number.append(number)
    columns.commission_code.append(commission_code)
    columns.registered_voters.append(voters)
    columns.address.append(address)
    columns.latitude.append(coordinates[0])
    columns.longitude.append(coordinates[1])


# --- flat shape ----------------------------------------------------------------------------


def path_segment(name: str) -> str:
    """A name as one segment of a derived code: "/" is the separator, so it is escaped."""
    return name.replace("%", "%25").replace("/", "%2F")


def plan_flat(mapping: Mapping, stations: Table, on_rows: OnRows | None = None) -> StructurePlan:
    problems = Problems()
    level_fields = {f"{LEVEL_FIELD}{level.level}": level.name for level in mapping.levels}
    table_mapping = TableMapping(
        sheet=mapping.stations.sheet, fields={**mapping.stations.fields, **level_fields}
    )
    required = {**FLAT_STATION_FIELDS, **dict.fromkeys(level_fields, True)}
    reader = _RowReader(stations, table_mapping, required, problems)
    problems.raise_if_any()

    commissions: dict[str, CommissionPlan] = {}
    columns = StationColumns()
    seen = _StationCodes(reader, columns.code)
    count = 0
    for row, cells in stations.rows:
        count += 1
        _report_progress(on_rows, count)
        if not reader.start(row, cells):
            continue
        names = [reader.text(name, max_length=NAME_MAX) for name in level_fields]
        number = reader.text("number", max_length=NUMBER_MAX)
        voters = reader.count("registered_voters")
        address = reader.text("address", required=False)
        coordinates = reader.coordinates()
        if (
            None in names
            or number is None
            or voters is None
            or address is None
            or coordinates is None
        ):
            continue
        commission_code = _flat_commissions(mapping.levels, names, commissions)  # type: ignore[arg-type]
        code = f"{commission_code}/{path_segment(number)}"
        if len(code) > CODE_MAX:
            reader.fail("number", f"the derived station code is longer than {CODE_MAX} characters")
            continue
        if not seen.add(code, row, "number"):
            continue
        _append(columns, code, number, commission_code, voters, address, coordinates)
    _finish_progress(on_rows, count)
    if count == 0:
        problems.add(reader.source, None, None, "expected at least one station, found none")
    for commission in commissions.values():
        if len(commission.code) > CODE_MAX:
            problems.add(
                stations.source,
                None,
                None,
                f"the derived commission code {commission.code[:60]!r}… is longer than {CODE_MAX} "
                "characters",
            )
    problems.raise_if_any()
    ordered = sorted(commissions.values(), key=lambda commission: commission.depth)
    return StructurePlan(commissions=ordered, stations=columns, warnings=reader.warnings)


def _flat_commissions(
    levels: Sequence[LevelMapping], names: list[str], commissions: dict[str, CommissionPlan]
) -> str:
    """Registers the row's commissions (top down) and returns the lowest one's code."""
    parent: str | None = None
    code = ""
    for depth, (level, name) in enumerate(zip(levels, names, strict=True)):
        code = path_segment(name) if parent is None else f"{parent}/{path_segment(name)}"
        known = commissions.get(code)
        if known is None:
            commissions[code] = CommissionPlan(code, name, level.level, parent, depth)
        else:
            code = known.code  # share one string per commission across its stations
        parent = code
    return code
