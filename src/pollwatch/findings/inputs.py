"""The cross-check's inputs read from the database: hierarchy, current copies, current results.

One reader serves a whole election and some of its stations: for stations it reads the same
tables restricted to them (and their own commissions, each the top of a hierarchy of the
stations read under it), and no commission totals — those are checked against all their
stations, election-wide only.

What "current" means: a copy nobody superseded (a correction replaces the copy it names), and
an official result marked ``current`` (the latest snapshot that published the place).
A copy is expected — a missing one is a finding — where an observer is assigned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction

from pollwatch.accreditation.models import Assignment
from pollwatch.core.crosscheck import Copies, Figures, Hierarchy, OfficialResults
from pollwatch.core.crosscheck.inputs import BoolArray, IndexArray, Int64Array
from pollwatch.core.protocol import ProtocolTemplateSpec
from pollwatch.findings.columns import (
    MISSING,
    Column,
    figure_columns,
    figures_matrix,
    read_columns,
)
from pollwatch.official.models import OfficialResult
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.registry.models import Commission, Election, PollingStation
from pollwatch.rows import any_of

# What pg_export_snapshot() returns, e.g. 00000003-0000001B-1.
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")

# The nil UUID stands for "corrects no copy": columns read in bulk must never be NULL.
_NIL_UUID = "'00000000-0000-0000-0000-000000000000'"


T = TypeVar("T")


class InputsError(ValueError):
    """Rows that do not fit together (a copy at a station of another election)."""


@dataclass(frozen=True)
class CrosscheckInputs:
    template: ProtocolTemplateSpec
    hierarchy: Hierarchy  # with the database ids of stations and commissions
    copies: Copies  # ids: row numbers; ``copy_uuids`` holds their primary keys
    copy_uuids: npt.NDArray[np.void]  # 16 bytes per copy row
    official_stations: OfficialResults
    official_totals: OfficialResults
    copy_expected: BoolArray


def load_inputs(
    election: Election,
    template: ProtocolTemplateSpec,
    station_ids: Sequence[int] | None = None,
    *,
    parallel: bool = False,
) -> CrosscheckInputs:
    """Everything ``core.crosscheck`` needs for the election, or for some of its stations.

    ``parallel`` (PostgreSQL; call inside the transaction that locked the scope, and only if
    it has written nothing the copies depend on): the copies, most of the work, are read on a
    second connection sharing this transaction's snapshot, while this one reads the rest.
    """
    lines = template.line_keys
    pending: Future[dict[str, npt.NDArray[Any]]] | None = None
    if parallel and station_ids is None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        pool = ThreadPoolExecutor(max_workers=1)
        pending = pool.submit(
            _in_snapshot, snapshot, lambda: _current_copies(election, lines, None)
        )
        pool.shutdown(wait=False)
    try:
        hierarchy_rows = _read_hierarchy(election, station_ids)
    except BaseException:
        if pending is not None:
            pending.result()  # let the reader finish before the transaction goes away
        raise
    hierarchy = hierarchy_rows.hierarchy
    known_stations = hierarchy.station_id()

    copies = _current_copies(election, lines, station_ids) if pending is None else pending.result()
    values, missing = figures_matrix(copies, lines)
    copy_station = _index_of(known_stations, copies["station"], "protocol copies")

    where, params = _in_scope("", "station_id", election, station_ids)
    results = read_columns(
        [
            Column("station", "station_id"),
            Column("commission", "commission_id"),
            *figure_columns(lines),
        ],
        f"FROM {OfficialResult._meta.db_table} WHERE {where} AND current",
        params,
        few=station_ids is not None,
    )
    result_values, result_missing = figures_matrix(results, lines)
    at_station = results["station"] >= 0
    official_stations = OfficialResults(
        _index_of(known_stations, results["station"][at_station], "official station results"),
        Figures(result_values[at_station], result_missing[at_station]),
    )
    if station_ids is None:
        at_commission = ~at_station
        official_totals = OfficialResults(
            _index_of(
                hierarchy.commission_id(),
                results["commission"][at_commission],
                "official commission totals",
            ),
            Figures(result_values[at_commission], result_missing[at_commission]),
        )
    else:
        official_totals = OfficialResults.none(len(lines))

    expected = hierarchy_rows.assigned.astype(np.bool_)

    return CrosscheckInputs(
        template=template,
        hierarchy=hierarchy,
        copies=Copies(copy_station, copies["organisation"], Figures(values, missing), ids=None),
        copy_uuids=copies["id"],
        official_stations=official_stations,
        official_totals=official_totals,
        copy_expected=expected,
    )


def _in_snapshot(snapshot: str, read: Callable[[], T]) -> T:
    """Run ``read`` on this thread's own connection, in the exported ``snapshot``."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # A utility statement takes no bound parameter: the id, PostgreSQL's own
            # (pg_export_snapshot), is checked and written in as a literal.
            if not _SNAPSHOT_ID.fullmatch(snapshot):
                raise InputsError(f"unexpected snapshot id {snapshot!r}")
            cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            return read()
    finally:
        connection.close()


def _current_copies(
    election: Election, lines: tuple[str, ...], station_ids: Sequence[int] | None
) -> dict[str, npt.NDArray[Any]]:
    """The copies nobody superseded. Each row carries the id of the copy it corrects, so the
    superseded ones are dropped here: an anti-join in the database costs seconds at millions.
    (A correction is always of a copy at the same station.)"""
    where, params = _in_scope("c.", "station_id", election, station_ids)
    read = read_columns(
        [
            Column("id", "c.id", "uuid"),
            Column("supersedes", f"COALESCE(c.supersedes_id, {_NIL_UUID})", "uuid"),
            Column("station", "c.station_id"),
            Column("organisation", "c.organisation_id"),
            *figure_columns(lines, "c"),
        ],
        f"FROM {ProtocolCopy._meta.db_table} AS c WHERE {where}",
        params,
        few=station_ids is not None,
    )
    corrected = read["supersedes"][read["supersedes"] != np.void(bytes(16))]
    if corrected.size == 0:
        return read
    # Compare the first 8 bytes vectorised, then the whole id of the few candidates.
    head = read["id"].view(np.uint64)[::2]
    candidates = np.flatnonzero(np.isin(head, corrected.view(np.uint64)[::2]))
    gone = {bytes(value) for value in corrected}
    superseded = [i for i in candidates.tolist() if bytes(read["id"][i]) in gone]
    keep = np.ones(head.size, dtype=np.bool_)
    keep[superseded] = False
    return {name: column[keep] for name, column in read.items()}


def load_hierarchy(election: Election) -> Hierarchy:
    """The election's commissions and stations, each sorted by database id."""
    return _read_hierarchy(election, None).hierarchy


@dataclass(frozen=True)
class _HierarchyRows:
    hierarchy: Hierarchy
    assigned: Int64Array  # per station: 1 where an observer is assigned


def _read_hierarchy(election: Election, station_ids: Sequence[int] | None) -> _HierarchyRows:
    """For some stations: those stations under their own commissions, each a top."""
    stations_table = PollingStation._meta.db_table
    assigned = (
        f"CASE WHEN EXISTS (SELECT 1 FROM {Assignment._meta.db_table} AS a "
        "WHERE a.station_id = p.id) THEN 1 ELSE 0 END"
    )
    where, params = _in_scope("p.", "id", election, station_ids)
    stations = read_columns(
        [
            Column("id", "p.id"),
            Column("commission", "p.commission_id"),
            Column("assigned", assigned),
        ],
        f"FROM {stations_table} AS p WHERE {where}",
        params,
        few=station_ids is not None,
    )
    if station_ids is None:
        commissions = read_columns(
            [Column("id", "id"), Column("parent", "parent_id")],
            f"FROM {Commission._meta.db_table} WHERE election_id = %s",
            [election.pk],
        )
    else:
        tops = np.unique(stations["commission"])
        commissions = {"id": tops, "parent": np.full(tops.size, MISSING, dtype=np.int64)}
    commission_order = np.argsort(commissions["id"], kind="stable")
    commission_ids = commissions["id"][commission_order]
    parent_ids = commissions["parent"][commission_order]
    # A parent outside the commissions read (the top's MISSING) makes a top.
    parent = _index_of(commission_ids, parent_ids, "commission parents", absent_ok=True)
    station_order = np.argsort(stations["id"], kind="stable")
    hierarchy = Hierarchy(
        commission_parent=parent,
        station_commission=_index_of(
            commission_ids, stations["commission"][station_order], "station commissions"
        ),
        station_ids=stations["id"][station_order],
        commission_ids=commission_ids,
    )
    return _HierarchyRows(hierarchy, stations["assigned"][station_order])


def _in_scope(
    prefix: str, station: str, election: Election, station_ids: Sequence[int] | None
) -> tuple[str, list[Any]]:
    """The condition restricting rows (``prefix``: their table's alias and a dot, or nothing)
    to the election, and to some stations by their ``station`` column if given; its params."""
    if station_ids is None:
        return f"{prefix}election_id = %s", [election.pk]
    condition, params = any_of(f"{prefix}{station}", station_ids, connection)
    return f"{prefix}election_id = %s AND {condition}", [election.pk, *params]


def _index_of(
    ids: Int64Array, wanted: Int64Array, what: str, *, absent_ok: bool = False
) -> IndexArray:
    """Positions of ``wanted`` in the sorted ``ids``; -1 for absent ones if ``absent_ok``."""
    position = np.searchsorted(ids, wanted).astype(np.intp)
    inside = position < ids.size
    found = np.zeros(wanted.size, dtype=np.bool_)
    found[inside] = ids[position[inside]] == wanted[inside]
    if not found.all():
        if not absent_ok:
            stray = wanted[~found][:5].tolist()
            raise InputsError(f"{what}: ids {stray} are not in this election's registry")
        position[~found] = -1
    return position
