"""Problems found in the input, collected rather than raised one at a time.

A clerk fixing a file wants every mistake at once, each naming file, row, column and what was
expected; any problem means no plan at all. The first MAX_PROBLEMS are kept, the rest counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from pollwatch.core.tabular import InputError

MAX_PROBLEMS = 50


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
