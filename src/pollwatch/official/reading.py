"""Reading an official results table into codes and a figures matrix, every problem at once.

Each row names a place — a station, or with ``totals`` a commission at any level — and gives
its figures. A figure must be a whole number from 0 to ``FIGURE_MAX``; an empty cell, a
negative or fractional number, text, a column the mapping does not know, a place named twice:
each is a problem naming the file, row and column, and any problem means nothing is imported.
Rows are parsed in one tight loop; the figures go into an int64 matrix, never into objects.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pollwatch.core.progress import Counted, OnRows
from pollwatch.core.structure.flat import path_segment
from pollwatch.core.structure.mapping import ColumnSpec, MappingError
from pollwatch.core.structure.problems import Problems
from pollwatch.core.tabular import Table
from pollwatch.official.mapping import OfficialMapping

# No protocol line of any election counts more than this; a larger figure is a broken file.
FIGURE_MAX = 1_000_000_000


@dataclass(frozen=True)
class OfficialTable:
    """What a file publishes: ``codes[i]`` at file row ``rows[i]`` has figures ``values[i]``.

    ``line_keys`` are the lines the file gives (in template order); ``code_column`` names the
    column a place's code comes from, for messages about places unknown to the registry.
    """

    source: str
    totals: bool
    codes: list[str]
    rows: array[int]
    line_keys: tuple[str, ...]
    values: npt.NDArray[np.int64]
    code_column: str


def read_official_table(
    table: Table,
    mapping: OfficialMapping,
    template_keys: tuple[str, ...],
    *,
    totals: bool = False,
    on_rows: OnRows | None = None,
) -> OfficialTable:
    """Parse ``table``; raises StructureError listing every problem (MappingError for a
    mapping that does not fit the template)."""
    unknown = [key for key, _ in mapping.lines if key not in template_keys]
    if unknown:
        raise MappingError(
            f"mapping {mapping.name!r}: unknown line keys {', '.join(unknown)}; the template "
            f"has {', '.join(template_keys)}"
        )
    by_key = dict(mapping.lines)
    line_keys = tuple(key for key in template_keys if key in by_key)
    problems = Problems()
    source = table.source
    position = {name: i for i, name in reversed(list(enumerate(table.header)))}

    def column_of(spec: ColumnSpec) -> int:
        if spec.column not in position:
            problems.add(source, 1, spec.column, "expected this column in the header row")
            return -1
        return position[spec.column]

    line_specs = [by_key[key] for key in line_keys]
    line_index = [column_of(spec) for spec in line_specs]
    place_specs: list[ColumnSpec] = (
        [mapping.code]
        if mapping.code is not None
        else [level.name for level in mapping.levels]
        + ([mapping.number] if mapping.number is not None and not totals else [])
    )
    place_index = [column_of(spec) for spec in place_specs]
    known = mapping.columns
    for i, name in enumerate(table.header):
        if name not in known:
            problems.add(
                source,
                1,
                name or f"#{i + 1}",
                "unknown column: the mapping neither reads nor ignores it",
            )
    problems.raise_if_any()

    specs = place_specs
    code_column = specs[-1].column
    width = max([*line_index, *place_index]) + 1
    codes: list[str] = []
    rows: array[int] = array("q")
    values: array[int] = array("q")
    first_row: dict[str, int] = {}
    lines = len(line_index)
    flat = mapping.code is None
    for row, cells in Counted(table.rows, on_rows):
        if len(cells) < width:
            problems.add(source, row, None, f"expected at least {width} cells, found {len(cells)}")
            continue
        code = _place(cells, place_index, specs, flat, totals, problems, source, row)
        if code is None:
            continue
        texts = [cells[i].strip() for i in line_index]
        joined = "".join(texts)
        figures: list[int] | None
        if joined.isascii() and joined.isdigit() and all(texts):
            figures = [int(text) for text in texts]
            if max(figures, default=0) > FIGURE_MAX:
                figures = _figures_slowly(texts, line_specs, problems, source, row)
        else:
            figures = _figures_slowly(texts, line_specs, problems, source, row)
        if figures is None:
            continue
        if code in first_row:
            what = "commission" if totals else "station"
            problems.add(
                source,
                row,
                code_column,
                f"{what} {code!r} already has a row in this file (row {first_row[code]})",
            )
            continue
        first_row[code] = row
        codes.append(code)
        rows.append(row)
        values.extend(figures)
    if not codes and not problems.total:
        problems.add(source, None, None, "expected at least one row of results, found none")
    problems.raise_if_any()
    matrix = np.frombuffer(values, dtype=np.int64).reshape(len(codes), lines).copy()
    return OfficialTable(source, totals, codes, rows, line_keys, matrix, code_column)


def _place(
    cells: list[str],
    index: list[int],
    specs: list[ColumnSpec],
    flat: bool,
    totals: bool,
    problems: Problems,
    source: str,
    row: int,
) -> str | None:
    """The row's place code: the code cell, or the derived path of a flat hierarchy."""
    parts = []
    for i, spec in zip(index, specs, strict=True):
        text = cells[i].strip()
        if text and spec.pattern is not None:
            match = spec.pattern.fullmatch(text)
            if match is None:
                problems.add(
                    source, row, spec.column, f"expected a value matching {spec.pattern.pattern!r}"
                )
                return None
            text = (match.group(1) if spec.pattern.groups else match.group(0)).strip()
        parts.append(text)
    if not flat:
        if not parts[0]:
            problems.add(source, row, specs[0].column, "expected a code, the cell is empty")
            return None
        return parts[0]
    # A commission total may leave the lower levels empty: it is a higher commission's.
    given = len(parts)
    if totals:
        while given and not parts[given - 1]:
            given -= 1
    for spec, part in zip(specs[:given], parts[:given], strict=True):
        if not part:
            problems.add(source, row, spec.column, "expected a name, the cell is empty")
            return None
    if not given:
        problems.add(
            source, row, specs[0].column, "expected a commission name, the cells are empty"
        )
        return None
    return "/".join(path_segment(part) for part in parts[:given])


def _figures_slowly(
    texts: list[str], specs: list[ColumnSpec], problems: Problems, source: str, row: int
) -> list[int] | None:
    """Each figure checked on its own, so that every bad cell is named."""
    figures: list[int] = []
    for text, spec in zip(texts, specs, strict=True):
        if not text:
            problems.add(source, row, spec.column, "expected a figure, the cell is empty")
        elif text.isascii() and text.isdigit():
            if int(text) > FIGURE_MAX:
                problems.add(
                    source, row, spec.column, f"expected at most {FIGURE_MAX:,}, got {text}"
                )
            else:
                figures.append(int(text))
                continue
        elif text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
            problems.add(source, row, spec.column, f"expected zero or more, got {text}")
        else:
            problems.add(source, row, spec.column, f"expected a whole number, got {text!r}")
    return figures if len(figures) == len(texts) else None
