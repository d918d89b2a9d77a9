"""Control relations checked on every row of a figures matrix (copies, stations, commissions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollwatch.core.crosscheck.inputs import Figures, Int64Array
from pollwatch.core.expressions import CompiledRelations


@dataclass(frozen=True)
class BrokenRelations:
    """Row i breaks relation ``relation[i]``, whose sides evaluate to ``left[i]``/``right[i]``."""

    row: Int64Array
    relation: Int64Array
    left: Int64Array
    right: Int64Array


def broken_relations(relations: CompiledRelations, figures: Figures) -> BrokenRelations:
    """Every (row, relation) whose relation does not hold, by row then relation.

    ``relations`` are compiled over the figures' columns (``ProtocolTemplateSpec.
    compiled_relations``). A relation that reads a missing cell is not judged on that row: a
    blank line is a missing piece, not arithmetic the commission got wrong.
    """
    if figures.rows == 0:
        return _NOTHING_BROKEN
    evaluation = relations.evaluate(figures.values)
    broken = ~evaluation.holds
    if figures.has_blanks:
        # Few rows have a blank: find which relations read one on those rows alone.
        blank_rows = np.flatnonzero(figures.missing.any(axis=1))
        broken[blank_rows] &= ~np.matmul(figures.missing[blank_rows], relations.reads)
    # Row-major: by row, then relation.
    row, relation = np.nonzero(broken)
    return BrokenRelations(
        row=row.astype(np.int64),
        relation=relation.astype(np.int64),
        left=evaluation.left[row, relation],
        right=evaluation.right[row, relation],
    )


_NO_ROWS = np.zeros(0, dtype=np.int64)
_NO_ROWS.flags.writeable = False
_NOTHING_BROKEN = BrokenRelations(_NO_ROWS, _NO_ROWS, _NO_ROWS, _NO_ROWS)
