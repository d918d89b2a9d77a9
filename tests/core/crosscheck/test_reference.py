"""The vectorised cross-check equals a plain per-station reference on random elections."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pollwatch.core.crosscheck import FindingKind, crosscheck
from tests.core.crosscheck.cases import LINES, TINY, Row, copies, official, tree

Kind = FindingKind
Finding = tuple[int, int, int, int, int, int, int, int, int, int, int]
CELL = st.one_of(st.none(), st.integers(0, 3))
ROW = st.lists(CELL, min_size=len(LINES), max_size=len(LINES))


@dataclass(frozen=True)
class Election:
    parents: list[int]
    station_commission: list[int]
    copies: Sequence[tuple[int, int, Row]]
    published: Mapping[int, Row]
    totals: Mapping[int, Row]
    expected: list[bool] | None


@st.composite
def elections(draw: st.DrawFn) -> Election:
    commissions = draw(st.integers(1, 4))
    parents = [-1] + [draw(st.integers(-1, c - 1)) for c in range(1, commissions)]
    stations = draw(st.integers(1, 6))
    station_commission = draw(
        st.lists(st.integers(0, commissions - 1), min_size=stations, max_size=stations)
    )
    copy_rows = draw(
        st.lists(st.tuples(st.integers(0, stations - 1), st.integers(0, 2), ROW), max_size=10)
    )
    # Copies repeated by other organisations make the usual case: identical copies.
    echoes = draw(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 2)), max_size=6))
    copy_rows += [
        (copy_rows[i][0], org, copy_rows[i][2]) for i, org in echoes if i < len(copy_rows)
    ]
    published = draw(st.dictionaries(st.integers(0, stations - 1), ROW))
    totals = draw(
        st.dictionaries(
            st.integers(0, commissions - 1),
            st.lists(
                st.one_of(st.none(), st.integers(0, 8)), min_size=len(LINES), max_size=len(LINES)
            ),
        )
    )
    expected = draw(
        st.one_of(st.none(), st.lists(st.booleans(), min_size=stations, max_size=stations))
    )
    return Election(parents, station_commission, copy_rows, published, totals, expected)


def _run(election: Election, ids: Sequence[int] | None = None) -> list[Finding]:
    result = crosscheck(
        TINY,
        tree(election.parents, election.station_commission),
        copies(election.copies, ids),
        official(election.published),
        official(election.totals),
        None if election.expected is None else np.array(election.expected, dtype=np.bool_),
    )
    f = result.findings
    columns = (f.station, f.commission, f.copy, f.relation, f.line, f.left, f.right, f.delta)
    return [
        (int(k), *map(int, rest))  # type: ignore[misc]
        for k, *rest in zip(f.kind, *columns, f.copies, f.organisations, strict=True)
    ]


def _finding(
    kind: Kind,
    station: int = -1,
    commission: int = -1,
    copy: int = -1,
    relation: int = -1,
    line: int = -1,
    left: int = 0,
    right: int = 0,
    copies: int = 0,
    organisations: int = 0,
) -> Finding:
    return (
        int(kind),
        station,
        commission,
        copy,
        relation,
        line,
        left,
        right,
        left - right,
        copies,
        organisations,
    )


def _broken(row: Row) -> list[tuple[int, int, int]]:
    """(relation, left, right) for each relation the row breaks, one row at a time."""
    out = []
    for index, relation in enumerate(TINY.relations):
        keys = relation.parsed.line_keys
        cells = {k: row[LINES.index(k)] for k in keys}
        values = {k: v for k, v in cells.items() if v is not None}
        if len(values) < len(cells):
            continue
        evaluation = relation.evaluate(values)
        if not evaluation.holds[0]:
            out.append((index, int(evaluation.left[0]), int(evaluation.right[0])))
    return out


def _reference(election: Election) -> list[Finding]:
    found: list[Finding] = []
    for i, (station, _, row) in enumerate(election.copies):
        for r, left, right in _broken(row):
            found.append(
                _finding(
                    Kind.RELATION_BROKEN_ON_COPY,
                    station,
                    copy=i,
                    relation=r,
                    left=left,
                    right=right,
                    copies=1,
                    organisations=1,
                )
            )
    for station, row in election.published.items():
        for r, left, right in _broken(row):
            found.append(
                _finding(
                    Kind.RELATION_BROKEN_ON_OFFICIAL, station, relation=r, left=left, right=right
                )
            )
    for commission, row in election.totals.items():
        for r, left, right in _broken(row):
            found.append(
                _finding(
                    Kind.RELATION_BROKEN_ON_OFFICIAL,
                    commission=commission,
                    relation=r,
                    left=left,
                    right=right,
                )
            )

    at_station: dict[int, list[tuple[int, Row]]] = defaultdict(list)
    for station, organisation, row in election.copies:
        at_station[station].append((organisation, row))
    for station, rows in at_station.items():
        for line in range(len(LINES)):
            reports = [(org, v) for org, row in rows if (v := row[line]) is not None]
            by_organisation: dict[int, set[int]] = defaultdict(set)
            for org, value in reports:
                by_organisation[org].add(value)
            values = {v for _, v in reports}
            if len(values) > 1:
                found.append(
                    _finding(
                        Kind.COPIES_DISAGREE,
                        station,
                        line=line,
                        left=max(values),
                        right=min(values),
                        copies=len(reports),
                        organisations=len(by_organisation),
                    )
                )
            votes = Counter(next(iter(v)) for v in by_organisation.values() if len(v) == 1)
            winners = [(v, n) for v, n in votes.items() if 2 * n > len(by_organisation)]
            theirs = _cell(election.published, station, line)
            if winners and theirs is not None and winners[0][0] != theirs:
                found.append(
                    _finding(
                        Kind.CONSENSUS_DIFFERS_FROM_OFFICIAL,
                        station,
                        line=line,
                        left=winners[0][0],
                        right=theirs,
                        copies=len(reports),
                        organisations=winners[0][1],
                    )
                )

    for i, (station, _, row) in enumerate(election.copies):
        for line, ours in enumerate(row):
            theirs = _cell(election.published, station, line)
            if ours is not None and theirs is not None and ours != theirs:
                found.append(
                    _finding(
                        Kind.COPY_DIFFERS_FROM_OFFICIAL,
                        station,
                        copy=i,
                        line=line,
                        left=ours,
                        right=theirs,
                        copies=1,
                        organisations=1,
                    )
                )

    found += _totals_reference(election)

    for station, rows in at_station.items():
        if station not in election.published:
            found.append(
                _finding(
                    Kind.MISSING_OFFICIAL_RESULT,
                    station,
                    copies=len(rows),
                    organisations=len({org for org, _ in rows}),
                )
            )
    stations = range(len(election.station_commission))
    expected = election.expected or [s in election.published for s in stations]
    for station, wanted in enumerate(expected):
        if wanted and station not in at_station:
            found.append(_finding(Kind.MISSING_COPY, station))
    return found


def _totals_reference(election: Election) -> list[Finding]:
    stations_under: dict[int, list[int]] = defaultdict(list)
    for station, commission in enumerate(election.station_commission):
        stations_under[commission].append(station)
    children: dict[int, list[int]] = defaultdict(list)
    for commission, parent in enumerate(election.parents):
        if parent >= 0:
            children[parent].append(commission)

    def children_sum(commission: int, line: int) -> int | None:
        parts = [_cell(election.published, s, line) for s in stations_under[commission]]
        parts += [figure(c, line) for c in children[commission]]
        known = [p for p in parts if p is not None]
        return sum(known) if len(known) == len(parts) else None

    def figure(commission: int, line: int) -> int | None:
        own = _cell(election.totals, commission, line)
        return own if own is not None else children_sum(commission, line)

    found: list[Finding] = []
    for commission, row in election.totals.items():
        if not stations_under[commission] and not children[commission]:
            continue
        for line, total in enumerate(row):
            below = children_sum(commission, line)
            if total is not None and below is not None and total != below:
                found.append(
                    _finding(
                        Kind.TOTAL_DIFFERS_FROM_CHILDREN,
                        commission=commission,
                        line=line,
                        left=total,
                        right=below,
                    )
                )
    return found


def _cell(rows: Mapping[int, Row], place: int, line: int) -> int | None:
    row = rows.get(place)
    return None if row is None else row[line]


@settings(max_examples=300, deadline=None)
@given(elections())
def test_vectorised_equals_reference(election: Election) -> None:
    found = _run(election)
    assert sorted(found) == sorted(_reference(election))
    assert [f[0] for f in found] == sorted(f[0] for f in found)


@settings(max_examples=100, deadline=None)
@given(elections(), st.randoms(use_true_random=False))
def test_fingerprints_are_unique_and_survive_reordering_the_copies(
    election: Election, random: object
) -> None:
    order = list(range(len(election.copies)))
    random.shuffle(order)  # type: ignore[attr-defined]
    shuffled = Election(
        election.parents,
        election.station_commission,
        [election.copies[i] for i in order],
        election.published,
        election.totals,
        election.expected,
    )

    def fingerprints(e: Election, ids: Sequence[int]) -> list[str]:
        result = crosscheck(
            TINY,
            tree(e.parents, e.station_commission),
            copies(e.copies, ids),
            official(e.published),
            official(e.totals),
        )
        return result.findings.fingerprint.tolist()

    first = fingerprints(election, list(range(len(order))))
    second = fingerprints(shuffled, order)
    assert len(set(first)) == len(first)
    assert sorted(first) == sorted(second)
