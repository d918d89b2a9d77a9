"""Copies sorted once by station and organisation, and the few rows that need checking.

On election night most stations are regular: every copy is complete and identical to the
others (observers copied the same signed protocol). For those, checking one copy checks them
all. ``Representatives`` are the rows actually checked — the first copy of each regular
station, every copy of an irregular one — and ``expand`` turns a finding on a representative
back into one finding per copy it stands for. Three copies per station thus cost about one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pollwatch.core.crosscheck.inputs import BoolArray, Copies, Figures, IndexArray, Int64Array

# Packed sort keys must stay clear of int64 overflow.
KEY_LIMIT = 2**62


@dataclass(frozen=True)
class Representatives:
    """Row i stands for the copies at sorted positions ``position[i] … + count[i] - 1``."""

    position: IndexArray
    count: Int64Array
    figures: Figures


@dataclass(frozen=True)
class CopyLayout:
    """Copies in (station, organisation) order, cut into stations (K stations with copies)."""

    order: IndexArray | None  # sorted position → row in the copies given; None: same
    station: IndexArray  # per sorted position
    organisation: Int64Array
    figures: Figures  # sorted
    station_start: IndexArray  # K: first sorted position of each station
    station_copies: Int64Array  # K
    station_organisations: Int64Array  # K: distinct organisations with a copy there
    regular: BoolArray  # K: every copy complete and identical

    @property
    def stations(self) -> IndexArray:
        return self.station[self.station_start]

    def copy_rows(self, positions: IndexArray) -> IndexArray:
        """The rows, in the copies as given, of sorted ``positions``."""
        return positions if self.order is None else self.order[positions]

    @cached_property
    def representatives(self) -> Representatives:
        copies = self.figures.rows
        count = np.ones(copies, dtype=np.int64)
        regular_start = self.station_start[self.regular]
        count[regular_start] = self.station_copies[self.regular]
        checked = np.repeat(~self.regular, self.station_copies)
        checked[regular_start] = True
        position = np.flatnonzero(checked)
        return Representatives(position, count[position], self.figures.take(position))

    def expand(self, which: IndexArray) -> tuple[IndexArray, IndexArray]:
        """For representatives ``which`` (repeats allowed): (index into ``which``, copy row)
        for every copy each one stands for."""
        representatives = self.representatives
        counts = representatives.count[which]
        owner = np.repeat(np.arange(which.size, dtype=np.intp), counts)
        offset = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
        positions = representatives.position[which][owner] + offset
        return owner, self.copy_rows(positions.astype(np.intp))


def lay_out(copies: Copies) -> CopyLayout:
    """Sort the copies by station and organisation and find the regular stations."""
    figures = copies.figures
    order = _station_organisation_order(copies.station, copies.organisation)
    if order is None:
        station, organisation, ordered = copies.station, copies.organisation, figures
    else:
        station = np.take(copies.station, order)
        organisation = np.take(copies.organisation, order)
        ordered = figures.take(order)
    same_station = station[1:] == station[:-1]
    station_start = run_starts(~same_station)
    station_copies = run_lengths(station_start, figures.rows)
    new_organisation = _with_first(~same_station | (organisation[1:] != organisation[:-1]))
    if figures.rows == 0:
        station_organisations = np.zeros(0, dtype=np.int64)
        regular = np.zeros(0, dtype=np.bool_)
    else:
        station_organisations = np.add.reduceat(new_organisation.astype(np.int64), station_start)
        values = ordered.values
        irregular = np.zeros(figures.rows, dtype=np.bool_)
        irregular[1:] = same_station & (values[1:] != values[:-1]).any(axis=1)
        if ordered.has_blanks:
            irregular |= ordered.missing.any(axis=1)
        regular = ~np.logical_or.reduceat(irregular, station_start)
    return CopyLayout(
        order=order,
        station=station,
        organisation=organisation,
        figures=ordered,
        station_start=station_start,
        station_copies=station_copies,
        station_organisations=station_organisations,
        regular=regular,
    )


def run_starts(differs: BoolArray) -> IndexArray:
    """Where the runs of a sorted sequence begin: 0, and i + 1 wherever ``differs[i]`` (element
    i + 1 differs from element i)."""
    return np.flatnonzero(_with_first(differs))


def run_lengths(starts: IndexArray, total: int) -> Int64Array:
    """The length of each run beginning at ``starts`` in a sequence of ``total`` elements."""
    ends = np.empty(starts.size, dtype=np.int64)
    ends[:-1] = starts[1:]
    ends[-1:] = total
    return ends - starts


def _with_first(differs: BoolArray) -> BoolArray:
    # np.r_[True, differs], without np.r_'s parsing of its index, which dominates small inputs.
    begins = np.empty(differs.size + 1, dtype=np.bool_)
    begins[0] = True
    begins[1:] = differs
    return begins


def _station_organisation_order(station: IndexArray, organisation: Int64Array) -> IndexArray | None:
    """Copies ordered by station, then organisation, then as given; None if already so."""
    rows = station.size
    if rows == 0:
        return None
    low = int(organisation.min())
    span = int(organisation.max()) - low + 1
    row_bits = max(1, (rows - 1).bit_length())
    if int(station.min()) < 0 or (int(station.max()) + 1) * span >= KEY_LIMIT:
        return np.lexsort((organisation, station)).astype(np.intp)
    key = station.astype(np.int64) * span + (organisation - low)
    if bool(np.all(key[1:] >= key[:-1])):
        return None
    if (int(key.max()) + 1) << row_bits < KEY_LIMIT:
        # Sorting values (SIMD) is several times faster than argsort: pack the row number
        # into the key's low bits and read it back after sorting.
        packed = np.sort((key << row_bits) | np.arange(rows, dtype=np.int64))
        return (packed & ((1 << row_bits) - 1)).astype(np.intp)
    return np.argsort(key, kind="stable").astype(np.intp)
