"""Official results mappings: which column names a row's place and which holds each line.

A mapping (TOML; presets in ``official/presets/``) says

    name = "ru-2018"
    template = "ru-president-2018"   # optional: the protocol template it is written for
    structure = "ru-2018"            # places as that structure preset derives them (flat
                                     # levels + station number), or:
    code = "station_code"            # the column holding a station's (or, for commission
                                     # totals, a commission's) code as in the registry
    ignore = ["url"]                 # columns present in the file that carry no figure
    [lines]                          # line key = column (or { column = …, pattern = … })
    registered = "Число избирателей, включенных в список избирателей"

Every column of the file must be used or ignored: an unknown column is an error, so a
renamed column never passes unnoticed. Without a mapping the native format applies: a
``code`` column and one column per line key of the election's template.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pollwatch.core.structure.mapping import (
    ColumnSpec,
    LevelMapping,
    MappingError,
    _only_keys,
    _parse_spec,
    load_preset,
)

NATIVE_CODE = "code"


@dataclass(frozen=True)
class OfficialMapping:
    name: str
    template: str | None
    code: ColumnSpec | None  # a code column, or else:
    levels: tuple[LevelMapping, ...]  # flat hierarchy names, top first
    number: ColumnSpec | None  # the station's number within its lowest commission
    lines: tuple[tuple[str, ColumnSpec], ...]  # (line key, column), in the mapping's order
    ignore: frozenset[str]

    @property
    def columns(self) -> set[str]:
        """Every column the mapping reads or ignores."""
        used = {spec.column for _, spec in self.lines} | set(self.ignore)
        used |= {level.name.column for level in self.levels}
        for spec in (self.code, self.number):
            if spec is not None:
                used.add(spec.column)
        return used


def native_mapping(line_keys: tuple[str, ...]) -> OfficialMapping:
    return OfficialMapping(
        name="pollwatch",
        template=None,
        code=ColumnSpec(NATIVE_CODE),
        levels=(),
        number=None,
        lines=tuple((key, ColumnSpec(key)) for key in line_keys),
        ignore=frozenset(),
    )


def official_preset_names() -> list[str]:
    folder = resources.files("pollwatch.official") / "presets"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_official_preset(name: str) -> OfficialMapping:
    if name not in official_preset_names():
        raise MappingError(
            f"no official results preset {name!r}; presets: {', '.join(official_preset_names())}"
        )
    resource = resources.files("pollwatch.official") / "presets" / f"{name}.toml"
    return parse_official_mapping(resource.read_text(encoding="utf-8"), f"preset {name!r}")


def load_official_mapping(path: Path) -> OfficialMapping:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"{path}: cannot read the mapping file ({error})") from error
    return parse_official_mapping(text, str(path))


def parse_official_mapping(text: str, source: str) -> OfficialMapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{source}: not valid TOML ({error})") from error
    _only_keys(
        data,
        {"name", "description", "template", "structure", "code", "ignore", "lines"},
        source,
        "",
    )
    if ("structure" in data) == ("code" in data):
        raise MappingError(
            f"{source}: name the places either by a code column (code = …) or as a structure "
            "preset derives them (structure = …), exactly one of the two"
        )
    levels: tuple[LevelMapping, ...] = ()
    number = code = None
    if "structure" in data:
        structure = load_preset(str(data["structure"]))
        if not structure.is_flat:
            raise MappingError(
                f"{source}: structure preset {data['structure']!r} is not flat; give a code "
                "column instead"
            )
        levels = structure.levels
        number = structure.stations.fields["number"]
    else:
        code = _parse_spec(data["code"], source, "code")
    lines = data.get("lines")
    if not isinstance(lines, dict) or not lines:
        raise MappingError(f"{source}: expected a [lines] table: line key = column")
    ignore = data.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(c, str) for c in ignore):
        raise MappingError(f"{source}: ignore must be a list of column names")
    template: Any = data.get("template")
    if template is not None and not isinstance(template, str):
        raise MappingError(f"{source}: template must be a template key")
    return OfficialMapping(
        name=str(data.get("name", source)),
        template=template,
        code=code,
        levels=levels,
        number=number,
        lines=tuple(
            (str(key), _parse_spec(value, source, f"lines.{key}")) for key, value in lines.items()
        ),
        ignore=frozenset(ignore),
    )
