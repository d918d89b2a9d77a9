"""Tabulation: totals under every commission equal the sums of the stations beneath it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.core.crosscheck import Copies, CrosscheckInputError, Figures, Hierarchy, consensus
from pollwatch.core.tabulation import observed_in_place_of_official, tabulate

KEYS = ("registered", "yes", "no")
# Centre 0 → regions 1, 2 → territorial 3 under region 2; stations under 1, 3, 3, 2.
TREE = Hierarchy(
    commission_parent=np.array([-1, 0, 0, 2], dtype=np.intp),
    station_commission=np.array([1, 3, 3, 2], dtype=np.intp),
)
STATIONS = np.array([[100, 60, 30], [200, 110, 70], [300, 150, 120], [50, 20, 25]])


def test_totals_at_every_level() -> None:
    table = tabulate(TREE, Figures.complete(STATIONS), KEYS)
    assert table.totals.tolist() == [
        [650, 340, 245],
        [100, 60, 30],
        [550, 280, 215],
        [500, 260, 190],
    ]
    assert table.counted[:, 0].tolist() == [4, 1, 3, 2]
    assert table.national.tolist() == [650, 340, 245]
    assert table.national_figure("yes", "no") == 585
    assert table.figures_of(np.array([1, 2]), "yes").tolist() == [60, 280]


def test_missing_cells_add_nothing_and_are_not_counted() -> None:
    missing = np.zeros(STATIONS.shape, dtype=np.bool_)
    missing[1, 1] = True
    table = tabulate(TREE, Figures(STATIONS.copy(), missing), KEYS)
    assert table.totals[3].tolist() == [500, 150, 190]
    assert table.counted[3].tolist() == [2, 1, 2]
    assert table.national_counted.tolist() == [4, 3, 4]


def test_observers_figures_replace_official_ones_where_they_agree_on_one() -> None:
    official = Figures(STATIONS.copy(), np.eye(4, 3, k=2, dtype=np.bool_))
    observed_values = STATIONS + 1
    observed_missing = np.ones(STATIONS.shape, dtype=np.bool_)
    observed_missing[0, 1] = observed_missing[0, 2] = False  # station 0: yes and no observed
    replaced = observed_in_place_of_official(official, Figures(observed_values, observed_missing))
    assert replaced.values[0].tolist() == [100, 61, 31]
    assert (replaced.values[1:] == STATIONS[1:]).all()
    # Station 0's "no" was missing officially but is observed; nothing else changes.
    assert replaced.missing.tolist() == [[False] * 3] * 4
    with pytest.raises(CrosscheckInputError, match="expected the official"):
        observed_in_place_of_official(official, Figures.complete(STATIONS[:2]))


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(CrosscheckInputError, match=r"expected \(4, 3\)"):
        tabulate(TREE, Figures.complete(STATIONS[:, :2]), KEYS)


@st.composite
def _elections(draw: st.DrawFn) -> tuple[Hierarchy, Figures]:
    commissions = draw(st.integers(1, 6))
    parents = [-1] + [draw(st.integers(-1, c - 1)) for c in range(1, commissions)]
    stations = draw(st.integers(0, 12))
    under = draw(st.lists(st.integers(0, commissions - 1), min_size=stations, max_size=stations))
    cells = st.lists(st.integers(0, 10**9), min_size=len(KEYS), max_size=len(KEYS))
    values = draw(st.lists(cells, min_size=stations, max_size=stations))
    blank = draw(
        st.lists(
            st.lists(st.booleans(), min_size=len(KEYS), max_size=len(KEYS)),
            min_size=stations,
            max_size=stations,
        )
    )
    hierarchy = Hierarchy(np.array(parents, dtype=np.intp), np.array(under, dtype=np.intp))
    matrix = np.array(values, dtype=np.int64).reshape(stations, len(KEYS))
    return hierarchy, Figures(matrix, np.array(blank, dtype=np.bool_).reshape(matrix.shape))


@settings(max_examples=150, deadline=None)
@given(_elections())
def test_every_total_is_the_sum_of_the_stations_beneath(
    election: tuple[Hierarchy, Figures],
) -> None:
    hierarchy, figures = election
    table = tabulate(hierarchy, figures, KEYS)
    for commission in range(hierarchy.commissions):
        # The reference climbs from each station to the top, one station at a time.
        beneath = [s for s in range(hierarchy.stations) if commission in _ancestors(hierarchy, s)]
        for line in range(len(KEYS)):
            cells = [int(figures.values[s, line]) for s in beneath if not figures.missing[s, line]]
            assert table.totals[commission, line] == sum(cells)
            assert table.counted[commission, line] == len(cells)


def _ancestors(hierarchy: Hierarchy, station: int) -> list[int]:
    chain = [int(hierarchy.station_commission[station])]
    while (parent := int(hierarchy.commission_parent[chain[-1]])) >= 0:
        chain.append(parent)
    return chain


def test_observers_figures_tabulate_on_their_own_with_their_coverage() -> None:
    station_copies = Copies(
        station=np.array([0, 0, 2, 2, 2], dtype=np.intp),
        organisation=np.array([1, 2, 1, 2, 3], dtype=np.int64),
        figures=Figures.complete(
            [[100, 60, 30], [100, 60, 30], [300, 150, 120], [300, 151, 120], [300, 152, 120]]
        ),
    )
    observed = consensus(station_copies).figures(4)
    table = tabulate(TREE, observed, KEYS)
    # Station 2's Yes has no majority (three organisations, three values): not counted.
    assert table.national.tolist() == [400, 60, 150]
    assert table.national_counted.tolist() == [2, 1, 2]
    assert table.counted[3].tolist() == [1, 0, 1]
