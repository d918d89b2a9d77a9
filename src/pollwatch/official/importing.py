"""Importing an official publication: one snapshot per import, all or nothing.

``read_official`` parses and checks the file (every problem named by file, row and column);
``import_official`` resolves its places against the registry, compares them with the current
results and writes, in one transaction:

- an OfficialSnapshot (source, time, the file's SHA-256, how many rows it published);
- a new current OfficialResult for every place published for the first time or whose figures
  changed — a snapshot stores what it changed, so re-publishing a million unchanged rows costs
  nothing but the comparison; the rows it replaces stay, no longer current;
- the silent-change findings (``silent_changes``), for every figure a later publication changed;
- the snapshot's record in the election's log.

Re-importing the very file (same SHA-256) when nothing would change creates nothing: the
report names the snapshot that imported it. Another file with the same figures does create a
snapshot (the publication was seen again at that time), with no rows.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from pollwatch.bulk import StagingTable, copy_rows
from pollwatch.core.progress import OnRows
from pollwatch.core.structure.problems import Problems
from pollwatch.core.tabular import InputError, open_table
from pollwatch.findings.columns import MISSING, Column, figure_columns, figures_matrix, read_columns
from pollwatch.findings.recording import RecordingCounts, Scope, lock_scope, record_findings
from pollwatch.ledger.appending import append_row
from pollwatch.official.json_table import is_json, open_json_table
from pollwatch.official.mapping import (
    OfficialMapping,
    load_official_mapping,
    load_official_preset,
    native_mapping,
)
from pollwatch.official.models import OfficialResult, OfficialSnapshot
from pollwatch.official.reading import OfficialTable, read_official_table
from pollwatch.official.silent_changes import SILENT_CHANGE, silent_changes
from pollwatch.registry.models import Commission, Election, PollingStation
from pollwatch.registry.protocol_templates import spec_of

LOG_KIND = "official-snapshot"
_STAGED_IDS = StagingTable("pollwatch_staged_official_ids", {"id": "int"})


@dataclass(frozen=True)
class ImportReport:
    snapshot: OfficialSnapshot
    created: bool  # False: this very file was imported before and nothing changed
    rows: int  # places the file publishes
    first_published: int  # places with no earlier result
    changed: int  # places whose figures differ from their current result
    unchanged: int
    silent_changes: RecordingCounts | None  # None when no snapshot was created


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_official(
    path: Path,
    election: Election,
    *,
    preset: str | None = None,
    mapping_file: Path | None = None,
    totals: bool = False,
    sheet: str | None = None,
    on_rows: OnRows | None = None,
) -> OfficialTable:
    """Parse ``path`` (CSV, zipped CSV, XLSX or JSON) with a preset, a mapping file or, with
    neither, the native format. Raises InputError naming every problem."""
    template = spec_of(election.template)
    mapping = _mapping(preset, mapping_file, template.line_keys)
    if mapping.template is not None and mapping.template != template.key:
        raise InputError(
            f"mapping {mapping.name!r} is written for template {mapping.template!r}; election "
            f"{election.slug!r} uses {template.key!r}"
        )
    if is_json(Path(path)):
        if not Path(path).is_file():
            raise InputError(f"{path}: file not found")
        return read_official_table(
            open_json_table(Path(path)), mapping, template.line_keys, totals=totals, on_rows=on_rows
        )
    with open_table(Path(path), sheet) as table:
        return read_official_table(
            table, mapping, template.line_keys, totals=totals, on_rows=on_rows
        )


def _mapping(
    preset: str | None, mapping_file: Path | None, line_keys: tuple[str, ...]
) -> OfficialMapping:
    if preset is not None and mapping_file is not None:
        raise ValueError("give at most one of preset and mapping_file")
    if preset is not None:
        return load_official_preset(preset)
    if mapping_file is not None:
        return load_official_mapping(mapping_file)
    return native_mapping(line_keys)


def already_imported(election: Election, sha256: str, *, totals: bool) -> OfficialSnapshot | None:
    """The latest snapshot of this kind (station results or commission totals) if it came from
    the very same bytes: then nothing can have changed since, and the file need not be read."""
    snapshots = OfficialSnapshot.objects.filter(election=election)
    snapshots = (
        snapshots.filter(commission_rows__gt=0) if totals else snapshots.filter(station_rows__gt=0)
    )
    latest = snapshots.order_by("-imported_at", "-pk").first()
    return latest if latest is not None and latest.sha256 == sha256 else None


def import_official(
    election: Election,
    table: OfficialTable,
    *,
    source: str,
    sha256: str,
    imported_by: User | None = None,
    now: datetime.datetime | None = None,
) -> ImportReport:
    """Store ``table`` as a snapshot of ``election``'s official results (see the module)."""
    template = spec_of(election.template)
    place_ids = _resolve_places(election, table)
    with transaction.atomic():
        lock_scope(election, Scope.election(frozenset({SILENT_CHANGE})))
        latest = already_imported(election, sha256, totals=table.totals)
        if latest is not None:
            return ImportReport(latest, False, len(table.codes), 0, 0, len(table.codes), None)
        current = _current(election, table.totals, template.line_keys)
        new_values = _in_template_columns(table, template.line_keys)
        changed_rows, first = _changes(place_ids, new_values, current)
        changed = int(changed_rows.size) - first
        if changed_rows.size == 0:
            earlier = (
                OfficialSnapshot.objects.filter(election=election, sha256=sha256)
                .order_by("-imported_at", "-pk")
                .first()
            )
            if earlier is not None:
                return ImportReport(earlier, False, len(table.codes), 0, 0, len(table.codes), None)
        snapshot = OfficialSnapshot.objects.create(
            election=election,
            source=source,
            sha256=sha256,
            imported_at=now or timezone.now(),
            imported_by=imported_by,
            station_rows=0 if table.totals else len(table.codes),
            commission_rows=len(table.codes) if table.totals else 0,
        )
        with connection.cursor() as cursor:
            replaced = current.row_id[current.position_of(place_ids[changed_rows])]
            replaced = replaced[replaced >= 0]
            if replaced.size:
                with _STAGED_IDS.loaded(cursor, ((int(i),) for i in replaced), key="id"):
                    cursor.execute(
                        f"UPDATE {OfficialResult._meta.db_table} SET current = %s "
                        f"WHERE id IN (SELECT id FROM {_STAGED_IDS.name})",
                        [False],
                    )
            _write_rows(cursor, election, snapshot, table, place_ids, changed_rows)
        counts = record_findings(
            election,
            Scope.election(frozenset({SILENT_CHANGE})),
            silent_changes(election, template),
            now=snapshot.imported_at,
            locked=True,
        )
        append_row(election, LOG_KIND, snapshot)
    if connection.vendor == "postgresql" and changed_rows.size > 10_000:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {OfficialResult._meta.db_table}")
    return ImportReport(
        snapshot=snapshot,
        created=True,
        rows=len(table.codes),
        first_published=first,
        changed=changed,
        unchanged=len(table.codes) - int(changed_rows.size),
        silent_changes=counts,
    )


def _resolve_places(election: Election, table: OfficialTable) -> npt.NDArray[np.int64]:
    """The registry id of every row's place; every unknown one is a problem (nothing stored)."""
    model = Commission if table.totals else PollingStation
    ids = dict(model.objects.filter(election=election).values_list("code", "id").iterator(10_000))
    resolved = np.fromiter((ids.get(code, -1) for code in table.codes), np.int64, len(table.codes))
    unknown = np.flatnonzero(resolved < 0)
    if unknown.size:
        problems = Problems()
        what = "commission" if table.totals else "station"
        for i in unknown.tolist():
            problems.add(
                table.source,
                table.rows[i],
                table.code_column,
                f"{what} {table.codes[i]!r} is not in the registry of election {election.slug!r}",
            )
        problems.raise_if_any()
    return resolved


@dataclass(frozen=True)
class _Current:
    """The current results of one kind of place, sorted by place id."""

    place: npt.NDArray[np.int64]
    row_id: npt.NDArray[np.int64]
    values: npt.NDArray[np.int64]  # template lines; MISSING where the row lacks a line

    def position_of(self, place_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
        """Each place's position here, or -1 (the last row's id is then never read: see
        ``row_id`` with a sentinel appended in ``_current``)."""
        position = np.searchsorted(self.place, place_ids).astype(np.intp)
        inside = position < self.place.size
        found = np.zeros(place_ids.size, dtype=np.bool_)
        found[inside] = self.place[position[inside]] == place_ids[inside]
        return np.where(found, position, -1)


def _current(election: Election, totals: bool, line_keys: tuple[str, ...]) -> _Current:
    place = "commission_id" if totals else "station_id"
    read = read_columns(
        [Column("place", place), Column("id", "id"), *figure_columns(line_keys)],
        f"FROM {OfficialResult._meta.db_table} "
        f"WHERE election_id = %s AND current AND {place} IS NOT NULL",
        [election.pk],
    )
    values, missing = figures_matrix(read, line_keys)
    values[missing] = MISSING
    order = np.argsort(read["place"], kind="stable")
    # A sentinel row id at the end, so that position -1 reads "no row" (-1).
    row_id = np.append(read["id"][order], -1)
    return _Current(read["place"][order], row_id, values[order])


def _in_template_columns(table: OfficialTable, line_keys: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """The file's figures laid out in the template's columns, MISSING for lines it lacks."""
    values = np.full((len(table.codes), len(line_keys)), MISSING, dtype=np.int64)
    for i, key in enumerate(table.line_keys):
        values[:, line_keys.index(key)] = table.values[:, i]
    return values


def _changes(
    place_ids: npt.NDArray[np.int64], new_values: npt.NDArray[np.int64], current: _Current
) -> tuple[npt.NDArray[np.intp], int]:
    """Rows of the file to store (new places and changed ones), and how many are new."""
    position = current.position_of(place_ids)
    known = position >= 0
    differs = np.ones(place_ids.size, dtype=np.bool_)
    differs[known] = (current.values[position[known]] != new_values[known]).any(axis=1)
    return np.flatnonzero(differs), int(np.count_nonzero(~known))


def _write_rows(
    cursor: Any,
    election: Election,
    snapshot: OfficialSnapshot,
    table: OfficialTable,
    place_ids: npt.NDArray[np.int64],
    rows: npt.NDArray[np.intp],
) -> None:
    # One %-format per row, the JSON's keys fixed in it: the line keys are identifiers.
    body = "{" + ",".join(f"{json.dumps(key)}:%d" for key in table.line_keys) + "}"
    place_column = "commission_id" if table.totals else "station_id"
    other_column = "station_id" if table.totals else "commission_id"
    values = table.values[rows].tolist()
    places = place_ids[rows].tolist()
    table_name = OfficialResult._meta.db_table
    if connection.vendor == "postgresql":
        # COPY's text format in large writes: a row per write costs a round of Python calls
        # per row. The JSON holds line keys and integers: nothing to escape.
        line = f"{snapshot.pk}\t{election.pk}\t%d\t{body}\tt\n"
        with cursor.cursor.copy(
            f"COPY {table_name} (snapshot_id, election_id, {place_column}, figures, current) "
            "FROM STDIN"
        ) as copy:
            for start in range(0, len(places), _COPY_BATCH):
                end = start + _COPY_BATCH
                copy.write(
                    "".join(
                        line % (place, *figures)
                        for place, figures in zip(places[start:end], values[start:end], strict=True)
                    )
                )
        return
    copy_rows(
        cursor,
        table_name,
        ["snapshot_id", "election_id", place_column, other_column, "figures", "current"],
        (
            (snapshot.pk, election.pk, place, None, body % tuple(figures), True)
            for place, figures in zip(places, values, strict=True)
        ),
    )


_COPY_BATCH = 10_000
