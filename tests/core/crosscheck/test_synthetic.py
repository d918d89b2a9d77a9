"""A synthetic referendum with discrepancies injected here: exactly the injected ones are found,
and the observers' figures put in place of the official ones restore the honest tabulation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from pollwatch.core.crosscheck import (
    Copies,
    CrossCheck,
    Figures,
    FindingKind,
    Hierarchy,
    OfficialResults,
    crosscheck,
    figures_for_stations,
)
from pollwatch.core.outcome import RegionalMajorityRule, would_outcome_change
from pollwatch.core.protocol import parse_template
from pollwatch.core.synth import LINE_KEYS, SynthParams, generate
from pollwatch.core.tabulation import tabulate
from tests.core.crosscheck.russia import TEMPLATES

Kind = FindingKind
Ints = npt.NDArray[np.int64]
TEMPLATE = parse_template((TEMPLATES / "kz-referendum.toml").read_text(), "kz-referendum")
K = {key: i for i, key in enumerate(LINE_KEYS)}
IN_BOXES = next(
    i for i, r in enumerate(TEMPLATE.relations) if r.expression.startswith("ballots_in_boxes ==")
)
STATIONS, GROUP = 3_000, 30
Row = tuple[
    int, int, int, int, int, int, int
]  # kind, station, commission, copy, relation, line, delta


@dataclass(frozen=True)
class Injected:
    hierarchy: Hierarchy
    honest: Ints
    official: OfficialResults
    totals: OfficialResults
    copies: Copies
    falsified: Ints  # official: some No votes moved to Yes; copies honest
    moved: Ints  # votes moved, per falsified station
    misread: Ints  # three organisations' copies, one with Yes + 1
    misread_copy: Ints  # the row of each misread copy
    miscounted: Ints  # official invalid + 5: breaks the ballots-in-boxes relation
    unpublished: Ints  # no official result
    unobserved: Ints  # no copy
    territorial: int  # its published total moves 100 votes from No to Yes
    region: int


@cache
def injected() -> Injected:
    election = generate(SynthParams.build(stations=STATIONS, seed=7))
    structure = election.structure
    regions = len(structure.region_codes)
    hierarchy = Hierarchy(
        np.concatenate([[-1], np.zeros(regions), 1 + structure.territorial_region]).astype(np.intp),
        (1 + regions + structure.station_territorial).astype(np.intp),
    )
    honest = election.protocols.figures
    rng = np.random.default_rng(11)
    groups = np.sort(rng.permutation(STATIONS)[: 5 * GROUP].reshape(5, GROUP), axis=1)
    falsified, misread, miscounted, unpublished, unobserved = groups

    official = honest.copy()
    moved = np.minimum(rng.integers(1, 50, GROUP), official[falsified, K["no"]])
    official[falsified, K["yes"]] += moved
    official[falsified, K["no"]] -= moved
    official[miscounted, K["invalid"]] += 5
    # Every commission publishes the sum of its stations' published figures ...
    totals = tabulate(hierarchy, Figures.complete(official), LINE_KEYS).totals.copy()
    # ... except one territorial, whose total moves votes (its region added up correctly).
    territorial = next(
        c
        for c in hierarchy.level(2).tolist()
        if not np.isin(hierarchy.stations_of(c), unpublished).any()
    )
    totals[territorial, K["yes"]] += 100
    totals[territorial, K["no"]] -= 100
    published = np.setdiff1d(np.arange(STATIONS), unpublished)

    # Copies: one to three organisations per station, three at a misread station, none where
    # unobserved; a few organisations hand in the same copy twice.
    count = rng.integers(1, 4, STATIONS)
    count[misread] = 3
    count[unobserved] = 0
    station = np.repeat(np.arange(STATIONS), count)
    position = np.arange(station.size) - np.repeat(np.cumsum(count) - count, count)
    organisation = (1 + position + rng.integers(0, 3, STATIONS)[station]).astype(np.int64)
    figures = honest[station].copy()
    misread_copy = np.flatnonzero(np.isin(station, misread) & (position == 0))
    figures[misread_copy, K["yes"]] += 1
    twice = np.flatnonzero((rng.random(station.size) < 0.05) & ~np.isin(station, misread))
    copies = Copies(
        np.concatenate([station, station[twice]]).astype(np.intp),
        np.concatenate([organisation, organisation[twice]]),
        Figures.complete(np.concatenate([figures, figures[twice]])),
    )
    return Injected(
        hierarchy=hierarchy,
        honest=honest,
        official=OfficialResults(published, Figures.complete(official[published])),
        totals=OfficialResults(np.arange(hierarchy.commissions), Figures.complete(totals)),
        copies=copies,
        falsified=falsified,
        moved=moved,
        misread=misread,
        misread_copy=misread_copy,
        miscounted=miscounted,
        unpublished=unpublished,
        unobserved=unobserved,
        territorial=territorial,
        region=int(hierarchy.commission_parent[territorial]),
    )


def _check(case: Injected) -> CrossCheck:
    return crosscheck(
        TEMPLATE,
        case.hierarchy,
        case.copies,
        case.official,
        case.totals,
        copy_expected=np.ones(STATIONS, dtype=np.bool_),
    )


def _expected(case: Injected) -> list[Row]:
    rows: list[Row] = []
    yes, no, invalid = K["yes"], K["no"], K["invalid"]
    copy_station = case.copies.station
    for row, station in zip(case.misread_copy.tolist(), case.misread.tolist(), strict=True):
        rows.append((Kind.RELATION_BROKEN_ON_COPY, station, -1, row, IN_BOXES, -1, -1))
        rows.append((Kind.COPIES_DISAGREE, station, -1, -1, -1, yes, 1))
        rows.append((Kind.COPY_DIFFERS_FROM_OFFICIAL, station, -1, row, -1, yes, 1))
    for station in case.miscounted.tolist():
        rows.append((Kind.RELATION_BROKEN_ON_OFFICIAL, station, -1, -1, IN_BOXES, -1, -5))
        rows.append((Kind.CONSENSUS_DIFFERS_FROM_OFFICIAL, station, -1, -1, -1, invalid, -5))
        for copy in np.flatnonzero(copy_station == station).tolist():
            rows.append((Kind.COPY_DIFFERS_FROM_OFFICIAL, station, -1, copy, -1, invalid, -5))
    # A commission total adds up its miscounted stations' broken arithmetic.
    beneath = np.zeros(case.hierarchy.commissions, dtype=np.int64)
    for commission in range(case.hierarchy.commissions):
        stations = case.hierarchy.stations_of(commission)
        beneath[commission] = np.isin(stations, case.miscounted).sum()
    for commission in np.flatnonzero(beneath).tolist():
        delta = -5 * int(beneath[commission])
        rows.append((Kind.RELATION_BROKEN_ON_OFFICIAL, -1, commission, -1, IN_BOXES, -1, delta))
    for station, moved in zip(case.falsified.tolist(), case.moved.tolist(), strict=True):
        for line, delta in ((yes, -moved), (no, moved)):
            rows.append((Kind.CONSENSUS_DIFFERS_FROM_OFFICIAL, station, -1, -1, -1, line, delta))
            for copy in np.flatnonzero(copy_station == station).tolist():
                rows.append((Kind.COPY_DIFFERS_FROM_OFFICIAL, station, -1, copy, -1, line, delta))
    for commission, sign in ((case.territorial, 1), (case.region, -1)):
        rows.append((Kind.TOTAL_DIFFERS_FROM_CHILDREN, -1, commission, -1, -1, yes, 100 * sign))
        rows.append((Kind.TOTAL_DIFFERS_FROM_CHILDREN, -1, commission, -1, -1, no, -100 * sign))
    for station in case.unpublished.tolist():
        rows.append((Kind.MISSING_OFFICIAL_RESULT, station, -1, -1, -1, -1, 0))
    for station in case.unobserved.tolist():
        rows.append((Kind.MISSING_COPY, station, -1, -1, -1, -1, 0))
    return sorted(rows)


def test_finds_exactly_what_was_injected() -> None:
    case = injected()
    found = _check(case).findings
    rows = zip(
        found.kind.tolist(),
        found.station.tolist(),
        found.commission.tolist(),
        found.copy.tolist(),
        found.relation.tolist(),
        found.line.tolist(),
        found.delta.tolist(),
        strict=True,
    )
    assert sorted(rows) == _expected(case)
    assert len(set(found.fingerprint.tolist())) == len(found)


def test_the_observers_figures_in_place_of_the_official_ones_are_the_honest_figures() -> None:
    case = injected()
    result = _check(case)
    official = figures_for_stations(case.official, STATIONS)
    assert official.missing[case.unpublished].all()
    rule = RegionalMajorityRule(participants=("issued_in_station", "issued_outside"))
    comparison = would_outcome_change(
        rule,
        case.hierarchy,
        LINE_KEYS,
        official,
        result.consensus.figures(STATIONS),
        case.hierarchy.level(1),
    )
    honest = tabulate(case.hierarchy, Figures.complete(case.honest), LINE_KEYS)
    assert (comparison.observed_tabulation.totals == honest.totals).all()
    assert not (comparison.official_tabulation.totals == honest.totals).all()
    assert comparison.official.decision == comparison.observed.decision == "adopted"
    assert not comparison.changed
