"""Progress of a long stream of rows, told to a callback in steps rather than row by row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

# Called with how many more rows have passed since the last call.
OnRows = Callable[[int], object]
PROGRESS_EVERY = 10_000

T = TypeVar("T")


class Counted(Generic[T]):
    """`rows` unchanged, counted as they pass (`count`).

    `on_rows`, if given, is told of every PROGRESS_EVERY rows and, at the end, of the rest.
    """

    def __init__(self, rows: Iterable[T], on_rows: OnRows | None = None) -> None:
        self.count = 0
        self._rows = rows
        self._on_rows = on_rows

    def __iter__(self) -> Iterator[T]:
        on_rows = self._on_rows
        for row in self._rows:
            self.count += 1
            if on_rows is not None and self.count % PROGRESS_EVERY == 0:
                on_rows(PROGRESS_EVERY)
            yield row
        if on_rows is not None:
            on_rows(self.count % PROGRESS_EVERY)
