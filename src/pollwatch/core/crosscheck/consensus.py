"""Observers' copies of one station side by side: where they disagree, and their consensus.

The consensus rule, per station and per line:

    A value is the observers' consensus when the organisations that report exactly that value
    are a strict majority of the distinct organisations that report the line at the station.

- **Organisations, not copies, vote.** Copies from one organisation are not independent
  evidence: they come from its observers, its training, sometimes one photo re-entered. If
  copies voted, one organisation submitting five identical copies would outvote two others;
  counting each organisation once it cannot.
- **An organisation whose copies disagree with each other abstains on that line**: it counts
  among the organisations reporting the line (so it can block a majority) but supports no
  value. Letting it support every value it reports would let it count twice — one
  organisation reporting two values would give each a "majority" of one — and picking one of
  its values would be a guess. Its internal disagreement is still a ``copies-disagree``
  finding.
- **A blank line is not a vote**: an organisation whose copies all leave the line blank does
  not report it.
- A single organisation (one copy or several agreeing ones) is a majority of one: its figures
  are the observers' figures for the station. ``support`` says how many organisations agree,
  for callers that want more before they rely on a value.

Everything runs on arrays. Copies are sorted by (station, organisation) once (``layout``); at
a station whose copies are all complete and identical, that copy is the consensus. Elsewhere
each organisation's values are reduced with ``reduceat`` and the majority is found per line by
sorting (station, value) pairs and measuring runs — a loop over the template's lines, never
over stations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollwatch.core.crosscheck.inputs import (
    BoolArray,
    Copies,
    Figures,
    IndexArray,
    Int64Array,
)
from pollwatch.core.crosscheck.layout import (
    KEY_LIMIT,
    CopyLayout,
    lay_out,
    run_lengths,
    run_starts,
)

_MAX, _MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


@dataclass(frozen=True)
class Consensus:
    """For each station with at least one copy (``station``, ascending), per line (columns).

    ``value`` is meaningful where ``agreed``; ``lowest``/``highest`` where ``copies`` > 0.
    """

    station: IndexArray
    value: Int64Array
    agreed: BoolArray
    support: Int64Array  # organisations agreeing on the value
    organisations: Int64Array  # distinct organisations reporting the line
    copies: Int64Array  # copies reporting the line
    lowest: Int64Array
    highest: Int64Array
    station_copies: Int64Array  # copies at the station
    station_organisations: Int64Array  # distinct organisations with a copy at the station

    @property
    def disagree(self) -> BoolArray:
        """Lines on which two of a station's copies report different values."""
        return (self.copies > 0) & (self.lowest < self.highest)

    def figures(self, stations: int) -> Figures:
        """The consensus as a stations × lines matrix, missing where there is none."""
        lines = self.value.shape[1]
        values = np.zeros((stations, lines), dtype=np.int64)
        missing = np.ones((stations, lines), dtype=np.bool_)
        values[self.station] = np.where(self.agreed, self.value, 0)
        missing[self.station] = ~self.agreed
        return Figures(values, missing)


def consensus(copies: Copies | CopyLayout) -> Consensus:
    """The copies compared per station and line, and the consensus where there is one.

    At a regular station (every copy complete and identical) the consensus is that copy;
    only irregular stations (a disagreement or a blank anywhere) go through the general
    per-organisation count. Both paths apply the same rule (the tests hold them to a
    per-station reference).
    """
    layout = copies if isinstance(copies, CopyLayout) else lay_out(copies)
    lines = layout.figures.lines
    if layout.figures.rows == 0:
        return _no_copies(lines)
    first = np.take(layout.figures.values, layout.station_start, axis=0)
    per_line = np.repeat(layout.station_organisations[:, None], lines, axis=1)
    result = Consensus(
        station=layout.stations.astype(np.intp),
        value=first,
        agreed=np.ones(first.shape, dtype=np.bool_),
        support=per_line,
        organisations=per_line.copy(),
        copies=np.repeat(layout.station_copies[:, None], lines, axis=1),
        lowest=first.copy(),
        highest=first.copy(),
        station_copies=layout.station_copies,
        station_organisations=layout.station_organisations,
    )
    if not layout.regular.all():
        at = np.flatnonzero(~layout.regular)
        rows = np.repeat(~layout.regular, layout.station_copies)
        general = _general(
            layout.station[rows],
            layout.organisation[rows],
            np.compress(rows, layout.figures.values, axis=0),
            np.compress(rows, layout.figures.missing, axis=0),
        )
        for name in ("value", "agreed", "support", "organisations", "copies", "lowest", "highest"):
            getattr(result, name)[at] = getattr(general, name)
    return result


def _general(
    station: IndexArray, organisation: Int64Array, values: Int64Array, missing: BoolArray
) -> Consensus:
    """The rule applied organisation by organisation; copies sorted by station, organisation."""
    # One group per (station, organisation).
    group_start = run_starts(
        (station[1:] != station[:-1]) | (organisation[1:] != organisation[:-1])
    )
    reporting = np.add.reduceat((~missing).astype(np.int64), group_start, axis=0)
    low = np.minimum.reduceat(np.where(missing, _MAX, values), group_start, axis=0)
    high = np.maximum.reduceat(np.where(missing, _MIN, values), group_start, axis=0)
    organisation_reports = reporting > 0
    organisation_consistent = organisation_reports & (low == high)

    # Groups of one station are contiguous; ``rank`` numbers the stations with copies.
    group_station = station[group_start]
    station_start = run_starts(group_station[1:] != group_station[:-1])
    rank = np.repeat(np.arange(station_start.size), run_lengths(station_start, group_start.size))
    organisations = np.add.reduceat(organisation_reports.astype(np.int64), station_start, axis=0)

    value, agreed, support = _majorities(rank, low, organisation_consistent, organisations)
    copy_start = group_start[station_start]
    return Consensus(
        station=group_station[station_start].astype(np.intp),
        value=value,
        agreed=agreed,
        support=support,
        organisations=organisations,
        copies=np.add.reduceat(reporting, station_start, axis=0),
        lowest=np.minimum.reduceat(low, station_start, axis=0),
        highest=np.maximum.reduceat(high, station_start, axis=0),
        station_copies=run_lengths(copy_start, station.size),
        station_organisations=run_lengths(station_start, group_start.size),
    )


def _majorities(
    rank: Int64Array, value: Int64Array, votes: BoolArray, organisations: Int64Array
) -> tuple[Int64Array, BoolArray, Int64Array]:
    """Per station rank and line: the value voted by a strict majority of ``organisations``.

    Every line at once: votes are counted per cell (station rank × line), so the cost is a
    few array operations whatever the number of lines.
    """
    stations, lines = organisations.shape
    majority = np.zeros(stations * lines, dtype=np.int64)
    agreed = np.zeros(stations * lines, dtype=np.bool_)
    support = np.zeros(stations * lines, dtype=np.int64)
    voter, line = np.nonzero(votes)
    cell, voted = _sorted_pairs(rank[voter] * lines + line, value[voter, line])
    if voted.size:
        run_start = run_starts((cell[1:] != cell[:-1]) | (voted[1:] != voted[:-1]))
        run_length = run_lengths(run_start, voted.size)
        run_cell = cell[run_start]
        # At most one run per cell can pass: two strict majorities would overlap.
        wins = run_length * 2 > organisations.ravel()[run_cell]
        majority[run_cell[wins]] = voted[run_start[wins]]
        agreed[run_cell[wins]] = True
        support[run_cell[wins]] = run_length[wins]
    shape = (stations, lines)
    return majority.reshape(shape), agreed.reshape(shape), support.reshape(shape)


def _sorted_pairs(rank: Int64Array, value: Int64Array) -> tuple[Int64Array, Int64Array]:
    """(rank, value) pairs sorted by rank, then value."""
    if value.size == 0:
        return rank, value
    low = int(value.min())
    span = int(value.max()) - low + 1
    if (int(rank.max()) + 1) * span < KEY_LIMIT:
        # One packed key sorts several times faster than a two-key lexsort.
        key = np.sort(rank.astype(np.int64) * span + (value - low))
        return key // span, key % span + low
    order = np.lexsort((value, rank))
    return rank[order], value[order]


def _no_copies(lines: int) -> Consensus:
    matrix = np.zeros((0, lines), dtype=np.int64)
    return Consensus(
        station=np.zeros(0, dtype=np.intp),
        value=matrix,
        agreed=np.zeros((0, lines), dtype=np.bool_),
        support=matrix,
        organisations=matrix,
        copies=matrix,
        lowest=matrix,
        highest=matrix,
        station_copies=np.zeros(0, dtype=np.int64),
        station_organisations=np.zeros(0, dtype=np.int64),
    )
