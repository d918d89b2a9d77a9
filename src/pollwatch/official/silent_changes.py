"""Silent changes: a figure a later publication changed without saying so.

Computed from the whole history of an election's official results, so that recording them is
the complete truth for their own scope (kind ``silent-change``, the whole election): each
import recomputes them all, and no other recording — the cross-check's, a station's — ever
resolves one. A place has several rows only where a publication changed it (a snapshot stores
only new and changed places), so the history read is small however large the election.

One finding per place, line and publication: ``right`` is the value before, ``left`` the value
after, ``delta`` what was added (negative: taken away). The fingerprint names the snapshot
that made the change, so a figure changed twice is two findings.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pollwatch.core.protocol import ProtocolTemplateSpec
from pollwatch.findings.columns import Column, figure_columns, figures_matrix, read_columns
from pollwatch.findings.computed import ComputedFinding
from pollwatch.official.models import OfficialResult
from pollwatch.registry.models import Election

SILENT_CHANGE = "silent-change"


def silent_changes(election: Election, template: ProtocolTemplateSpec) -> list[ComputedFinding]:
    found: list[ComputedFinding] = []
    for place in ("station", "commission"):
        found += _changes_at(election, template, place)
    return found


def _changes_at(
    election: Election, template: ProtocolTemplateSpec, place: str
) -> list[ComputedFinding]:
    table = OfficialResult._meta.db_table
    column = f"{place}_id"
    read = read_columns(
        [
            Column("place", column),
            Column("snapshot", "snapshot_id"),
            *figure_columns(template.line_keys),
        ],
        f"FROM {table} WHERE election_id = %s AND {column} IN (SELECT {column} FROM {table} "
        f"WHERE election_id = %s AND {column} IS NOT NULL GROUP BY {column} HAVING COUNT(*) > 1)",
        [election.pk, election.pk],
    )
    values, missing = figures_matrix(read, template.line_keys)
    order = np.lexsort((read["snapshot"], read["place"]))
    places: npt.NDArray[np.int64] = read["place"][order]
    snapshots: npt.NDArray[np.int64] = read["snapshot"][order]
    values, missing = values[order], missing[order]
    same_place = places[1:] == places[:-1]
    compared = same_place[:, None] & ~missing[1:] & ~missing[:-1]
    row, line = np.nonzero(compared & (values[1:] != values[:-1]))
    found = []
    for i, j in zip(row.tolist(), line.tolist(), strict=True):
        key = template.line_keys[j]
        before, after = int(values[i, j]), int(values[i + 1, j])
        place_id, snapshot = int(places[i + 1]), int(snapshots[i + 1])
        found.append(
            ComputedFinding(
                fingerprint=f"{SILENT_CHANGE}|{place}:{place_id}|line:{key}|snapshot:{snapshot}",
                kind=SILENT_CHANGE,
                severity="error",
                station_id=place_id if place == "station" else None,
                commission_id=place_id if place == "commission" else None,
                lines=(key,),
                left=after,
                right=before,
                delta=after - before,
                detail={"snapshot": snapshot, "previous_snapshot": int(snapshots[i])},
            )
        )
    return found
