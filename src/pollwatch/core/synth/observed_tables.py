"""The observers' and the commissions' side of a synthetic election as tables to write.

- organisations.csv   `code,name,kind,share_with_mission,share_with_organisations` (yes/no)
- observers.csv       `organisation,code,full_name,contact,languages,accreditation_number`
                      (languages: space-separated codes)
- assignments.csv     `organisation,observer,station,starts_at,ends_at` (ISO 8601, with offset)
- copies.csv          `id,station,organisation,observer,all_members_signed,certified` and one
                      column per protocol line (the copies as the observers wrote them)
- official_stations.csv  `code` (a station's) and the line keys: the published station results
- official_totals.csv    `code` (a commission's) and the line keys: every region's and
                         territorial's total (official.mapping's native format for both)
- official_stations_revised.csv, official_totals_revised.csv: a later publication of the
  few stations (and the totals above them) whose figures were changed without notice
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from numpy.dtypes import StringDType

from pollwatch.core.synth.election import SyntheticElection
from pollwatch.core.synth.protocol import LINE_KEYS
from pollwatch.core.synth.table import Cell, Table, slices

ORGANISATIONS_HEADER = (
    "code",
    "name",
    "kind",
    "share_with_mission",
    "share_with_organisations",
)
OBSERVERS_HEADER = (
    "organisation",
    "code",
    "full_name",
    "contact",
    "languages",
    "accreditation_number",
)
ASSIGNMENTS_HEADER = ("organisation", "observer", "station", "starts_at", "ends_at")
COPIES_HEADER = (
    "id",
    "station",
    "organisation",
    "observer",
    "all_members_signed",
    "certified",
    *LINE_KEYS,
)
OFFICIAL_STATIONS_HEADER = ("code", *LINE_KEYS)
OFFICIAL_TOTALS_HEADER = ("code", *LINE_KEYS)

_YES_NO = np.array(["no", "yes"], dtype=StringDType())


def observed_tables(election: SyntheticElection) -> tuple[Table, ...]:
    observation = election.observation
    publication = election.publication
    structure = election.structure
    station_codes = structure.station_codes
    organisation_codes = np.array([o.code for o in observation.organisations], dtype=StringDType())
    observers = observation.observer_station.size

    def organisation_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        yield [
            (
                o.code,
                o.name,
                o.kind,
                _yes_no(o.share_with_mission),
                _yes_no(o.share_with_organisations),
            )
            for o in observation.organisations
        ]

    def observer_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        for part in slices(observers):
            yield list(
                zip(
                    organisation_codes[observation.observer_organisation[part]].tolist(),
                    observation.observer_code[part].tolist(),
                    observation.observer_name[part].tolist(),
                    observation.observer_contact[part].tolist(),
                    observation.observer_languages[part].tolist(),
                    observation.accreditation_number[part].tolist(),
                    strict=True,
                )
            )

    def assignment_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        for part in slices(observers):
            yield list(
                zip(
                    organisation_codes[observation.observer_organisation[part]].tolist(),
                    observation.observer_code[part].tolist(),
                    station_codes[observation.observer_station[part]].tolist(),
                    observation.starts_at[part].tolist(),
                    observation.ends_at[part].tolist(),
                    strict=True,
                )
            )

    def copy_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        observer = observation.copy_observer
        for part in slices(observation.copies):
            yield list(
                zip(
                    observation.copy_id[part].tolist(),
                    station_codes[observation.copy_station[part]].tolist(),
                    organisation_codes[observation.copy_organisation[part]].tolist(),
                    observation.observer_code[observer[part]].tolist(),
                    _YES_NO[observation.all_members_signed[part].astype(np.intp)].tolist(),
                    _YES_NO[observation.certified[part].astype(np.intp)].tolist(),
                    *publication.copy_figures[part].T.tolist(),
                    strict=True,
                )
            )

    published = publication.published_stations
    revised = election.faults.revised_station
    first_row = np.searchsorted(published, revised)

    def official_station_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        for part in slices(published.size):
            stations = published[part]
            figures = publication.station_figures[stations]
            # The first publication: revised stations as they were first published.
            inside = (first_row >= part.start) & (first_row < part.stop)
            figures[first_row[inside] - part.start] = publication.station_before[inside]
            yield list(zip(station_codes[stations].tolist(), *figures.T.tolist(), strict=True))

    def official_total_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        for codes, totals, revised_rows, before in (
            (
                structure.region_codes,
                publication.region_totals,
                publication.revised_region,
                publication.region_before,
            ),
            (
                structure.territorial_codes,
                publication.territorial_totals,
                publication.revised_territorial,
                publication.territorial_before,
            ),
        ):
            first = totals.copy()
            first[revised_rows] = before
            yield list(zip(codes, *first.T.tolist(), strict=True))

    def revised_station_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        figures = publication.station_figures[revised].T.tolist()
        yield list(zip(station_codes[revised].tolist(), *figures, strict=True))

    def revised_total_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        for codes, totals, rows in (
            (structure.region_codes, publication.region_totals, publication.revised_region),
            (
                structure.territorial_codes,
                publication.territorial_totals,
                publication.revised_territorial,
            ),
        ):
            yield [(codes[row], *totals[row].tolist()) for row in rows.tolist()]

    return (
        Table(
            "organisations",
            ORGANISATIONS_HEADER,
            len(observation.organisations),
            organisation_rows,
        ),
        Table("observers", OBSERVERS_HEADER, observers, observer_rows),
        Table("assignments", ASSIGNMENTS_HEADER, observers, assignment_rows),
        Table("copies", COPIES_HEADER, observation.copies, copy_rows),
        Table(
            "official_stations",
            OFFICIAL_STATIONS_HEADER,
            published.size,
            official_station_rows,
        ),
        Table(
            "official_totals",
            OFFICIAL_TOTALS_HEADER,
            len(structure.region_codes) + len(structure.territorial_codes),
            official_total_rows,
        ),
        Table(
            "official_stations_revised",
            OFFICIAL_STATIONS_HEADER,
            revised.size,
            revised_station_rows,
        ),
        Table(
            "official_totals_revised",
            OFFICIAL_TOTALS_HEADER,
            publication.revised_region.size + publication.revised_territorial.size,
            revised_total_rows,
        ),
    )


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"
