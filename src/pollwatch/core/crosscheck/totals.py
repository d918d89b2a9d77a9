"""Every published commission total against the sum of what lies directly beneath it.

A commission's children are its stations and its child commissions. A child commission counts
with its own published total where there is one — that is the figure the parent commission
aggregated — and otherwise with the sum of its own children, so that a region's total is still
checked when the territorial commissions between it and the stations published nothing. A
line is compared only when every child's figure for it is known; a station with no official
result is a missing piece of its own, not a wrong total.
"""

from __future__ import annotations

import numpy as np

from pollwatch.core.crosscheck.findings import FindingKind, Findings, FingerprintNames
from pollwatch.core.crosscheck.hierarchy import Hierarchy, sum_by
from pollwatch.core.crosscheck.inputs import Figures, IndexArray


def totals_against_children(
    hierarchy: Hierarchy,
    official_stations: Figures,
    station_row: IndexArray,
    official_totals: Figures,
    commission_row: IndexArray,
    names: FingerprintNames,
) -> Findings:
    """One finding per commission and line whose published total differs from its children's."""
    if not (commission_row >= 0).any():
        # No published total, nothing to compare (a station's recheck reads none).
        return Findings.build(FindingKind.TOTAL_DIFFERS_FROM_CHILDREN, names, 0)
    lines = official_stations.lines
    has_station = station_row >= 0
    if has_station.all():
        station = official_stations.take(station_row)
        station_known, station_value = ~station.missing, station.values
    else:
        station_known = np.zeros((hierarchy.stations, lines), dtype=np.bool_)
        station_value = np.zeros((hierarchy.stations, lines), dtype=np.int64)
        reported = official_stations.take(station_row[has_station])
        station_known[has_station] = ~reported.missing
        station_value[has_station] = reported.values

    commissions = hierarchy.commissions
    parent = hierarchy.commission_parent
    children_sum = sum_by(
        hierarchy.station_commission,
        station_value if station_known.all() else np.where(station_known, station_value, 0),
        commissions,
    )
    # Few stations lack a figure: count them from those alone.
    partly = np.flatnonzero(~station_known.all(axis=1))
    unknown = sum_by(
        hierarchy.station_commission[partly],
        (~station_known[partly]).astype(np.int64),
        commissions,
    )
    has_parent = parent >= 0
    children = np.bincount(hierarchy.station_commission, minlength=commissions) + np.bincount(
        parent[has_parent], minlength=commissions
    )

    has_total = commission_row >= 0
    published_known = np.zeros((commissions, lines), dtype=np.bool_)
    published = np.zeros((commissions, lines), dtype=np.int64)
    given = official_totals.take(commission_row[has_total])
    published_known[has_total] = ~given.missing
    published[has_total] = given.values

    depth = hierarchy.depth
    for level in range(int(depth.max(initial=0)), 0, -1):
        # Children sums at this level are final: everything deeper has been added.
        members = np.flatnonzero(depth == level)
        own = published_known[members]
        known = own | (unknown[members] == 0)
        figure = np.where(own, published[members], children_sum[members])
        np.add.at(children_sum, parent[members], np.where(known, figure, 0))
        np.add.at(unknown, parent[members], (~known).astype(np.int64))

    comparable = published_known & (unknown == 0) & (children > 0)[:, None]
    at, line = np.nonzero(comparable & (published != children_sum))
    return Findings.build(
        FindingKind.TOTAL_DIFFERS_FROM_CHILDREN,
        names,
        at.size,
        commission=at,
        line=line,
        left=published[at, line],
        right=children_sum[at, line],
    )
