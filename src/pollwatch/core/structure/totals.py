"""Depth and subtree totals of a stored commission tree, computed in NumPy.

The registry keeps on every commission its depth and its totals over the whole subtree (stations
and registered voters), so that a million-station election's overview pages read one row rather
than summing a subtree. After an import they are recomputed from the stored rows, here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


def subtree_totals(
    ids: Ints,
    parent_ids: Ints,
    station_commissions: Ints,
    station_counts: Ints,
    station_voters: Ints,
) -> tuple[Ints, Ints, Ints]:
    """(depth, station count, registered voters) of each commission, over its whole subtree.

    `ids` are the commissions' ids in ascending order and `parent_ids` their parents' (-1 at the
    top); the station arrays give, per commission id, the count and voters of the stations
    directly under it. The tree must have no cycle.
    """
    # Positions of the parents in `ids`; -1 at the top.
    parent = np.searchsorted(ids, parent_ids).clip(max=len(ids) - 1)
    parent[ids[parent] != parent_ids] = -1

    # Depth by pointer jumping: one vectorised step per level of the hierarchy.
    depth = np.zeros(len(ids), dtype=np.int64)
    ancestor = parent.copy()
    while (has := ancestor >= 0).any():
        depth[has] += 1
        ancestor[has] = parent[ancestor[has]]

    count = np.zeros(len(ids), dtype=np.int64)
    voters = np.zeros(len(ids), dtype=np.int64)
    where = np.searchsorted(ids, station_commissions)
    count[where] = station_counts
    voters[where] = station_voters
    # Deepest first, each level adds its subtree totals into its parents.
    for level in range(int(depth.max(initial=0)), 0, -1):
        at = np.flatnonzero(depth == level)
        np.add.at(count, parent[at], count[at])
        np.add.at(voters, parent[at], voters[at])
    return depth, count, voters
