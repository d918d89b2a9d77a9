"""Every finding kind on hand-built stations: exactly what is wrong is found, with its values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from pollwatch.core.crosscheck import (
    CrossCheck,
    CrosscheckInputError,
    FindingKind,
    Hierarchy,
    OfficialResults,
    crosscheck,
)
from pollwatch.core.crosscheck.inputs import BoolArray
from tests.core.crosscheck.cases import (
    GOOD,
    LINES,
    TINY,
    Row,
    copies,
    figures,
    line,
    of_kind,
    official,
    tree,
    with_lines,
)

Kind = FindingKind
# A central commission (0) over two territorials (1, 2); stations 0, 1 under 1 and 2, 3 under 2.
TWO_TERRITORIALS = tree([-1, 0, 0], [1, 1, 2, 2])


def _check(
    rows: Sequence[tuple[int, int, Row]],
    published: Mapping[int, Row],
    totals: Mapping[int, Row] | None = None,
    copy_expected: BoolArray | None = None,
) -> CrossCheck:
    return crosscheck(
        TINY,
        TWO_TERRITORIALS,
        copies(rows),
        official(published),
        official(totals) if totals is not None else None,
        copy_expected,
    )


def _all_good() -> dict[int, Row]:
    return {station: list(GOOD) for station in range(4)}


def test_agreeing_copies_and_consistent_official_figures_give_no_finding() -> None:
    rows = [(s, org, GOOD) for s in range(4) for org in (1, 2)]
    totals = {1: [2 * v for v in GOOD], 2: [2 * v for v in GOOD], 0: [4 * v for v in GOOD]}
    assert len(_check(rows, _all_good(), totals).findings) == 0


def test_broken_relation_on_a_copy_names_the_copy_and_both_sides() -> None:
    bad = with_lines(GOOD, yes=401)  # in_boxes 598 vs 8 + 401 + 190 = 599
    result = _check([(0, 1, GOOD), (2, 1, bad)], _all_good())
    assert of_kind(result, Kind.RELATION_BROKEN_ON_COPY) == [
        {
            "kind": Kind.RELATION_BROKEN_ON_COPY,
            "station": 2,
            "commission": -1,
            "copy": 1,
            "relation": 0,
            "line": -1,
            "left": 598,
            "right": 599,
            "delta": -1,
            "copies": 1,
            "organisations": 1,
        }
    ]


def test_a_relation_reading_a_blank_line_is_not_judged() -> None:
    result = _check([(0, 1, with_lines(GOOD, yes=None, issued=None))], _all_good())
    assert of_kind(result, Kind.RELATION_BROKEN_ON_COPY) == []


def test_one_copy_breaking_two_relations_gives_two_findings() -> None:
    bad = with_lines(GOOD, issued=1001, in_boxes=1002, yes=804)
    found = of_kind(_check([(3, 1, bad)], _all_good()), Kind.RELATION_BROKEN_ON_COPY)
    assert [(f["relation"], f["left"], f["right"]) for f in found] == [
        (1, 1001, 1000),
        (2, 1002, 1001),
    ]


def test_broken_relation_on_official_station_and_commission_figures() -> None:
    published = _all_good()
    published[1] = with_lines(GOOD, in_boxes=600)
    totals = {2: with_lines(GOOD, issued=1100)}
    found = of_kind(_check([], published, totals), Kind.RELATION_BROKEN_ON_OFFICIAL)
    assert [(f["station"], f["commission"], f["relation"], f["delta"]) for f in found] == [
        (1, -1, 0, 2),
        (-1, 2, 1, 100),
    ]


def test_copies_disagree_gives_the_spread_per_line() -> None:
    rows = [
        (1, 1, GOOD),
        (1, 2, with_lines(GOOD, yes=410, no=180)),
        (1, 3, with_lines(GOOD, yes=395, no=180)),
    ]
    found = of_kind(_check(rows, _all_good()), Kind.COPIES_DISAGREE)
    assert [(f["station"], LINES[f["line"]], f["left"], f["right"], f["delta"]) for f in found] == [
        (1, "yes", 410, 395, 15),
        (1, "no", 190, 180, 10),
    ]
    assert {(f["copies"], f["organisations"]) for f in found} == {(3, 3)}


def test_copies_of_one_organisation_that_disagree_are_found_too() -> None:
    rows = [(0, 1, GOOD), (0, 1, with_lines(GOOD, invalid=9, no=189))]
    found = of_kind(_check(rows, _all_good()), Kind.COPIES_DISAGREE)
    assert [(LINES[f["line"]], f["copies"], f["organisations"]) for f in found] == [
        ("invalid", 2, 1),
        ("no", 2, 1),
    ]


def test_each_copy_against_official_line_by_line() -> None:
    published = _all_good()
    published[3] = with_lines(GOOD, yes=500, no=90)
    rows = [(3, 1, GOOD), (3, 2, GOOD), (3, 3, with_lines(GOOD, no=None)), (0, 1, GOOD)]
    found = of_kind(_check(rows, published), Kind.COPY_DIFFERS_FROM_OFFICIAL)
    assert [(f["copy"], LINES[f["line"]], f["left"], f["right"], f["delta"]) for f in found] == [
        (0, "yes", 400, 500, -100),
        (0, "no", 190, 90, 100),
        (1, "yes", 400, 500, -100),
        (1, "no", 190, 90, 100),
        (2, "yes", 400, 500, -100),
    ]
    assert {f["station"] for f in found} == {3}


def test_consensus_against_official_once_per_station_and_line() -> None:
    published = _all_good()
    published[2] = with_lines(GOOD, yes=500, no=90, invalid=None)
    rows = [
        (2, 1, with_lines(GOOD, invalid=7, yes=390, no=194)),
        (2, 2, GOOD),
        (2, 3, GOOD),
        (2, 4, with_lines(GOOD, yes=390)),
    ]
    found = of_kind(_check(rows, published), Kind.CONSENSUS_DIFFERS_FROM_OFFICIAL)
    # Yes: 400 and 390 from two organisations each, no majority; invalid is blank officially.
    assert [
        (f["station"], LINES[f["line"]], f["left"], f["right"], f["organisations"]) for f in found
    ] == [(2, "no", 190, 90, 3)]


def test_commission_total_against_its_stations_and_its_child_commissions() -> None:
    totals = {
        1: [2 * v for v in GOOD],
        2: with_lines([2 * v for v in GOOD], yes=801),  # one vote too many
        0: with_lines([4 * v for v in GOOD], registered=3999),
    }
    found = of_kind(_check([], _all_good(), totals), Kind.TOTAL_DIFFERS_FROM_CHILDREN)
    assert [
        (f["commission"], LINES[f["line"]], f["left"], f["right"], f["delta"]) for f in found
    ] == [
        # The centre is compared with what territorial 2 published (801), not with its stations.
        (0, "registered", 3999, 4000, -1),
        (0, "yes", 1600, 1601, -1),
        (2, "yes", 801, 800, 1),
    ]


def test_a_commission_without_its_own_total_passes_its_childrens_sum_upwards() -> None:
    totals = {0: with_lines([4 * v for v in GOOD], no=761)}
    found = of_kind(_check([], _all_good(), totals), Kind.TOTAL_DIFFERS_FROM_CHILDREN)
    assert [(f["commission"], LINES[f["line"]], f["left"], f["right"]) for f in found] == [
        (0, "no", 761, 760)
    ]


def test_a_total_is_not_compared_while_a_child_figure_is_unknown() -> None:
    published = _all_good()
    del published[3]
    published[0] = with_lines(GOOD, yes=None)
    totals = {1: [9] * len(LINES), 2: [9] * len(LINES), 0: [9] * len(LINES)}
    found = of_kind(_check([], published, totals), Kind.TOTAL_DIFFERS_FROM_CHILDREN)
    # Territorial 2 misses station 3 entirely; territorial 1 misses Yes at station 0; the
    # centre's children (1 and 2) both published every line, so it is compared throughout.
    assert sorted({(f["commission"], LINES[f["line"]]) for f in found}) == sorted(
        [(1, k) for k in LINES if k != "yes"] + [(0, k) for k in LINES]
    )


def test_missing_official_result_and_missing_copy() -> None:
    published = _all_good()
    del published[1]
    rows = [(1, 1, GOOD), (1, 1, GOOD), (1, 2, GOOD), (0, 1, GOOD)]
    result = _check(rows, published)
    assert [
        (f["station"], f["copies"], f["organisations"])
        for f in of_kind(result, Kind.MISSING_OFFICIAL_RESULT)
    ] == [(1, 3, 2)]
    # By default a copy is expected wherever an official result is published.
    assert [f["station"] for f in of_kind(result, Kind.MISSING_COPY)] == [2, 3]


def test_missing_copy_where_the_caller_expects_one() -> None:
    expected = np.array([True, True, False, False])
    result = _check([(0, 1, GOOD)], {}, copy_expected=expected)
    assert [f["station"] for f in of_kind(result, Kind.MISSING_COPY)] == [1]


def test_findings_come_grouped_by_kind() -> None:
    published = _all_good()
    published[0] = with_lines(GOOD, yes=401)
    del published[3]
    rows = [(0, 1, GOOD), (0, 2, with_lines(GOOD, yes=401)), (3, 1, GOOD)]
    kinds = _check(rows, published).findings.kind.tolist()
    assert kinds == sorted(kinds)
    assert set(kinds) == {
        Kind.RELATION_BROKEN_ON_COPY,
        Kind.RELATION_BROKEN_ON_OFFICIAL,
        Kind.COPIES_DISAGREE,
        Kind.COPY_DIFFERS_FROM_OFFICIAL,
        Kind.MISSING_OFFICIAL_RESULT,
        Kind.MISSING_COPY,
    }


def test_one_station_alone_gives_the_same_findings_as_in_the_whole_election() -> None:
    published = _all_good()
    published[2] = with_lines(GOOD, yes=401, invalid=None)
    rows = [(s, org, with_lines(GOOD, yes=400 + org)) for s in range(4) for org in (0, 1, 2)]
    whole = _check(rows, published).findings
    at_two = [i for i, (s, _, _) in enumerate(rows) if s == 2]
    # What a service does when one station's copy arrives: that station alone, stable ids.
    alone = crosscheck(
        TINY,
        Hierarchy(
            np.array([-1], dtype=np.intp),
            np.array([0], dtype=np.intp),
            station_ids=np.array([2], dtype=np.int64),
        ),
        copies([(0, org, row) for _, org, row in (rows[i] for i in at_two)], ids=at_two),
        official({0: published[2]}),
    ).findings
    station_two = whole.take(np.flatnonzero(whole.station == 2))
    # Copies with Yes 401 and 402 break a relation; Yes disagrees; two copies differ from
    # the official 401. The official figures' relation reads the blank invalid: not judged.
    assert sorted(alone.kind.tolist()) == sorted(
        [Kind.RELATION_BROKEN_ON_COPY] * 2
        + [Kind.COPIES_DISAGREE]
        + [Kind.COPY_DIFFERS_FROM_OFFICIAL] * 2
    )
    assert alone.fingerprint.tolist() == station_two.fingerprint.tolist()
    assert alone.delta.tolist() == station_two.delta.tolist()


def test_wrong_inputs_are_refused_with_what_was_expected() -> None:
    with pytest.raises(CrosscheckInputError, match="expected 6, one per line"):
        crosscheck(TINY, TWO_TERRITORIALS, copies([]), OfficialResults.none(5))
    with pytest.raises(CrosscheckInputError, match=r"appear more than once"):
        crosscheck(
            TINY,
            TWO_TERRITORIALS,
            copies([]),
            OfficialResults(np.array([1, 1], dtype=np.intp), figures([GOOD, GOOD])),
        )
    with pytest.raises(CrosscheckInputError, match=r"copy stations: indexes \[4\] out of range"):
        crosscheck(TINY, TWO_TERRITORIALS, copies([(4, 1, GOOD)]), official({}))
    with pytest.raises(CrosscheckInputError, match="cycle"):
        tree([1, 0], [0])
    assert line("yes") == 4


def test_fingerprints_name_kind_place_and_lines_by_stable_ids() -> None:
    hierarchy = Hierarchy(
        commission_parent=np.array([-1, 0], dtype=np.intp),
        station_commission=np.array([1, 1], dtype=np.intp),
        station_ids=np.array([5001, 5002], dtype=np.int64),
        commission_ids=np.array([70, 71], dtype=np.int64),
    )
    published = {0: with_lines(GOOD, yes=401), 1: GOOD}
    totals = {1: [2 * v for v in GOOD]}
    result = crosscheck(
        TINY,
        hierarchy,
        copies([(0, 1, GOOD), (1, 1, with_lines(GOOD, no=None))], ids=[900, 901]),
        official(published),
        official(totals),
    )
    assert result.findings.fingerprint.tolist() == [
        "relation-broken-on-official|station:5001|relation:in_boxes == invalid + sum(options)",
        "copy-differs-from-official|station:5001/copy:900|line:yes",
        "consensus-differs-from-official|station:5001|line:yes",
        "total-differs-from-children|commission:71|line:yes",
    ]
    # The values are not part of it: another wrong figure on the same line is the same finding.
    published[0] = with_lines(GOOD, yes=402)
    again = crosscheck(
        TINY,
        hierarchy,
        copies([(0, 1, GOOD), (1, 1, with_lines(GOOD, no=None))], ids=[900, 901]),
        official(published),
        official(totals),
    )
    assert again.findings.fingerprint.tolist() == result.findings.fingerprint.tolist()
