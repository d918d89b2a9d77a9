"""The commission hierarchy of a native plan: each commission's depth, parents first.

Native tables name each commission's parent by code. A parent code that names no commission and
a cycle of parents (A → B → A, or A → A) are problems; what remains is a forest, ordered top
down so that the registry can insert each level after its parents.
"""

from __future__ import annotations

from dataclasses import dataclass

from pollwatch.core.structure.plan import CommissionPlan
from pollwatch.core.structure.problems import Problems


@dataclass
class CommissionRow:
    """A commission as read from its table (at `row`), before its depth is known."""

    row: int
    code: str
    name: str
    level: str
    parent_code: str | None


def order_hierarchy(
    rows: dict[str, CommissionRow], source: str, column: str | None, problems: Problems
) -> list[CommissionPlan]:
    """Commissions with their depth, parents first; problems for unknown parents and cycles.

    `rows` maps code to row; `source` and `column` (the parent code's) place the problems.
    """
    for row in rows.values():
        if row.parent_code is not None and row.parent_code not in rows:
            problems.add(
                source,
                row.row,
                column,
                f"expected the code of a commission in this table, got {row.parent_code!r}",
            )
    # No early return: a file with both unknown parents and cycles shows both in one run.
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
            if code is not None and code not in rows:
                code = None  # an unknown parent, reported above: walk as if from the top
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
