"""Splitting integer totals in proportion to weights, exactly and without Python loops."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def apportion(
    totals: NDArray[np.int64], group: NDArray[np.intp], weights: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Split `totals[g]` among the items of group `g`, at least one each, the rest by weight.

    `group` gives each item's group and must be sorted (a group's items are contiguous); every
    group must have at least one item and a total no smaller than its item count. Rounding the
    cumulative shares, not each share, makes every group's parts add up to its total exactly,
    and an item of weight zero gets exactly one.
    """
    counts = np.bincount(group, minlength=len(totals))
    if np.any(counts == 0):
        raise ValueError("every group needs at least one item")
    spare = totals - counts
    if np.any(spare < 0):
        raise ValueError("a group's total is smaller than its number of items")
    starts = np.cumsum(counts) - counts
    cumulative = np.cumsum(weights)
    before_group = np.concatenate(([0.0], cumulative))[starts]
    in_group = cumulative - before_group[group]
    group_weight = in_group[starts + counts - 1]
    # A group whose weights are all zero gives its spare to its last item.
    share = np.divide(
        in_group,
        group_weight[group],
        out=np.zeros_like(in_group),
        where=group_weight[group] > 0,
    )
    boundary = np.floor(spare[group] * share + 0.5).astype(np.int64)
    boundary[starts + counts - 1] = spare
    previous = np.empty_like(boundary)
    previous[1:] = boundary[:-1]
    previous[starts] = 0
    return 1 + boundary - previous
