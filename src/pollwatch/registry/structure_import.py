"""Write an election's structure — a validated StructurePlan — into the registry.

One transaction, all or nothing. Rows are matched by code: new codes are created, changed rows
updated, identical rows left untouched, so importing the same file twice changes nothing.
Commissions and stations whose code is absent from the file are left in place: deleting is not
an import's job (a station may already carry observers' protocol copies).

After the write, every commission's depth and its totals over the whole subtree (stations,
registered voters) are recomputed from the database, in SQL and NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from pollwatch.bulk import Merge, StagingTable, copy_rows
from pollwatch.core.structure import (
    OnRows,
    StructurePlan,
    load_mapping,
    load_preset,
    read_plan,
)
from pollwatch.core.structure.totals import subtree_totals
from pollwatch.registry.models import Commission, Election, PollingStation

OnStage = Callable[[str], None]

# A station's columns as the file gives them, in the order of StationColumns.rows(), with their
# staging types. The commission comes by code and is stored by id; the rest are stored as given.
_STATION_COLUMNS = {
    "code": "text",
    "number": "text",
    "commission_code": "text",
    "registered_voters": "int",
    "address": "text",
    "latitude": "float",
    "longitude": "float",
}


def _stored_column(column: str) -> str:
    """The polling-station table's column for a file column."""
    return "commission_id" if column == "commission_code" else column


class _Counts(NamedTuple):
    created: int
    updated: int
    absent: int  # rows of the election whose code the file does not mention


@dataclass(frozen=True)
class ImportReport:
    commissions_created: int
    commissions_updated: int
    commissions_unchanged: int
    commissions_not_in_file: int
    stations_created: int
    stations_updated: int
    stations_unchanged: int
    stations_not_in_file: int
    registered_voters: int  # over the stations in the file
    levels: list[str]
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


def read_structure(
    stations: Path,
    commissions: Path | None = None,
    *,
    preset: str | None = None,
    mapping_file: Path | None = None,
    stations_sheet: str | None = None,
    commissions_sheet: str | None = None,
    on_rows: OnRows | None = None,
) -> StructurePlan:
    """Read and validate the files through a preset or a mapping file (exactly one).

    Raises InputError naming the file, row and column of every problem.
    """
    if preset is not None and mapping_file is None:
        mapping = load_preset(preset)
    elif mapping_file is not None and preset is None:
        mapping = load_mapping(mapping_file)
    else:
        raise ValueError("give exactly one of preset and mapping_file")
    return read_plan(
        mapping,
        stations,
        commissions,
        stations_sheet=stations_sheet,
        commissions_sheet=commissions_sheet,
        on_rows=on_rows,
    )


def import_structure(
    election: Election,
    plan: StructurePlan,
    *,
    dry_run: bool = False,
    on_stage: OnStage | None = None,
    on_rows: OnRows | None = None,
) -> ImportReport:
    """Write `plan` into `election`; with dry_run, do everything and roll it back."""
    stage = on_stage or (lambda _: None)
    with transaction.atomic(), connection.cursor() as cursor:
        # Two imports into one election at once would race on the same codes: serialise them.
        # NO KEY: rows elsewhere that merely refer to the election are not held up meanwhile.
        Election.objects.select_for_update(no_key=True).filter(pk=election.pk).exists()
        stage("commissions")
        commissions = _write_commissions(cursor, election.pk, plan)
        stage("stations")
        stations = _write_stations(cursor, election.pk, plan, on_rows)
        stage("totals")
        recompute_totals(cursor, election.pk)
        report = ImportReport(
            commissions_created=commissions.created,
            commissions_updated=commissions.updated,
            commissions_unchanged=len(plan.commissions) - commissions.created - commissions.updated,
            commissions_not_in_file=commissions.absent,
            stations_created=stations.created,
            stations_updated=stations.updated,
            stations_unchanged=len(plan.stations) - stations.created - stations.updated,
            stations_not_in_file=stations.absent,
            registered_voters=plan.registered_voters,
            levels=plan.levels(),
            warnings=list(plan.warnings),
            dry_run=dry_run,
        )
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run and (stations.created or commissions.created):
        _refresh_planner_statistics()
    return report


def _refresh_planner_statistics() -> None:
    """Let PostgreSQL's planner see a bulk load at once, not when autovacuum next passes.

    Without statistics it sorts the whole station table for a page of the station list instead
    of walking the index (measured in bench/station_latency.py). SQLite's planner needs none.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {PollingStation._meta.db_table}, {Commission._meta.db_table}")


def _write_commissions(cursor: CursorWrapper, election_id: int, plan: StructurePlan) -> _Counts:
    staging = StagingTable(
        "pollwatch_staged_commissions",
        {"code": "text", "name": "text", "level": "text", "parent_code": "text", "depth": "int"},
    )
    rows = ((c.code, c.name, c.level, c.parent_code, c.depth) for c in plan.commissions)
    with staging.loaded(cursor, rows, key="code") as staged:
        merge = Merge(
            target=Commission._meta.db_table,
            source=staged,
            scope={"election_id": election_id},
            key="code",
            values={"name": "s.name", "level": "s.level", "parent_id": "p.id"},
            joins=(
                f"LEFT JOIN {Commission._meta.db_table} AS p "
                f"ON p.election_id = {int(election_id)} AND p.code = s.parent_code"
            ),
            defaults={"depth": "0", "station_count": "0", "registered_voters": "0"},
        )
        # Top down, so that each level's parents exist when it is inserted.
        created = sum(
            merge.insert_missing(cursor, where=f"s.depth = {depth}")
            for depth in sorted({c.depth for c in plan.commissions})
        )
        updated = merge.update_changed(cursor)
        absent = merge.count_in_scope(cursor) - len(plan.commissions)
    return _Counts(created, updated, absent)


def _write_stations(
    cursor: CursorWrapper, election_id: int, plan: StructurePlan, on_rows: OnRows | None
) -> _Counts:
    table = PollingStation._meta.db_table
    cursor.execute(f"SELECT 1 FROM {table} WHERE election_id = %s LIMIT 1", [election_id])
    if cursor.fetchone() is None:
        return _Counts(_create_stations(cursor, election_id, plan, on_rows), 0, 0)
    staging = StagingTable("pollwatch_staged_stations", _STATION_COLUMNS)
    with staging.loaded(cursor, plan.stations.rows(), key="code", on_rows=on_rows) as staged:
        merge = Merge(
            target=table,
            source=staged,
            scope={"election_id": election_id},
            key="code",
            values={
                _stored_column(column): "c.id" if column == "commission_code" else f"s.{column}"
                for column in _STATION_COLUMNS
                if column != "code"
            },
            joins=(
                f"JOIN {Commission._meta.db_table} AS c "
                f"ON c.election_id = {int(election_id)} AND c.code = s.commission_code"
            ),
        )
        updated = merge.update_changed(cursor)
        created = merge.insert_missing(cursor)
        absent = merge.count_in_scope(cursor) - len(plan.stations)
    return _Counts(created, updated, absent)


def _create_stations(
    cursor: CursorWrapper, election_id: int, plan: StructurePlan, on_rows: OnRows | None
) -> int:
    """The first import: nothing to merge with, so the rows go straight into the table."""
    cursor.execute(
        f"SELECT code, id FROM {Commission._meta.db_table} WHERE election_id = %s", [election_id]
    )
    commission_ids = dict(cursor.fetchall())
    rows = (
        (election_id, code, number, commission_ids[commission], voters, address, lat, lon)
        for code, number, commission, voters, address, lat, lon in plan.stations.rows()
    )
    columns = ["election_id", *map(_stored_column, _STATION_COLUMNS)]
    copy_rows(cursor, PollingStation._meta.db_table, columns, rows, on_rows)
    return len(plan.stations)


def recompute_totals(cursor: CursorWrapper, election_id: int) -> int:
    """Recompute every commission's depth and subtree totals; returns how many rows changed."""
    commission_table = Commission._meta.db_table
    cursor.execute(
        f"SELECT id, parent_id, depth, station_count, registered_voters FROM {commission_table} "
        "WHERE election_id = %s ORDER BY id",
        [election_id],
    )
    rows = cursor.fetchall()
    if not rows:
        return 0
    table = np.array([[-1 if v is None else v for v in row] for row in rows], dtype=np.int64)
    ids, parent_ids, old_depth, old_count, old_voters = table.T
    cursor.execute(
        f"SELECT commission_id, COUNT(*), SUM(registered_voters) "
        f"FROM {PollingStation._meta.db_table} WHERE election_id = %s GROUP BY commission_id",
        [election_id],
    )
    direct = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 3)
    depth, count, voters = subtree_totals(ids, parent_ids, *direct.T)

    changed = (depth != old_depth) | (count != old_count) | (voters != old_voters)
    if not changed.any():
        return 0
    return _write_totals(
        cursor, election_id, ids[changed], depth[changed], count[changed], voters[changed]
    )


def _write_totals(
    cursor: CursorWrapper,
    election_id: int,
    ids: np.ndarray,
    depth: np.ndarray,
    count: np.ndarray,
    voters: np.ndarray,
) -> int:
    staging = StagingTable(
        "pollwatch_staged_totals",
        {"id": "int", "depth": "int", "station_count": "int", "registered_voters": "int"},
    )
    rows = zip(ids.tolist(), depth.tolist(), count.tolist(), voters.tolist(), strict=True)
    with staging.loaded(cursor, rows, key="id") as staged:
        merge = Merge(
            target=Commission._meta.db_table,
            source=staged,
            scope={"election_id": election_id},
            key="id",
            values={
                "depth": "s.depth",
                "station_count": "s.station_count",
                "registered_voters": "s.registered_voters",
            },
        )
        written = merge.update_changed(cursor)
    return written
