"""A table to write: its header, its row count, and its rows in chunks converted from arrays."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

# Rows converted from arrays at a time: bounds memory and paces the progress bar.
CHUNK = 50_000

Cell = str | int | float


@dataclass(frozen=True)
class Table:
    name: str
    header: tuple[str, ...]
    rows: int
    chunks: Callable[[], Iterator[Sequence[Sequence[Cell]]]]


def slices(count: int) -> Iterator[slice]:
    for start in range(0, count, CHUNK):
        yield slice(start, min(start + CHUNK, count))
