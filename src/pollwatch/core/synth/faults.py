"""Discrepancies injected into an honest synthetic election, each one recorded.

- **Transcription slip**: one figure of one copy mistyped (a digit off: ±1, ±10 or ±100).
- **Ballot stuffing**: a station's official figures inflated by k ballots, consistently —
  k more Yes votes and ballots in the boxes, k more ballots issued in the station, k fewer
  cancelled — so that the law's arithmetic still holds; the observers' copies keep the
  protocol signed at the count.
- **Arithmetic error**: one official figure of a station published wrong (the copies are
  right), so a control relation breaks; the commissions above add it up as published.
- **Total not the sum**: a territorial commission publishes a total that moves votes from No to
  Yes; its region adds up the territorial totals as published.
- **Missing official result**: a station with copies whose result is not published (its
  territorial still counts it in its total).
- **Silent change**: a later publication moves votes from No to Yes at a few stations, with
  the totals above them recomputed, and says nothing; the copies keep the signed figures.

Faults are injected only where observers' copies are (so each is detectable) and each station
gets at most one; missing results avoid the faulty territorials, whose totals must be
checkable. Official totals are published for every territorial and every region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.synth.observers import Observation
from pollwatch.core.synth.params import SynthParams, at_least_one
from pollwatch.core.synth.protocol import LINE_KEYS, Protocols
from pollwatch.core.synth.structure import Structure

# Lines whose official figure can be published wrong: every line in an equality of the law.
ARITHMETIC_LINES = tuple(key for key in LINE_KEYS if key != "registered")
# Stuffing: k = this share (uniform) of the voters who did not vote, at least one.
STUFFING_SHARE = (0.05, 0.3)
# A territorial total moves this share (uniform) of its No votes to Yes, at least one.
MOVED_SHARE = (0.02, 0.1)
SLIP_MAGNITUDES = np.array([1, 10, 100])

_LINE = {key: index for index, key in enumerate(LINE_KEYS)}
STUFFED_LINES = ("issued_in_station", "cancelled", "ballots_in_boxes", "yes")
STUFFING_SIGN = {"issued_in_station": 1, "cancelled": -1, "ballots_in_boxes": 1, "yes": 1}


@dataclass(frozen=True)
class Faults:
    """What was injected, as arrays (one entry per fault of each kind)."""

    slip_copy: NDArray[np.intp]
    slip_line: NDArray[np.intp]
    slip_true: NDArray[np.int64]
    slip_written: NDArray[np.int64]
    stuffed_station: NDArray[np.intp]
    stuffed_ballots: NDArray[np.int64]
    error_station: NDArray[np.intp]
    error_line: NDArray[np.intp]
    error_true: NDArray[np.int64]
    error_published: NDArray[np.int64]
    faulty_territorial: NDArray[np.intp]
    moved_votes: NDArray[np.int64]
    missing_station: NDArray[np.intp]
    revised_station: NDArray[np.intp]  # silently changed in the later publication
    revised_votes: NDArray[np.int64]  # moved from No to Yes


@dataclass(frozen=True)
class Publication:
    """The official figures in force (after the later publication) and the observers' copies.

    The first publication is the figures in force with the revised rows as they were before
    (``*_before``); the later one publishes only the revised rows, as they are now.
    """

    station_figures: NDArray[np.int64]  # S × lines: what the commission holds
    published: NDArray[np.bool_]  # S: whether the station's result is published
    territorial_totals: NDArray[np.int64]  # T × lines
    region_totals: NDArray[np.int64]  # R × lines
    copy_figures: NDArray[np.int64]  # C × lines: as the observers wrote them
    revised_territorial: NDArray[np.intp]
    revised_region: NDArray[np.intp]
    station_before: NDArray[np.int64]  # rows of Faults.revised_station, first published
    territorial_before: NDArray[np.int64]  # rows of revised_territorial
    region_before: NDArray[np.int64]

    @property
    def published_stations(self) -> NDArray[np.intp]:
        return np.flatnonzero(self.published).astype(np.intp)


def inject_faults(
    params: SynthParams,
    structure: Structure,
    protocols: Protocols,
    observation: Observation,
    rng: np.random.Generator,
) -> tuple[Faults, Publication]:
    honest = protocols.figures
    covered = np.unique(observation.copy_station)
    pool = rng.permutation(covered).astype(np.intp)
    # Stuffing needs voters who did not vote; anywhere else any covered station will do.
    issued = honest[:, _LINE["issued_in_station"]] + honest[:, _LINE["issued_outside"]]
    room = honest[:, _LINE["registered"]] - issued

    stuffed = _take(pool[room[pool] >= 1], at_least_one(params.stuffed, covered.size))
    pool = _without(pool, stuffed)
    errors = _take(pool, at_least_one(params.arithmetic_errors, covered.size))
    pool = _without(pool, errors)
    faulty = np.sort(
        rng.choice(len(structure.territorial_codes), params.faulty_totals, replace=False)
    ).astype(np.intp)
    checkable = ~np.isin(structure.station_territorial[pool], faulty)
    missing = _take(pool[checkable], at_least_one(params.missing_official, covered.size))
    pool = _without(pool, missing)

    official = honest.copy()
    ballots = _stuff(official, stuffed, room[stuffed], rng)
    error_line, error_true, error_published = _misprint(official, errors, rng)
    slips = _take(pool, at_least_one(params.slips, observation.copies))
    copy_figures, slip_copy, slip_line, slip_true, slip_written = _mistype(
        honest, observation, slips, rng
    )
    territorial_totals, region_totals, faulty, moved = _totals(structure, official, faulty, rng)
    # The later publication: votes moved at honest stations outside the faulty territorials.
    calm = _without(pool, slips)
    calm = calm[~np.isin(structure.station_territorial[calm], faulty)]
    calm = calm[official[calm, _LINE["no"]] >= 1]
    revised = _take(calm, at_least_one(params.silent_changes, covered.size))
    revision = _revise(structure, official, territorial_totals, region_totals, revised, rng)

    published = np.ones(honest.shape[0], dtype=np.bool_)
    published[missing] = False
    order = np.argsort(slip_copy)
    faults = Faults(
        slip_copy=slip_copy[order],
        slip_line=slip_line[order],
        slip_true=slip_true[order],
        slip_written=slip_written[order],
        stuffed_station=stuffed,
        stuffed_ballots=ballots,
        error_station=errors,
        error_line=error_line,
        error_true=error_true,
        error_published=error_published,
        faulty_territorial=faulty,
        moved_votes=moved,
        missing_station=missing,
        revised_station=revised,
        revised_votes=revision.votes,
    )
    publication = Publication(
        station_figures=official,
        published=published,
        territorial_totals=territorial_totals,
        region_totals=region_totals,
        copy_figures=copy_figures,
        revised_territorial=revision.territorial,
        revised_region=revision.region,
        station_before=revision.station_before,
        territorial_before=revision.territorial_before,
        region_before=revision.region_before,
    )
    return faults, publication


def _stuff(
    official: NDArray[np.int64],
    stations: NDArray[np.intp],
    room: NDArray[np.int64],
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """Inflate ``official`` in place at ``stations``; returns the ballots added at each."""
    share = rng.uniform(*STUFFING_SHARE, stations.size)
    ballots = np.clip(np.floor(room * share), 1, room).astype(np.int64)
    for key in STUFFED_LINES:
        official[stations, _LINE[key]] += STUFFING_SIGN[key] * ballots
    return ballots


def _misprint(
    official: NDArray[np.int64], stations: NDArray[np.intp], rng: np.random.Generator
) -> tuple[NDArray[np.intp], NDArray[np.int64], NDArray[np.int64]]:
    """Publish one figure of each station wrong, in place: (line, true, published)."""
    line = np.array([_LINE[k] for k in ARITHMETIC_LINES], dtype=np.intp)[
        rng.integers(0, len(ARITHMETIC_LINES), stations.size)
    ]
    true = official[stations, line]
    published = true + _offsets(true, rng)
    official[stations, line] = published
    return line, true, published


def _mistype(
    honest: NDArray[np.int64],
    observation: Observation,
    stations: NDArray[np.intp],
    rng: np.random.Generator,
) -> tuple[
    NDArray[np.int64], NDArray[np.intp], NDArray[np.intp], NDArray[np.int64], NDArray[np.int64]
]:
    """The copies as written: one figure of one copy mistyped at each of ``stations``.

    Returns (copy figures, slipped copy, line, true, written)."""
    copy_figures = honest[observation.copy_station]
    first = np.searchsorted(observation.copy_station, stations)
    count = np.searchsorted(observation.copy_station, stations, side="right") - first
    copy = (first + rng.integers(0, count)).astype(np.intp)
    line = rng.integers(0, len(LINE_KEYS), stations.size).astype(np.intp)
    true = copy_figures[copy, line]
    written = true + _offsets(true, rng)
    copy_figures[copy, line] = written
    return copy_figures, copy, line, true, written


def _totals(
    structure: Structure,
    official: NDArray[np.int64],
    faulty: NDArray[np.intp],
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.intp], NDArray[np.int64]]:
    """Territorial and region totals as published: the sums, but for the faulty territorials
    (No votes moved to Yes). Returns (territorial, region, faulty, moved votes)."""
    territorial = np.zeros((len(structure.territorial_codes), len(LINE_KEYS)), np.int64)
    np.add.at(territorial, structure.station_territorial, official)
    no = territorial[faulty, _LINE["no"]]
    moved = np.minimum(np.maximum(np.floor(no * rng.uniform(*MOVED_SHARE, faulty.size)), 1), no)
    moved = moved.astype(np.int64)
    # A territorial without a single No vote (a tiny election) has none to move.
    faulty, moved = faulty[moved > 0], moved[moved > 0]
    territorial[faulty, _LINE["yes"]] += moved
    territorial[faulty, _LINE["no"]] -= moved
    region = np.zeros((len(structure.region_codes), len(LINE_KEYS)), np.int64)
    np.add.at(region, structure.territorial_region, territorial)
    return territorial, region, faulty, moved


@dataclass(frozen=True)
class _Revision:
    votes: NDArray[np.int64]
    territorial: NDArray[np.intp]
    region: NDArray[np.intp]
    station_before: NDArray[np.int64]
    territorial_before: NDArray[np.int64]
    region_before: NDArray[np.int64]


def _revise(
    structure: Structure,
    official: NDArray[np.int64],
    territorial_totals: NDArray[np.int64],
    region_totals: NDArray[np.int64],
    revised: NDArray[np.intp],
    rng: np.random.Generator,
) -> _Revision:
    """Move No votes to Yes at ``revised`` and in the totals above, in place."""
    station_before = official[revised].copy()
    no = official[revised, _LINE["no"]]
    share = rng.uniform(*MOVED_SHARE, revised.size)
    votes = np.minimum(np.maximum(np.floor(no * share), 1), no).astype(np.int64)
    official[revised, _LINE["yes"]] += votes
    official[revised, _LINE["no"]] -= votes
    territorial = np.unique(structure.station_territorial[revised]).astype(np.intp)
    region = np.unique(structure.territorial_region[territorial]).astype(np.intp)
    territorial_before = territorial_totals[territorial].copy()
    region_before = region_totals[region].copy()
    moved = np.zeros_like(territorial_totals)
    np.add.at(moved, structure.station_territorial[revised], official[revised] - station_before)
    territorial_totals += moved
    np.add.at(region_totals, structure.territorial_region, moved)
    return _Revision(votes, territorial, region, station_before, territorial_before, region_before)


def _without(pool: NDArray[np.intp], taken: NDArray[np.intp]) -> NDArray[np.intp]:
    """``pool`` less ``taken``, keeping the shuffle."""
    return pool[~np.isin(pool, taken)]


def _take(candidates: NDArray[np.intp], count: int) -> NDArray[np.intp]:
    """The first ``count`` of shuffled candidates, as a sorted array."""
    return np.sort(candidates[:count]).astype(np.intp)


def _offsets(true: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int64]:
    """A digit off (±1, ±10 or ±100), never below zero."""
    magnitude = SLIP_MAGNITUDES[rng.integers(0, SLIP_MAGNITUDES.size, true.size)]
    sign = np.where(rng.random(true.size) < 0.5, -1, 1)
    sign = np.where(true - magnitude < 0, 1, sign)
    return (sign * magnitude).astype(np.int64)
