"""Control relations checked on every row of a figures matrix (copies, stations, commissions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pollwatch.core.crosscheck.inputs import BoolArray, Figures, Int64Array
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
    # One line's figures contiguous in memory: relations read whole lines, not protocols.
    by_line = np.ascontiguousarray(figures.values.T)
    blank_lines: BoolArray = (
        np.asarray(figures.missing.any(axis=0))
        if figures.has_blanks
        else np.zeros(figures.lines, dtype=np.bool_)
    )
    rows, which, lefts, rights = [], [], [], []
    for index, relation in enumerate(relations):
        if figures.rows == 0:
            break
        keys = relation.parsed.line_keys
        evaluation = relation.evaluate({key: by_line[column[key]] for key in keys})
        broken_mask = ~evaluation.holds
        blank = [column[key] for key in keys if blank_lines[column[key]]]
        if blank:
            broken_mask &= ~figures.missing[:, blank].any(axis=1)
        broken = np.flatnonzero(broken_mask)
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
