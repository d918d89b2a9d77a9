"""Regions of a commission tree: under a single central commission, or the tops themselves."""

from __future__ import annotations

import numpy as np

from pollwatch.core.crosscheck import Hierarchy


def _tree(parents: list[int], station_commissions: list[int]) -> Hierarchy:
    return Hierarchy(np.array(parents, dtype=np.intp), np.array(station_commissions, dtype=np.intp))


def test_regions_are_the_children_of_a_single_central_commission() -> None:
    # 0 central; 1, 2 regions; 3 under 1; 4 under 3; a station straight under the centre.
    tree = _tree([-1, 0, 0, 1, 3], [4, 3, 2, 1, 0])
    assert tree.region_depth() == 1
    assert tree.station_region().tolist() == [1, 1, 2, 1, 0]


def test_without_a_central_commission_the_tops_are_the_regions() -> None:
    tree = _tree([-1, -1, 0, 1], [2, 3, 0])
    assert tree.region_depth() == 0
    assert tree.station_region().tolist() == [0, 1, 0]


def test_a_single_commission_is_its_own_region() -> None:
    assert _tree([-1], [0, 0]).station_region().tolist() == [0, 0]
