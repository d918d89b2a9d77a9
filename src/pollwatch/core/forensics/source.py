"""Per-station result figures read from a table through an import mapping's [figures] table.

The mapping that tells `import-structure` where the stations are (ru-2018, ru-2020, or a user's
TOML) also says where their results are: V, G, R and each option's votes, any of them a sum of
columns. Stations are named by the codes `import-structure` gives them (derived from the names
path in the flat shape, read in the native one), so a PVT sample drawn from a file names the
same stations as the database. Cells are read by the structure importer's `RowReader`: every
problem is collected with its file, row and column, and any problem means no figures at all.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.forensics.stations import IntArray, StationResults
from pollwatch.core.progress import Counted, OnRows
from pollwatch.core.structure.flat import path_segment
from pollwatch.core.structure.mapping import (
    LEVEL_FIELD,
    ColumnSpec,
    FiguresMapping,
    Mapping,
    MappingError,
    TableMapping,
)
from pollwatch.core.structure.problems import Problem, Problems
from pollwatch.core.structure.rows import RowReader, StationCodes
from pollwatch.core.tabular import InputError, open_table

# Field names read as "expected a <name>" in RowReader's messages.
_REGISTERED, _ISSUED, _COUNTED = "registered voters", "ballots issued", "ballots counted"
_OPTION = "votes for "
_REGION = "region name"
_URBAN = "urban or rural mark"
# How a file may mark a station urban (True) or rural (False), compared in lower case.
URBAN_VALUES = {
    "1": True, "0": False, "true": True, "false": False, "yes": True, "no": False,
    "urban": True, "rural": False,
}  # fmt: skip


class FiguresError(InputError):
    """Problems in a results file, each with its file, row and column."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        lines = [f"{total} problem(s) found in the results file:"]
        lines += [f"  {problem}" for problem in problems]
        if total > len(problems):
            lines.append(f"  … and {total - len(problems)} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class StationFigures:
    """One entry per station, in file order; `rows` are their row numbers in the file."""

    source: str
    codes: list[str]
    rows: IntArray
    region: NDArray[np.intp]
    region_names: tuple[str, ...]
    registered: IntArray
    issued: IntArray
    counted: IntArray
    options: IntArray  # (stations, options)
    option_names: tuple[str, ...]
    leader: str  # the mapping's leader, else the option with most votes
    urban: NDArray[np.bool_] | None = None

    @property
    def stations(self) -> int:
        return len(self.codes)

    def leader_of(self, name: str | None) -> str:
        """`name` if it is an option (else MappingError listing them), or the default leader."""
        if name is None:
            return self.leader
        if name not in self.option_names:
            raise MappingError(
                f"no option {name!r} in {self.source}; options: {', '.join(self.option_names)}"
            )
        return name

    def results(self, leader: str | None = None) -> StationResults:
        """The figures as the forensic tests read them, with `leader` (default: see above)."""
        column = self.option_names.index(self.leader_of(leader))
        return StationResults(
            registered=self.registered,
            issued=self.issued,
            counted=self.counted,
            leader=self.options[:, column],
            region=self.region,
            region_names=self.region_names,
            options=self.options,
            option_names=self.option_names,
        )

    def take(self, indices: NDArray[np.intp]) -> StationFigures:
        """The same figures for some stations only, in the order of `indices`."""
        return StationFigures(
            source=self.source,
            codes=[self.codes[i] for i in indices.tolist()],
            rows=self.rows[indices],
            region=self.region[indices],
            region_names=self.region_names,
            registered=self.registered[indices],
            issued=self.issued[indices],
            counted=self.counted[indices],
            options=self.options[indices],
            option_names=self.option_names,
            leader=self.leader,
            urban=None if self.urban is None else self.urban[indices],
        )


def read_station_figures(
    mapping: Mapping,
    path: Path,
    *,
    sheet: str | None = None,
    urban_column: str | None = None,
    on_rows: OnRows | None = None,
) -> StationFigures:
    """Read every station's figures from `path` as `mapping` says.

    `urban_column` names a column marking each station urban or rural (1/0, true/false, yes/no,
    urban/rural). Raises MappingError when the mapping has no [figures] table, FiguresError
    listing every problem in the file.
    """
    figures = mapping.figures
    if figures is None:
        raise MappingError(
            f"mapping {mapping.name!r} does not say where the results are: it needs a [figures] "
            "table naming the columns of registered voters, ballots issued, ballots counted and "
            "each option's votes (see the ru-2018 preset)"
        )
    fields = _fields(mapping, figures, urban_column)
    problems = Problems()
    with open_table(path, sheet or mapping.stations.sheet) as table:
        reader = RowReader(table, TableMapping(sheet=None, fields=fields), {}, problems)
        if problems.total:
            raise FiguresError(problems.kept, problems.total)
        read = _Columns(figures, _code_fields(mapping), mapping.is_flat)
        seen = StationCodes(reader, read.codes)
        counted_rows = Counted(table.rows, on_rows)
        for row, cells in counted_rows:
            if reader.start(row, cells):
                read.row(reader, seen, row, urban_column is not None)
        source = table.source
    if counted_rows.count == 0:
        problems.add(source, None, None, "expected at least one station, found none")
    result = read.figures(source, figures.leader, urban_column is not None)
    _check_votes(result, figures, problems)
    if problems.total:
        raise FiguresError(problems.kept, problems.total)
    return result


def _fields(
    mapping: Mapping, figures: FiguresMapping, urban_column: str | None
) -> dict[str, ColumnSpec]:
    fields = {name: _code_spec(mapping, name) for name in _code_fields(mapping)}
    region = figures.region or (mapping.levels[0].name if mapping.is_flat else None)
    if region is not None:
        fields[_REGION] = region
    for name, specs in _sums(figures).items():
        for i, spec in enumerate(specs):
            fields[_part(name, i, len(specs))] = spec
    for name, spec in figures.options:
        fields[_OPTION + name] = spec
    if urban_column is not None:
        fields[_URBAN] = ColumnSpec(urban_column)
    return fields


def _code_fields(mapping: Mapping) -> list[str]:
    """The fields a station's code is made of: the names path and number, or the code."""
    if not mapping.is_flat:
        return ["code"]
    return [f"{LEVEL_FIELD}{level.level}" for level in mapping.levels] + ["number"]


def _code_spec(mapping: Mapping, field: str) -> ColumnSpec:
    levels = {f"{LEVEL_FIELD}{level.level}": level.name for level in mapping.levels}
    return levels.get(field) or mapping.stations.fields[field]


def _sums(figures: FiguresMapping) -> dict[str, tuple[ColumnSpec, ...]]:
    return {_REGISTERED: figures.registered, _ISSUED: figures.issued, _COUNTED: figures.counted}


def _part(name: str, i: int, parts: int) -> str:
    return name if parts == 1 else f"{name}, part {i + 1} of {parts}"


class _Columns:
    """The accepted rows' values, column by column (compact arrays, not a list of rows)."""

    def __init__(self, figures: FiguresMapping, code_fields: list[str], flat: bool) -> None:
        self.sums = {name: len(specs) for name, specs in _sums(figures).items()}
        self.option_names = tuple(name for name, _ in figures.options)
        self.code_fields = code_fields
        self.flat = flat
        self.codes: list[str] = []
        self.rows = array("q")
        self.regions: list[str] = []
        self.counts = {name: array("q") for name in self.sums}
        self.votes = array("q")
        self.urban: list[bool] = []

    def row(self, reader: RowReader, seen: StationCodes, row: int, urban: bool) -> None:
        code = self._code(reader)
        region = reader.text(_REGION)  # "" when the mapping has no region
        sums = {
            name: [reader.count(_part(name, i, parts)) for i in range(parts)]
            for name, parts in self.sums.items()
        }
        votes = [reader.count(_OPTION + name) for name in self.option_names]
        mark = self._urban(reader) if urban else False
        counts = [v for parts in sums.values() for v in parts] + votes
        known = [v for v in counts if v is not None]
        if code is None or region is None or mark is None or len(known) < len(counts):
            return
        if not seen.add(code, row, self.code_fields[-1]):
            return
        self.codes.append(code)
        self.rows.append(row)
        self.regions.append(region)
        for name, parts in sums.items():
            self.counts[name].append(sum(v or 0 for v in parts))
        self.votes.extend(known[-len(votes) :])
        self.urban.append(mark)

    def _code(self, reader: RowReader) -> str | None:
        parts = [reader.text(name) for name in self.code_fields]
        known = [part for part in parts if part is not None]
        if len(known) < len(parts):
            return None
        if not self.flat:
            return known[0]
        # The code import-structure derives (core.structure.flat): the names path, the number.
        return "/".join(path_segment(part) for part in known)

    @staticmethod
    def _urban(reader: RowReader) -> bool | None:
        value = reader.text(_URBAN)
        if value is None:
            return None
        mark = URBAN_VALUES.get(value.lower())
        if mark is None:
            reader.fail(_URBAN, f"expected one of {', '.join(URBAN_VALUES)}, got {value!r}")
        return mark

    def figures(self, source: str, leader: str | None, urban: bool) -> StationFigures:
        unique, region = np.unique(np.array(self.regions, dtype=str), return_inverse=True)
        options = np.frombuffer(self.votes, dtype=np.int64).reshape(-1, len(self.option_names))
        totals = options.sum(axis=0)
        return StationFigures(
            source=source,
            codes=self.codes,
            rows=np.frombuffer(self.rows, dtype=np.int64),
            region=region.astype(np.intp),
            region_names=tuple(str(name) for name in unique),
            registered=np.frombuffer(self.counts[_REGISTERED], dtype=np.int64),
            issued=np.frombuffer(self.counts[_ISSUED], dtype=np.int64),
            counted=np.frombuffer(self.counts[_COUNTED], dtype=np.int64),
            options=options,
            option_names=self.option_names,
            leader=leader or self.option_names[int(np.argmax(totals))],
            urban=np.array(self.urban, dtype=bool) if urban else None,
        )


def _check_votes(figures: StationFigures, mapping: FiguresMapping, problems: Problems) -> None:
    """No option can have more votes than there are ballots counted at its station."""
    over = figures.options > figures.counted[:, None]
    for station, option in zip(*np.nonzero(over), strict=True):
        name = figures.option_names[option]
        problems.add(
            figures.source,
            int(figures.rows[station]),
            dict(mapping.options)[name].column,
            f"expected at most the {figures.counted[station]} ballots counted, got "
            f"{figures.options[station, option]} votes for {name}",
        )
