"""Who watched where: organisations, observers, assignments and the copies they handed in.

A share of stations (``coverage``) gets copies of its protocol: one to four, each from a
different organisation (organisations vote in the consensus, so two copies from one would be
one voice), drawn by each organisation's weight. Every copy's observer is assigned to its
station for election day; at a share of the stations without copies an observer was assigned
but handed nothing in. The copies here are honest (the precinct protocol as signed);
``faults`` then mistypes a few.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

import numpy as np
from numpy.dtypes import StringDType
from numpy.typing import NDArray

from pollwatch.core.synth.params import ELECTION_DATE, TIME_ZONE, SynthParams, at_least_one
from pollwatch.core.synth.people import (
    DOMESTIC_LANGUAGES,
    FEMALE_NAMES,
    INTERNATIONAL_LANGUAGES,
    INTERNATIONAL_NAMES,
    MALE_NAMES,
    SURNAMES,
    OrganisationProfile,
    organisation_profiles,
)

# Copies per station with copies: 1, 2, 3 or 4 (capped by the number of organisations).
COPIES_PER_STATION = np.array([0.3, 0.3, 0.25, 0.15])
# Most observers watch the whole day; some come for the count only. Local times.
WHOLE_DAY, COUNT_ONLY, UNTIL = datetime.time(6, 30), datetime.time(19, 30), datetime.time(6, 0)
COUNT_ONLY_SHARE = 0.2
# Not every copy is signed by every member or stamped: evidence of a lesser weight.
SIGNED_SHARE, CERTIFIED_SHARE = 0.97, 0.95

_TEXT = StringDType()


@dataclass(frozen=True)
class Observation:
    """Organisations (O), observers (one per assignment, A) and copies (C, honest figures).

    Observers ``0 … C-1`` are the copies' observers (observer i handed in copy i); the rest
    were assigned to stations without copies and handed in nothing.
    """

    organisations: tuple[OrganisationProfile, ...]
    observer_organisation: NDArray[np.intp]  # A
    observer_station: NDArray[np.intp]  # A: the station the observer is assigned to
    observer_code: NDArray[np.str_]  # A, StringDType: unique within the organisation
    observer_name: NDArray[np.str_]
    observer_contact: NDArray[np.str_]
    observer_languages: NDArray[np.str_]
    accreditation_number: NDArray[np.str_]  # A: unique in the election
    starts_at: NDArray[np.str_]  # A: ISO 8601 with the election's offset
    ends_at: NDArray[np.str_]
    copy_id: NDArray[np.str_]  # C: UUIDs, deterministic from the seed
    copy_station: NDArray[np.intp]  # C, ascending
    copy_organisation: NDArray[np.intp]  # C
    all_members_signed: NDArray[np.bool_]  # C
    certified: NDArray[np.bool_]  # C

    @property
    def copies(self) -> int:
        return int(self.copy_station.size)

    @property
    def copy_observer(self) -> NDArray[np.intp]:
        return np.arange(self.copies, dtype=np.intp)

    @property
    def unreported_stations(self) -> NDArray[np.intp]:
        """Stations with an observer assigned and no copy: a missing protocol copy."""
        return np.unique(self.observer_station[self.copies :])


def generate_observation(
    params: SynthParams, stations: int, rng: np.random.Generator
) -> Observation:
    organisations = organisation_profiles(params.organisations)
    weights = np.array([o.weight for o in organisations])

    covered = np.flatnonzero(rng.random(stations) < params.coverage).astype(np.intp)
    most = min(len(COPIES_PER_STATION), len(organisations))
    chances = COPIES_PER_STATION[:most] / COPIES_PER_STATION[:most].sum()
    per_station = rng.choice(np.arange(1, most + 1), size=covered.size, p=chances)
    # Distinct organisations per station, drawn by weight without replacement (Gumbel top-k).
    keys = np.log(weights) + rng.gumbel(size=(covered.size, len(organisations)))
    ranked = np.argsort(-keys, axis=1)
    taken = np.arange(len(organisations)) < per_station[:, None]
    copy_organisation = ranked[taken].astype(np.intp)
    copy_station = np.repeat(covered, per_station).astype(np.intp)
    copies = copy_station.size

    uncovered = np.setdiff1d(np.arange(stations, dtype=np.intp), covered)
    unreported = at_least_one(params.unreported, uncovered.size)
    unreported_station = np.sort(rng.choice(uncovered, unreported, replace=False)).astype(np.intp)
    unreported_organisation = rng.choice(
        len(organisations), unreported, p=weights / weights.sum()
    ).astype(np.intp)

    observer_organisation = np.concatenate([copy_organisation, unreported_organisation])
    observer_station = np.concatenate([copy_station, unreported_station])
    observers = observer_organisation.size
    international = np.array([o.international for o in organisations])[observer_organisation]
    codes = np.array([o.code for o in organisations], dtype=_TEXT)
    starts_at, ends_at = _windows(observers, rng)
    return Observation(
        organisations=organisations,
        observer_organisation=observer_organisation,
        observer_station=observer_station,
        observer_code=np.strings.add(
            np.strings.add(codes[observer_organisation], "-"),
            _padded(_rank_within(observer_organisation) + 1, 6),
        ),
        observer_name=_names(international, rng),
        observer_contact=np.strings.add("+77", _padded(rng.integers(0, 10**9, observers), 9)),
        observer_languages=np.where(
            international,
            _pick(INTERNATIONAL_LANGUAGES, observers, rng),
            _pick(DOMESTIC_LANGUAGES, observers, rng),
        ),
        accreditation_number=np.strings.add(
            f"{ELECTION_DATE.year}-", _padded(np.arange(1, observers + 1), 7)
        ),
        starts_at=starts_at,
        ends_at=ends_at,
        copy_id=uuids(copies, rng),
        copy_station=copy_station,
        copy_organisation=copy_organisation,
        all_members_signed=rng.random(copies) < SIGNED_SHARE,
        certified=rng.random(copies) < CERTIFIED_SHARE,
    )


def uuids(count: int, rng: np.random.Generator) -> NDArray[np.str_]:
    """Random (version 4) UUIDs drawn from ``rng``: the same seed gives the same ids."""
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexadecimal = np.frombuffer(raw.tobytes().hex().encode("ascii"), dtype=np.uint8)
    text = np.full((count, 36), ord("-"), dtype=np.uint8)
    digits = [i for i in range(36) if i not in (8, 13, 18, 23)]
    text[:, digits] = hexadecimal.reshape(count, 32)
    return np.asarray(text.view("S36").ravel().astype(_TEXT))


def _rank_within(group: NDArray[np.intp]) -> NDArray[np.int64]:
    """Each item's position among the items of its group, in the order given."""
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    first = np.searchsorted(sorted_group, sorted_group)
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = np.arange(group.size) - first
    return rank


def _padded(numbers: NDArray[np.int64], width: int) -> NDArray[np.str_]:
    return np.asarray(np.strings.zfill(np.asarray(numbers).astype(_TEXT), width))


def _pick(choices: tuple[str, ...], count: int, rng: np.random.Generator) -> NDArray[np.str_]:
    return np.asarray(np.array(choices, dtype=_TEXT)[rng.integers(0, len(choices), count)])


def _names(international: NDArray[np.bool_], rng: np.random.Generator) -> NDArray[np.str_]:
    count = international.size
    female = rng.random(count) < 0.5
    given = np.where(female, _pick(FEMALE_NAMES, count, rng), _pick(MALE_NAMES, count, rng))
    surname = _pick(SURNAMES, count, rng)
    surname = np.where(female, np.strings.add(surname, "a"), surname)
    domestic = np.strings.add(np.strings.add(given, " "), surname)
    return np.where(international, _pick(INTERNATIONAL_NAMES, count, rng), domestic)


def _windows(count: int, rng: np.random.Generator) -> tuple[NDArray[np.str_], NDArray[np.str_]]:
    """Election day from before the opening (or the count) until the next morning."""
    zone = zoneinfo.ZoneInfo(TIME_ZONE)
    day, next_day = ELECTION_DATE, ELECTION_DATE + datetime.timedelta(days=1)
    starts = np.array(
        [datetime.datetime.combine(day, t, zone).isoformat() for t in (WHOLE_DAY, COUNT_ONLY)],
        dtype=_TEXT,
    )
    until = datetime.datetime.combine(next_day, UNTIL, zone).isoformat()
    count_only = (rng.random(count) < COUNT_ONLY_SHARE).astype(np.intp)
    return np.asarray(starts[count_only]), np.full(count, until, dtype=_TEXT)
