"""The consensus rule: a strict majority of the distinct organisations reporting a line."""

from __future__ import annotations

import numpy as np

from pollwatch.core.crosscheck import consensus
from tests.core.crosscheck.cases import GOOD, LINES, copies, line, with_lines

YES = line("yes")


def _yes(*reports: tuple[int, int | None]) -> tuple[bool, int, int, int]:
    """(agreed, value, support, organisations) for Yes at one station from (organisation, yes)."""
    result = consensus(copies([(0, org, with_lines(GOOD, yes=yes)) for org, yes in reports]))
    return (
        bool(result.agreed[0, YES]),
        int(result.value[0, YES]) if result.agreed[0, YES] else -1,
        int(result.support[0, YES]),
        int(result.organisations[0, YES]),
    )


def test_two_of_three_organisations_agree() -> None:
    assert _yes((1, 400), (2, 400), (3, 390)) == (True, 400, 2, 3)


def test_one_organisation_with_five_identical_copies_does_not_outvote_two_others() -> None:
    five = [(1, 500)] * 5
    assert _yes(*five, (2, 400), (3, 400)) == (True, 400, 2, 3)


def test_one_organisations_five_copies_against_two_disagreeing_others_is_no_consensus() -> None:
    five = [(1, 500)] * 5
    assert _yes(*five, (2, 400), (3, 390)) == (False, -1, 0, 3)


def test_half_is_not_a_majority() -> None:
    assert _yes((1, 400), (2, 390)) == (False, -1, 0, 2)
    assert _yes((1, 400), (2, 400), (3, 390), (4, 390)) == (False, -1, 0, 4)


def test_an_organisation_contradicting_itself_abstains_but_still_counts() -> None:
    # Organisation 1 reports 400 and 390: it supports neither, and 400 has 1 of 2.
    assert _yes((1, 400), (1, 390), (2, 400)) == (False, -1, 0, 2)
    # With a third organisation agreeing, 400 has 2 of 3.
    assert _yes((1, 400), (1, 390), (2, 400), (3, 400)) == (True, 400, 2, 3)
    # Alone, a self-contradicting organisation yields no consensus at all.
    assert _yes((1, 400), (1, 390)) == (False, -1, 0, 1)


def test_a_blank_line_is_not_a_vote() -> None:
    assert _yes((1, None), (2, 400)) == (True, 400, 1, 1)
    assert _yes((1, None), (1, 390), (2, 390)) == (True, 390, 2, 2)
    assert _yes((1, None), (2, None)) == (False, -1, 0, 0)


def test_a_single_copy_is_the_observers_figure() -> None:
    result = consensus(copies([(7, 1, GOOD)]))
    assert result.station.tolist() == [7]
    assert result.agreed.all()
    assert result.value[0].tolist() == list(GOOD)
    assert result.support[0].tolist() == [1] * len(LINES)


def test_lines_are_decided_separately_and_stations_do_not_mix() -> None:
    result = consensus(
        copies(
            [
                (3, 2, with_lines(GOOD, yes=401)),
                (0, 1, GOOD),
                (3, 1, GOOD),
                (0, 2, GOOD),
                (3, 3, GOOD),
            ]
        )
    )
    assert result.station.tolist() == [0, 3]
    assert result.agreed.all()
    assert result.value[1].tolist() == list(GOOD)
    assert result.support[1, YES] == 2
    assert result.support[1, line("no")] == 3
    assert result.disagree.tolist() == [[False] * len(LINES), [k == "yes" for k in LINES]]


def test_counts_of_copies_and_organisations() -> None:
    result = consensus(copies([(0, 1, GOOD), (0, 1, GOOD), (0, 2, with_lines(GOOD, no=None))]))
    assert result.station_copies.tolist() == [3]
    assert result.station_organisations.tolist() == [2]
    assert result.copies[0, line("no")] == 2
    assert result.organisations[0, line("no")] == 1


def test_consensus_figures_leave_unobserved_and_undecided_lines_missing() -> None:
    result = consensus(copies([(1, 1, with_lines(GOOD, yes=400)), (1, 2, GOOD)]))
    matrix = result.figures(3)
    assert matrix.missing[0].all() and matrix.missing[2].all()
    assert matrix.missing[1].tolist() == [False] * len(LINES)
    result = consensus(copies([(1, 1, with_lines(GOOD, yes=401)), (1, 2, GOOD)]))
    assert result.figures(3).missing[1].tolist() == [k == "yes" for k in LINES]


def test_values_far_apart_and_organisation_ids_of_any_size() -> None:
    huge = 2**61
    rows = [
        (0, huge, with_lines(GOOD, yes=huge)),
        (0, -huge, with_lines(GOOD, yes=huge)),
        (0, 5, with_lines(GOOD, yes=-huge)),
    ]
    result = consensus(copies(rows))
    assert bool(result.agreed[0, YES])
    assert int(result.value[0, YES]) == huge
    assert int(result.lowest[0, YES]) == -huge


def test_no_copies() -> None:
    result = consensus(copies([]))
    assert result.station.size == 0
    assert result.value.shape == (0, len(LINES))
    assert np.array_equal(result.figures(2).missing, np.ones((2, len(LINES)), dtype=np.bool_))
