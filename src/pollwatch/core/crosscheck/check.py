"""Cross-checking a whole election (or one station) in one call: every finding kind at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollwatch.core.crosscheck.compare import (
    consensus_against_official,
    copies_against_official,
    copies_disagree,
)
from pollwatch.core.crosscheck.consensus import Consensus, consensus
from pollwatch.core.crosscheck.findings import FindingKind, Findings, FingerprintNames
from pollwatch.core.crosscheck.hierarchy import Hierarchy
from pollwatch.core.crosscheck.inputs import (
    BoolArray,
    Copies,
    CrosscheckInputError,
    Figures,
    OfficialResults,
    check_indexes,
)
from pollwatch.core.crosscheck.layout import CopyLayout, lay_out
from pollwatch.core.crosscheck.missing import missing_copies, missing_official_results
from pollwatch.core.crosscheck.relations import broken_relations
from pollwatch.core.crosscheck.totals import totals_against_children
from pollwatch.core.protocol import ProtocolTemplateSpec


@dataclass(frozen=True)
class CrossCheck:
    findings: Findings
    consensus: Consensus


def crosscheck(
    template: ProtocolTemplateSpec,
    hierarchy: Hierarchy,
    copies: Copies,
    official_stations: OfficialResults,
    official_totals: OfficialResults | None = None,
    copy_expected: BoolArray | None = None,
) -> CrossCheck:
    """Every finding for the given stations, copies and official results.

    ``official_stations`` places are station indexes, ``official_totals`` places commission
    indexes. ``copy_expected`` marks the stations where a missing copy is a finding (those with
    an observer assigned); by default, every station with an official result. Findings come
    grouped by kind (in FindingKind's order), then by place.
    """
    lines = len(template.lines)
    totals = official_totals if official_totals is not None else OfficialResults.none(lines)
    for what, figures in (
        ("copies", copies.figures),
        ("official station results", official_stations.figures),
        ("official commission totals", totals.figures),
    ):
        if figures.lines != lines:
            raise CrosscheckInputError(
                f"{what}: {figures.lines} columns; expected {lines}, one per line of "
                f"template {template.key!r} ({', '.join(template.line_keys)})"
            )
    check_indexes("copy stations", copies.station, hierarchy.stations)
    station_row = official_stations.row_of(hierarchy.stations, "station")
    commission_row = totals.row_of(hierarchy.commissions, "commission")
    expected = station_row >= 0 if copy_expected is None else copy_expected
    if expected.shape != (hierarchy.stations,) or expected.dtype != np.bool_:
        raise CrosscheckInputError(
            f"stations expecting a copy: {expected.shape} {expected.dtype}; "
            f"expected {hierarchy.stations} booleans, one per station"
        )

    names = FingerprintNames(
        line_keys=template.line_keys,
        relation_texts=tuple(relation.expression for relation in template.relations),
        station_ids=hierarchy.station_id(),
        commission_ids=hierarchy.commission_id(),
        copy_ids=copies.copy_ids,
    )
    layout = lay_out(copies)
    agreement = consensus(layout)
    parts = [
        _relations_on_copies(template, copies, layout, names),
        _relations_on_official(template, official_stations, totals, names),
        copies_disagree(agreement, names),
        copies_against_official(copies, layout, official_stations.figures, station_row, names),
        consensus_against_official(agreement, official_stations.figures, station_row, names),
        totals_against_children(
            hierarchy,
            official_stations.figures,
            station_row,
            totals.figures,
            commission_row,
            names,
        ),
        missing_official_results(agreement, station_row, names),
        missing_copies(agreement, expected, names),
    ]
    return CrossCheck(findings=Findings.concatenate(parts, names), consensus=agreement)


def _relations_on_copies(
    template: ProtocolTemplateSpec, copies: Copies, layout: CopyLayout, names: FingerprintNames
) -> Findings:
    """Relations checked once per distinct copy at a regular station, found on every copy."""
    representatives = layout.representatives.figures
    broken = broken_relations(template.compiled_relations, representatives)
    if broken.row.size == 0:  # the usual case: spare expanding nothing
        return Findings.build(FindingKind.RELATION_BROKEN_ON_COPY, names, 0)
    owner, copy = layout.expand(broken.row)
    relation = broken.relation[owner]
    order = np.lexsort((relation, copy))
    copy, owner = copy[order], owner[order]
    return Findings.build(
        FindingKind.RELATION_BROKEN_ON_COPY,
        names,
        copy.size,
        station=copies.station[copy],
        copy=copy,
        relation=broken.relation[owner],
        left=broken.left[owner],
        right=broken.right[owner],
        copies=1,
        organisations=1,
    )


def _relations_on_official(
    template: ProtocolTemplateSpec,
    stations: OfficialResults,
    commissions: OfficialResults,
    names: FingerprintNames,
) -> Findings:
    """Relations on published station figures, then on published commission totals.

    The law's relations are linear, so they hold for a commission's sums whenever they hold
    for its stations: a total that breaks one was not added up from correct protocols.
    """
    parts = []
    for place, results in (("station", stations), ("commission", commissions)):
        broken = broken_relations(template.compiled_relations, results.figures)
        where = results.place[broken.row]
        parts.append(
            Findings.build(
                FindingKind.RELATION_BROKEN_ON_OFFICIAL,
                names,
                broken.row.size,
                relation=broken.relation,
                left=broken.left,
                right=broken.right,
                **{place: where},
            )
        )
    return Findings.concatenate(parts, names)


def figures_for_stations(results: OfficialResults, stations: int) -> Figures:
    """Official station results as a stations × lines matrix, missing where unpublished."""
    lines = results.figures.lines
    values = np.zeros((stations, lines), dtype=np.int64)
    missing = np.ones((stations, lines), dtype=np.bool_)
    values[results.place] = results.figures.values
    missing[results.place] = results.figures.missing
    return Figures(values, missing)
