"""Reading integer columns from the database straight into NumPy arrays, a million rows a second.

PostgreSQL sends the rows as binary COPY. Every column is made fixed-width — a bigint with
NULL replaced by ``MISSING``, or a UUID — so each row has the same length and a whole block
of rows is one ``np.frombuffer`` over a structured dtype: no Python object per row or cell.
SQLite has no COPY; there the rows are fetched as tuples and turned into arrays column by
column (SQLite serves small elections and tests), as they are on PostgreSQL when only a few
rows are expected.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from django.db import connection

# An integer no figure or id can take: marks a NULL (a line missing from a figures object).
MISSING = -(2**63)

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_BLOCK = 1 << 24  # parse the stream in blocks of about 16 MB


class ColumnReadError(RuntimeError):
    """The database sent something other than the fixed-width rows asked for."""


@dataclass(frozen=True)
class Column:
    """A column to read: its name in the result, its SQL expression, and its kind.

    ``int`` columns come back as int64 with NULL as ``MISSING``; ``uuid`` columns as 16 raw
    bytes per row (numpy ``V16``), which is how PostgreSQL and ``uuid.UUID.bytes`` spell them.
    """

    name: str
    sql: str
    kind: Literal["int", "uuid"] = "int"


def read_columns(
    columns: Sequence[Column], from_where: str, params: Sequence[Any], *, few: bool = False
) -> dict[str, npt.NDArray[Any]]:
    """``SELECT <columns> <from_where>`` as one array per column, in the database's row order.

    ``from_where`` is the query after the column list (``FROM … WHERE …``) with ``%s``
    placeholders for ``params``. ``few``: a handful of rows (one station's) is expected, for
    which a plain SELECT costs less than setting up a COPY (a third of a millisecond each).
    """
    if connection.vendor == "postgresql" and not few:
        return _read_copy(columns, from_where, params)
    return _read_rows(columns, from_where, params)


def _select(columns: Sequence[Column], from_where: str) -> str:
    return _select_text(tuple(columns), from_where)


# A recheck reads the same few queries over and over: build each text once.
@functools.lru_cache(maxsize=256)
def _select_text(columns: tuple[Column, ...], from_where: str) -> str:
    expressions = [
        column.sql
        if column.kind == "uuid"
        else f"COALESCE(CAST({column.sql} AS bigint), {MISSING})"
        for column in columns
    ]
    return f"SELECT {', '.join(expressions)} {from_where}"


def _read_copy(
    columns: Sequence[Column], from_where: str, params: Sequence[Any]
) -> dict[str, npt.NDArray[Any]]:
    fields: list[tuple[str, str]] = [("_count", ">i2")]
    for i, column in enumerate(columns):
        fields.append((f"_length{i}", ">i4"))
        fields.append((column.name, "V16" if column.kind == "uuid" else ">i8"))
    row = np.dtype(fields)
    parts: list[dict[str, npt.NDArray[Any]]] = []
    with connection.cursor() as cursor:
        query = f"COPY ({_select(columns, from_where)}) TO STDOUT (FORMAT BINARY)"
        with cursor.cursor.copy(query, list(params)) as copy:
            pending = bytearray()
            header_done = False
            for block in copy:
                pending += block
                if not header_done:
                    if len(pending) < 19:
                        continue
                    pending = _strip_header(pending)
                    header_done = True
                if len(pending) >= _BLOCK:
                    pending = _parse_rows(pending, row, columns, parts)
            if not header_done:
                raise ColumnReadError("COPY ended before its header")
            pending = _parse_rows(pending, row, columns, parts)
    if bytes(pending) != b"\xff\xff":
        raise ColumnReadError(f"COPY ended with {len(pending)} unparsed bytes")
    return _joined(columns, parts, row)


def _strip_header(data: bytearray) -> bytearray:
    if bytes(data[:11]) != _SIGNATURE:
        raise ColumnReadError("COPY did not start with the binary signature")
    extension = int.from_bytes(data[15:19], "big")
    return data[19 + extension :]


def _parse_rows(
    data: bytearray,
    row: np.dtype[Any],
    columns: Sequence[Column],
    parts: list[dict[str, npt.NDArray[Any]]],
) -> bytearray:
    """Parse the whole rows at the start of ``data`` into ``parts``; return the rest."""
    count = len(data) // row.itemsize  # the two-byte trailer is shorter than any row
    rows = np.frombuffer(bytes(data[: count * row.itemsize]), dtype=row)
    if rows.size and (rows["_count"] != len(columns)).any():
        raise ColumnReadError("COPY rows do not have the expected number of columns")
    for i, column in enumerate(columns):
        width = 16 if column.kind == "uuid" else 8
        if rows.size and (rows[f"_length{i}"] != width).any():
            raise ColumnReadError(f"column {column.name}: a value is not {width} bytes wide")
    parts.append(
        {
            column.name: rows[column.name].astype(np.int64)
            if column.kind == "int"
            else rows[column.name].copy()
            for column in columns
        }
    )
    return data[count * row.itemsize :]


def _joined(
    columns: Sequence[Column], parts: list[dict[str, npt.NDArray[Any]]], row: np.dtype[Any]
) -> dict[str, npt.NDArray[Any]]:
    result: dict[str, npt.NDArray[Any]] = {}
    for column in columns:
        pieces = [part[column.name] for part in parts]
        result[column.name] = (
            np.concatenate(pieces) if pieces else np.zeros(0, dtype=row[column.name]).copy()
        )
        if column.kind == "int":
            result[column.name] = result[column.name].astype(np.int64, copy=False)
    return result


def _read_rows(
    columns: Sequence[Column], from_where: str, params: Sequence[Any]
) -> dict[str, npt.NDArray[Any]]:
    with connection.cursor() as cursor:
        cursor.execute(_select(columns, from_where), list(params))
        rows = cursor.fetchall()
    values: Iterable[tuple[Any, ...]] = zip(*rows, strict=True) if rows else [()] * len(columns)
    result: dict[str, npt.NDArray[Any]] = {}
    for column, cells in zip(columns, values, strict=True):
        if column.kind == "uuid":
            result[column.name] = np.array([_uuid_bytes(cell) for cell in cells], dtype="V16")
        else:
            result[column.name] = np.array(cells, dtype=np.int64)
    return result


def _uuid_bytes(cell: object) -> bytes:
    """PostgreSQL's driver gives a UUID; SQLite stores a UUIDField as 32 hex digits."""
    if isinstance(cell, uuid.UUID):
        return cell.bytes
    return bytes.fromhex(str(cell).replace("-", ""))


def figure_columns(line_keys: Sequence[str], alias: str = "") -> list[Column]:
    """One int column per line: the value under that key in the JSON ``figures`` column."""
    return list(_figure_columns(tuple(line_keys), alias, connection.vendor))


@functools.lru_cache(maxsize=64)
def _figure_columns(line_keys: tuple[str, ...], alias: str, vendor: str) -> tuple[Column, ...]:
    prefix = f"{alias}." if alias else ""
    return tuple(
        Column(f"line:{key}", _json_value(f"{prefix}figures", key, vendor)) for key in line_keys
    )


def figures_matrix(
    read: Mapping[str, npt.NDArray[Any]], line_keys: Sequence[str]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The figure columns as a rows × lines matrix and its missing mask."""
    rows = next(iter(read.values())).size if read else 0
    values = np.empty((rows, len(line_keys)), dtype=np.int64)
    for i, key in enumerate(line_keys):
        values[:, i] = read[f"line:{key}"]
    missing = values == MISSING
    if missing.any():
        values[missing] = 0
    return values, missing


def _json_value(column: str, key: str, vendor: str) -> str:
    # Line keys are validated identifiers (see core.protocol); quoting them keeps it so.
    if not key.replace("_", "").replace("-", "").isalnum() or not key.isascii():
        raise ValueError(f"line key {key!r} cannot be read from JSON by name")
    if vendor == "postgresql":
        return f"({column} ->> '{key}')"
    return f"json_extract({column}, '$.\"{key}\"')"
