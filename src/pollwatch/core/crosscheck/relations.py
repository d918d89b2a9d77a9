"""Control relations checked on every row of a figures matrix (copies, stations, commissions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pollwatch.core.crosscheck.inputs import Figures, Int64Array
from pollwatch.core.protocol import ControlRelation


@dataclass(frozen=True)
class BrokenRelations:
    """Row i breaks relation ``relation[i]``, whose sides evaluate to ``left[i]``/``right[i]``."""

    row: Int64Array
    relation: Int64Array
    left: Int64Array
    right: Int64Array


def broken_relations(
    relations: Sequence[ControlRelation], line_keys: Sequence[str], figures: Figures
) -> BrokenRelations:
    """Every (row, relation) whose relation does not hold, by row then relation.

    A relation that reads a missing cell is not judged on that row: a blank line is a missing
    piece, not arithmetic the commission got wrong.
    """
    column = {key: index for index, key in enumerate(line_keys)}
    rows, which, lefts, rights = [], [], [], []
    for index, relation in enumerate(relations):
        columns = [column[key] for key in relation.parsed.line_keys]
        values = {key: figures.values[:, column[key]] for key in relation.parsed.line_keys}
        evaluation = relation.evaluate(values) if figures.rows else None
        if evaluation is None:
            continue
        judged = ~figures.missing[:, columns].any(axis=1)
        broken = np.flatnonzero(judged & ~evaluation.holds)
        rows.append(broken)
        which.append(np.full(broken.size, index, dtype=np.int64))
        lefts.append(evaluation.left[broken])
        rights.append(evaluation.right[broken])
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return BrokenRelations(empty, empty, empty, empty)
    row = np.concatenate(rows).astype(np.int64)
    order = np.lexsort((np.concatenate(which), row))
    return BrokenRelations(
        row=row[order],
        relation=np.concatenate(which)[order],
        left=np.concatenate(lefts)[order],
        right=np.concatenate(rights)[order],
    )
