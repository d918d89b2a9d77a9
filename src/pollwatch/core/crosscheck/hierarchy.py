"""The commission hierarchy as arrays, and sums that climb it level by level.

``commission_parent[c]`` is commission c's parent (-1 for the top: the central commission, or
several tops if the caller has no single root); ``station_commission[s]`` is the commission
directly above station s (its territorial commission: the precinct commission and its station
are one place). Loops run over levels of the hierarchy (four or five), never over stations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from pollwatch.core.crosscheck.inputs import (
    BoolArray,
    CrosscheckInputError,
    IndexArray,
    Int64Array,
    check_indexes,
)


@dataclass(frozen=True)
class Hierarchy:
    """Commissions and stations, with optional stable ids for fingerprints (default: index)."""

    commission_parent: IndexArray
    station_commission: IndexArray
    station_ids: Int64Array | None = None
    commission_ids: Int64Array | None = None

    def __post_init__(self) -> None:
        for what, array in (
            ("commission parents", self.commission_parent),
            ("station commissions", self.station_commission),
        ):
            if array.ndim != 1 or array.dtype.kind not in "iu":
                raise CrosscheckInputError(f"{what}: expected a one-dimensional integer array")
        parents = self.commission_parent[self.commission_parent >= 0]
        check_indexes("commission parents", parents, self.commissions)
        check_indexes("station commissions", self.station_commission, self.commissions)
        for what, ids, size in (
            ("station ids", self.station_ids, self.stations),
            ("commission ids", self.commission_ids, self.commissions),
        ):
            if ids is not None and (ids.ndim != 1 or ids.size != size):
                raise CrosscheckInputError(f"{what}: expected {size}, one per place")
        self.depth  # noqa: B018 — computing it rejects cycles now rather than later

    @classmethod
    def flat(cls, stations: int) -> Hierarchy:
        """One commission above every station: for checks that need no hierarchy."""
        return cls(np.full(1, -1, dtype=np.intp), np.zeros(stations, dtype=np.intp))

    @property
    def stations(self) -> int:
        return int(self.station_commission.size)

    @property
    def commissions(self) -> int:
        return int(self.commission_parent.size)

    @cached_property
    def depth(self) -> IndexArray:
        """Each commission's distance from the top (the tops are at depth 0)."""
        depth = np.zeros(self.commissions, dtype=np.intp)
        ancestor = self.commission_parent.astype(np.intp)
        for _ in range(self.commissions + 1):
            climbing = ancestor >= 0
            if not climbing.any():
                return depth
            depth += climbing
            ancestor = np.where(climbing, self.commission_parent[np.maximum(ancestor, 0)], -1)
        raise CrosscheckInputError("commission parents form a cycle; expected a tree")

    def level(self, depth: int) -> IndexArray:
        """The commissions at ``depth`` (0: the top; 1: regions under a central commission)."""
        return np.flatnonzero(self.depth == depth)

    def region_depth(self) -> int:
        """The depth of regions: 1 under a single central commission, else 0 (the tops)."""
        single_top = np.count_nonzero(self.commission_parent < 0) == 1
        return 1 if single_top and self.depth.max(initial=0) > 0 else 0

    def station_region(self) -> IndexArray:
        """Each station's region: its commission's ancestor at ``region_depth()``."""
        target = self.region_depth()
        ancestor = self.station_commission.astype(np.intp)
        for _ in range(int(self.depth.max(initial=0))):
            deeper = self.depth[ancestor] > target
            if not deeper.any():
                break
            ancestor = np.where(deeper, self.commission_parent[ancestor], ancestor)
        return ancestor

    def stations_of(self, commission: int) -> IndexArray:
        """Every station under ``commission``, at any depth below it."""
        ancestor = self.station_commission.astype(np.intp)
        under = np.zeros(self.stations, dtype=np.bool_)
        while True:
            under |= ancestor == commission
            climbing = ancestor >= 0
            if not climbing.any():
                return np.flatnonzero(under)
            ancestor = np.where(climbing, self.commission_parent[np.maximum(ancestor, 0)], -1)

    def station_id(self) -> Int64Array:
        if self.station_ids is None:
            return np.arange(self.stations, dtype=np.int64)
        return self.station_ids

    def commission_id(self) -> Int64Array:
        if self.commission_ids is None:
            return np.arange(self.commissions, dtype=np.int64)
        return self.commission_ids


def sum_by(index: IndexArray, values: Int64Array, size: int) -> Int64Array:
    """Rows of ``values`` added up by ``index`` into ``size`` rows, exactly (int64)."""
    totals = np.zeros((size, *values.shape[1:]), dtype=np.int64)
    np.add.at(totals, index, values)
    return totals


def roll_up(
    hierarchy: Hierarchy, station_values: Int64Array, station_counted: BoolArray
) -> tuple[Int64Array, Int64Array]:
    """Totals and counts of counted station figures under every commission, at every depth.

    ``station_values`` is stations × lines and ``station_counted`` says which cells to add.
    Returns (totals, counted) for each commission × line: the sum of counted cells under it and
    how many stations contributed. Each level adds its finished totals to its parents.
    """
    counted = station_counted.astype(np.int64)
    totals = sum_by(
        hierarchy.station_commission,
        np.where(station_counted, station_values, 0),
        hierarchy.commissions,
    )
    counts = sum_by(hierarchy.station_commission, counted, hierarchy.commissions)
    add_children_upwards(hierarchy, totals, counts)
    return totals, counts


def add_children_upwards(hierarchy: Hierarchy, *per_commission: npt.NDArray[np.int64]) -> None:
    """In place: add every commission's rows into its parent's, deepest level first."""
    depth = hierarchy.depth
    parent = hierarchy.commission_parent
    for level in range(int(depth.max(initial=0)), 0, -1):
        members = np.flatnonzero(depth == level)
        for array in per_commission:
            np.add.at(array, parent[members], array[members])
