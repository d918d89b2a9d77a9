r"""Import mappings: which column of a table holds which field of the structure.

A *mapping* (TOML, see pollwatch/import_presets/) comes in one of two shapes:

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
left empty, with a warning. A mistake in the mapping itself raises MappingError at once.

A mapping may also name the stations table's result figures, for `pollwatch forensics` and
`pollwatch pvt` (the structure import ignores them); a figure given as a list of columns is
their sum per station (ru-2018.toml):

    [figures]
    registered = "..."               # V; default: stations.columns.registered_voters
    issued = ["...", "...", "..."]   # G, ballots issued
    counted = ["...", "..."]         # R, ballots counted: valid + invalid
    options = ["...", "..."]         # each option's votes, named by its column, or
                                     # [figures.options] name = column
    leader = "..."                   # optional: default, the option with most votes
    region = "..."                   # optional: default, the top level's name column
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pollwatch.core.structure.plan import LEVEL_MAX
from pollwatch.core.tabular import InputError

# Field name → whether a mapping must name a column for it.
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
class FiguresMapping:
    """Where the stations table holds each station's results; several columns are summed."""

    registered: tuple[ColumnSpec, ...]
    issued: tuple[ColumnSpec, ...]
    counted: tuple[ColumnSpec, ...]
    options: tuple[tuple[str, ColumnSpec], ...]  # (option name, its votes)
    leader: str | None
    region: ColumnSpec | None


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    stations: TableMapping
    commissions: TableMapping | None  # native shape only
    levels: tuple[LevelMapping, ...]  # flat shape only
    figures: FiguresMapping | None = None

    @property
    def is_flat(self) -> bool:
        return bool(self.levels)


def _presets() -> Traversable:
    return resources.files("pollwatch") / "import_presets"


def preset_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".toml") for p in _presets().iterdir() if p.name.endswith(".toml")
    )


def load_preset(name: str) -> Mapping:
    """A built-in mapping, by name (pollwatch, ru-2018, ru-2020)."""
    if name not in preset_names():
        raise MappingError(f"no import preset {name!r}; presets: {', '.join(preset_names())}")
    resource = _presets() / f"{name}.toml"
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
    _only_keys(
        data, {"name", "description", "commissions", "stations", "levels", "figures"}, source, ""
    )
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
    stations = _parse_table(data["stations"], station_fields, source, "stations")
    return Mapping(
        name=str(data.get("name", source)),
        description=str(data.get("description", "")),
        stations=stations,
        commissions=None
        if levels
        else _parse_table(data["commissions"], COMMISSION_FIELDS, source, "commissions"),
        levels=levels,
        figures=None
        if "figures" not in data
        else _parse_figures(data["figures"], stations.fields["registered_voters"], source),
    )


def _parse_figures(data: Any, registered: ColumnSpec, source: str) -> FiguresMapping:
    if not isinstance(data, dict):
        raise MappingError(f"{source}: [figures] must be a table")
    keys = {"registered", "issued", "counted", "options", "leader", "region"}
    _only_keys(data, keys, source, "figures")
    for key in ("issued", "counted", "options"):
        if key not in data:
            raise MappingError(f"{source}: [figures] must name the column(s) for {key}")
    options = _parse_options(data["options"], source)
    leader = data.get("leader")
    names = [name for name, _ in options]
    if leader is not None and leader not in names:
        raise MappingError(
            f"{source}: figures.leader {leader!r} is not one of the options: {', '.join(names)}"
        )
    region = data.get("region")
    return FiguresMapping(
        registered=_parse_sum(data["registered"], source, "figures.registered")
        if "registered" in data
        else (registered,),
        issued=_parse_sum(data["issued"], source, "figures.issued"),
        counted=_parse_sum(data["counted"], source, "figures.counted"),
        options=options,
        leader=leader,
        region=None if region is None else _parse_spec(region, source, "figures.region"),
    )


def _parse_sum(value: Any, source: str, where: str) -> tuple[ColumnSpec, ...]:
    """One column, or a non-empty list of columns to add up."""
    if not isinstance(value, list):
        return (_parse_spec(value, source, where),)
    if not value:
        raise MappingError(f"{source}: {where} must name at least one column")
    return tuple(_parse_spec(item, source, f"{where}[{i}]") for i, item in enumerate(value))


def _parse_options(value: Any, source: str) -> tuple[tuple[str, ColumnSpec], ...]:
    """A list of columns (each option named by its column) or a table of name = column."""
    if isinstance(value, list):
        specs = [_parse_spec(item, source, f"figures.options[{i}]") for i, item in enumerate(value)]
        options = [(spec.column, spec) for spec in specs]
        if len({name for name, _ in options}) < len(options):
            raise MappingError(f"{source}: figures.options names a column twice")
    elif isinstance(value, dict):
        options = [
            (name, _parse_spec(item, source, f"figures.options.{name}"))
            for name, item in value.items()
        ]
    else:
        raise MappingError(
            f"{source}: figures.options must be a list of columns or a table of name = column"
        )
    if not options:
        raise MappingError(f"{source}: figures.options must name at least one option")
    return tuple(options)


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
