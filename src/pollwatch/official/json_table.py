"""A JSON publication as a table: an array of objects (or {"rows": [...]}), one per place.

The header is the union of the objects' keys in order of first appearance; the first object is
row 2, as if the header were row 1 of a CSV, so that messages point at the n-th object the
same way. Numbers become their decimal text (a fraction stays one, and is refused later as a
figure); null becomes an empty cell.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pollwatch.core.tabular import InputError, Table


def is_json(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def open_json_table(path: Path) -> Table:
    source = str(path)
    try:
        data = json.loads(Path(path).read_bytes())
    except OSError as error:
        raise InputError(f"{source}: cannot read the file ({error.strerror or error})") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{source}: not valid JSON ({error})") from error
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list):
        raise InputError(f"{source}: expected an array of objects, one per place")
    header: dict[str, None] = {}
    for number, item in enumerate(data, start=2):
        if not isinstance(item, dict):
            raise InputError(f"{source}, row {number}: expected an object, got {_kind(item)}")
        header.update(dict.fromkeys(item))
    names = list(header)
    return Table(source=source, header=names, rows=_rows(data, names, source))


def _rows(
    data: list[dict[str, Any]], names: list[str], source: str
) -> Iterator[tuple[int, list[str]]]:
    for number, item in enumerate(data, start=2):
        yield number, [_cell(item.get(name), source, number, name) for name in names]


def _cell(value: object, source: str, row: int, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise InputError(f"{source}, row {row}, column {column!r}: expected a number, got {value}")
    if isinstance(value, int | float | str):
        return str(value)
    raise InputError(
        f"{source}, row {row}, column {column!r}: expected a value, got {_kind(value)}"
    )


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    return "an array" if isinstance(value, list) else type(value).__name__
