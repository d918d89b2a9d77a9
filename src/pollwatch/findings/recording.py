"""Recording computed findings: upsert by fingerprint, resolve the vanished, never touch status.

A recording covers a scope — the whole election, or some stations — and the kinds of one
detector. Within it, the computed findings are the complete truth: each is inserted, updated or
left as it is by fingerprint; a resolved one that is computed again is present again with its
human status intact; a stored one that is no longer computed is resolved. Findings outside the
scope are never touched, so a submission at one station cannot resolve another station's
findings, nor a cross-check resolve a silent change.

All rows go through one staging table (bulk.py): a handful of statements whatever the count.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from operator import attrgetter
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from pollwatch.bulk import StagingTable, copy_rows
from pollwatch.findings.computed import CROSSCHECK_KINDS, ComputedFinding
from pollwatch.findings.models import Finding, FindingKind, Severity
from pollwatch.registry.models import Commission, Election, PollingStation
from pollwatch.rows import any_of


class RecordingError(ValueError):
    """Computed findings that cannot be recorded as given; nothing was written."""


@dataclass(frozen=True)
class Scope:
    """The findings a recording covers: of these kinds, in the whole election or at some of
    its stations (one for a submission, several for submissions committed together)."""

    kinds: frozenset[str]
    station_ids: tuple[int, ...] | None = None  # sorted, distinct; None: the whole election

    def __post_init__(self) -> None:
        if not self.kinds:
            raise RecordingError("a recording scope needs at least one kind of finding")
        if self.station_ids is not None and (
            not self.station_ids or list(self.station_ids) != sorted(set(self.station_ids))
        ):
            raise RecordingError("a recording scope's stations are distinct, sorted, at least one")

    @classmethod
    def election(cls, kinds: frozenset[str] = CROSSCHECK_KINDS) -> Scope:
        return cls(kinds=kinds)

    @classmethod
    def station(cls, station_id: int, kinds: frozenset[str] = CROSSCHECK_KINDS) -> Scope:
        return cls(kinds=kinds, station_ids=(station_id,))

    @classmethod
    def stations(
        cls, station_ids: Iterable[int], kinds: frozenset[str] = CROSSCHECK_KINDS
    ) -> Scope:
        return cls(kinds=kinds, station_ids=tuple(sorted(set(station_ids))))

    def covers(self, finding: ComputedFinding) -> bool:
        return finding.kind in self.kinds and (
            self.station_ids is None or finding.station_id in self._stations
        )

    @cached_property
    def _stations(self) -> frozenset[int | None]:
        return frozenset(self.station_ids or ())

    def __str__(self) -> str:
        if self.station_ids is None:
            place = "the whole election"
        else:
            place = f"stations {', '.join(map(str, self.station_ids))}"
        return f"{place}, kinds {', '.join(sorted(self.kinds))}"


@dataclass(frozen=True)
class RecordingCounts:
    """What one recording did; new + updated + unchanged + reappeared = findings computed."""

    new: int
    updated: int  # present before, values changed
    unchanged: int
    reappeared: int  # resolved before, computed again: present again, status kept
    resolved: int  # present before, no longer computed


_STAGED = StagingTable(
    "pollwatch_staged_findings",
    {
        "fingerprint": "text",
        "kind": "text",
        "severity": "text",
        "station_id": "int",
        "commission_id": "int",
        "lines": "text",
        "relation": "text",
        "left_value": "int",
        "right_value": "int",
        "delta": "int",
        "magnitude": "int",
        "detail": "text",
    },
)
# Columns a recomputation may change; kind and place are part of the fingerprint.
_VALUES = ("severity", "lines", "relation", "left_value", "right_value", "delta", "magnitude")
_JSON = ("lines", "detail")
_KINDS = frozenset(FindingKind.values)
# A station's recording of at most this many findings skips the staging table: a submission
# computes a handful, and a few statements beat the table's dozen (half the request's time).
SMALL_BATCH = 200
_SEVERITIES = frozenset(Severity.values)


def record_findings(
    election: Election,
    scope: Scope,
    computed: Sequence[ComputedFinding],
    *,
    now: datetime.datetime | None = None,
    locked: bool = False,
) -> RecordingCounts:
    """Make the stored findings of ``scope`` match ``computed``; returns what changed.

    ``locked``: the caller already holds ``lock_scope(election, scope)`` in its transaction
    (it locked before reading what it computed from), which spares a submission two queries.
    That transaction also makes the recording all-or-nothing: no savepoint of its own (two
    statements fewer), so a failure here leaves the caller's transaction to roll back.

    Raises RecordingError, writing nothing, if a computed finding lies outside the scope, has
    an unknown kind or severity, or shares its fingerprint with another.
    """
    _check(scope, computed)
    at = connection.ops.adapt_datetimefield_value(now or timezone.now())
    table = Finding._meta.db_table
    if locked and not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "record_findings(locked=True) needs the caller's transaction"
        )
    with transaction.atomic(savepoint=not locked), connection.cursor() as cursor:
        if not locked:
            lock_scope(election, scope)
        if scope.station_ids is not None and len(computed) <= SMALL_BATCH:
            return _record_few(cursor, election, scope, computed, at)
        if not Finding.objects.filter(election=election).exists():
            _create(cursor, election.pk, at, computed)
            _check_places(cursor, f"(SELECT * FROM {table} WHERE election_id = %s)", election)
            return RecordingCounts(
                new=len(computed), updated=0, unchanged=0, reappeared=0, resolved=0
            )
        with _STAGED.loaded(cursor, _staged_rows(computed), key="fingerprint"):
            if connection.vendor == "sqlite":
                # Without statistics SQLite would drive the joins from the findings table,
                # scanning the whole election to record one station's few findings.
                cursor.execute(f"ANALYZE temp.{_STAGED.name}")
            _check_places(cursor, _STAGED.name, election)
            updated = _update(cursor, election.pk, at, present=True)
            reappeared = _update(cursor, election.pk, at, present=False)
            new = _insert(cursor, election.pk, at)
            resolved = _resolve(cursor, table, election.pk, scope, at)
    return RecordingCounts(
        new=new,
        updated=updated,
        unchanged=len(computed) - new - updated - reappeared,
        reappeared=reappeared,
        resolved=resolved,
    )


def lock_scope(election: Election, scope: Scope) -> None:
    """Serialise recordings that could touch the same findings; call inside a transaction.

    A station's recordings take the election in share mode and the station exclusively, so
    stations record in parallel; a whole-election recording takes the election exclusively and
    waits for them (and they for it). Several stations are locked in the order of their ids,
    which every caller shares, so two recordings of overlapping stations queue instead of
    deadlocking. Without this, two recordings of one station could both insert a new
    fingerprint (the unique constraint would refuse one) or interleave their resolutions. A
    caller that computes from the database should lock before reading, so that an older
    computation cannot overwrite a newer one; locking again later is harmless.
    SQLite has a single writer and no row locks: there, only the stations are checked.
    """
    stations = PollingStation._meta.db_table
    if connection.vendor != "postgresql":
        if scope.station_ids is not None:
            found = PollingStation.objects.filter(pk__in=scope.station_ids, election=election)
            _check_stations(election, scope.station_ids, found.values_list("pk", flat=True))
        return
    elections = Election._meta.db_table
    with connection.cursor() as cursor:
        if scope.station_ids is None:
            cursor.execute(
                f"SELECT 1 FROM {elections} WHERE id = %s FOR NO KEY UPDATE", [election.pk]
            )
            return
        # One statement, one round trip: the election's row is locked first, then the
        # stations' in id order (rows are locked in the order of the locking clauses, and
        # each clause's rows in the order they are returned).
        cursor.execute(
            f"SELECT s.id FROM {elections} AS e JOIN {stations} AS s "
            "ON s.election_id = e.id WHERE e.id = %s AND s.id = ANY(%s) ORDER BY s.id "
            "FOR SHARE OF e FOR NO KEY UPDATE OF s",
            [election.pk, list(scope.station_ids)],
        )
        _check_stations(election, scope.station_ids, [row[0] for row in cursor.fetchall()])


def _check_stations(election: Election, wanted: Sequence[int], found: Iterable[int]) -> None:
    stray = sorted(set(wanted) - set(found))
    if stray:
        raise RecordingError(
            f"stations {', '.join(map(str, stray))} are not in election {election.slug!r}"
        )


def _check(scope: Scope, computed: Sequence[ComputedFinding]) -> None:
    outside = [finding.fingerprint for finding in computed if not scope.covers(finding)]
    if outside:
        raise RecordingError(
            f"{len(outside)} findings lie outside the recording's scope ({scope}), e.g. "
            f"{outside[0]!r}; a recording may only write the findings it can also resolve"
        )
    unknown: set[str] = {finding.kind for finding in computed} - _KINDS
    unknown |= {str(finding.severity) for finding in computed} - _SEVERITIES
    if unknown:
        raise RecordingError(
            f"unknown kinds or severities {sorted(unknown)}; expected kinds "
            f"{sorted(_KINDS)} and severities {sorted(_SEVERITIES)}"
        )
    if len({finding.fingerprint for finding in computed}) != len(computed):
        counts = Counter(finding.fingerprint for finding in computed)
        repeated = [fingerprint for fingerprint, count in counts.items() if count > 1]
        raise RecordingError(
            f"{len(repeated)} fingerprints are computed more than once, e.g. {repeated[0]!r}; "
            "expected one finding per fingerprint"
        )


def _check_places(cursor: CursorWrapper, source: str, election: Election) -> None:
    """Refuse findings placed at another election's station or commission (rolls back).

    ``source`` is the staging table, or a subquery of the findings just copied in, whose
    ``%s`` is the election's id.
    """
    params = [election.pk] * (1 + source.count("%s"))
    for model, column in ((PollingStation, "station_id"), (Commission, "commission_id")):
        cursor.execute(
            f"SELECT f.fingerprint, f.{column} FROM {source} AS f "
            f"JOIN {model._meta.db_table} AS p ON p.id = f.{column} "
            "WHERE p.election_id <> %s LIMIT 1",
            params,
        )
        if row := cursor.fetchone():
            raise RecordingError(
                f"finding {row[0]!r} names {model._meta.model_name} {row[1]}, which belongs to "
                f"another election than {election.slug!r}"
            )


def _staged_rows(computed: Sequence[ComputedFinding]) -> Iterator[tuple[object, ...]]:
    encoded_lines: dict[tuple[str, ...], str] = {}  # a template has few distinct line lists
    for finding in computed:
        lines = encoded_lines.get(finding.lines)
        if lines is None:
            lines = encoded_lines[finding.lines] = _json(list(finding.lines))
        yield (
            finding.fingerprint,
            finding.kind,
            finding.severity,
            finding.station_id,
            finding.commission_id,
            lines,
            finding.relation,
            finding.left,
            finding.right,
            finding.delta,
            finding.magnitude,
            _json_detail(finding.detail),
        )


def _create(
    cursor: CursorWrapper, election_id: int, at: Any, computed: Sequence[ComputedFinding]
) -> None:
    """The election's first recording: nothing to merge with, so rows go straight in."""
    columns = ["election_id", *_STAGED.columns, "status", "present", "first_seen", "last_changed"]
    tail = (Finding.Status.OPEN.value, True, at, at)
    # In fingerprint order, the unique index grows at its end instead of at random pages.
    ordered = sorted(computed, key=attrgetter("fingerprint"))
    rows = ((election_id, *row, *tail) for row in _staged_rows(ordered))
    copy_rows(cursor, Finding._meta.db_table, columns, rows)


# One spelling for equal values: SQLite compares JSON as text. One encoder, built once:
# json.dumps with options builds a new one per call, which costs more than the encoding.
_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_json_key = cache(_json)


def _json_detail(detail: Mapping[str, Any]) -> str:
    """``_json(detail)``; the cross-check's details (names → integers) spelled a third faster."""
    if all(type(value) is int for value in detail.values()):
        items = sorted(detail.items())
        return "{" + ",".join(f"{_json_key(key)}:{value}" for key, value in items) + "}"
    return _json(detail)


def _staged(column: str) -> str:
    if column in _JSON and connection.vendor == "postgresql":
        return f"CAST(s.{column} AS jsonb)"
    return f"s.{column}"


def _update(cursor: CursorWrapper, election_id: int, at: Any, *, present: bool) -> int:
    """Rewrite stored findings that are computed again: the present ones whose values changed
    (``present``), or the resolved ones, which become present again (not ``present``)."""
    table = Finding._meta.db_table
    assignments = [f"{column} = {_staged(column)}" for column in (*_VALUES, "detail")]
    assignments.append("last_changed = %s")
    params: list[Any] = [at]
    condition = "t.present"
    if not present:
        assignments += ["present = %s", "resolved_at = NULL"]
        params.append(True)
        condition = "NOT t.present"
    else:
        distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
        changed = " OR ".join(
            f"t.{column} {distinct} {_staged(column)}" for column in (*_VALUES, "detail")
        )
        condition += f" AND ({changed})"
    cursor.execute(
        f"UPDATE {table} AS t SET {', '.join(assignments)} FROM {_STAGED.name} AS s "
        f"WHERE t.election_id = %s AND t.fingerprint = s.fingerprint AND {condition}",
        [*params, election_id],
    )
    return int(cursor.rowcount)


def _insert(cursor: CursorWrapper, election_id: int, at: Any) -> int:
    table = Finding._meta.db_table
    staged = ("fingerprint", "kind", "station_id", "commission_id", *_VALUES, "detail")
    columns = ("election_id", *staged, "status", "present", "first_seen", "last_changed")
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT %s, {', '.join(_staged(column) for column in staged)}, %s, %s, %s, %s "
        f"FROM {_STAGED.name} AS s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {table} AS t "
        "WHERE t.election_id = %s AND t.fingerprint = s.fingerprint)",
        [election_id, Finding.Status.OPEN, True, at, at, election_id],
    )
    return int(cursor.rowcount)


def _resolve(cursor: CursorWrapper, table: str, election_id: int, scope: Scope, at: Any) -> int:
    """Resolve the present findings of the scope that were not computed this time."""
    kinds = sorted(scope.kinds)
    where = f"t.election_id = %s AND t.present AND t.kind IN ({', '.join(['%s'] * len(kinds))})"
    params: list[Any] = [False, at, at, election_id, *kinds]
    if scope.station_ids is not None:
        stations, station_params = any_of("t.station_id", scope.station_ids, connection)
        where += f" AND {stations}"
        params += station_params
    cursor.execute(
        f"UPDATE {table} AS t SET present = %s, resolved_at = %s, last_changed = %s "
        f"WHERE {where} AND NOT EXISTS "
        f"(SELECT 1 FROM {_STAGED.name} AS s WHERE s.fingerprint = t.fingerprint)",
        params,
    )
    return int(cursor.rowcount)


def _record_few(
    cursor: CursorWrapper,
    election: Election,
    scope: Scope,
    computed: Sequence[ComputedFinding],
    at: Any,
) -> RecordingCounts:
    """``record_findings`` for a few stations' few findings: compare in Python, write the rest.

    The same outcome as the staged path, in one read when nothing changed.
    """
    if any(finding.commission_id is not None for finding in computed):
        commissions = {f.commission_id for f in computed if f.commission_id is not None}
        found = Commission.objects.filter(pk__in=commissions, election=election).count()
        if found != len(commissions):
            raise RecordingError(
                f"findings name commissions {sorted(commissions)}, not all of which belong to "
                f"election {election.slug!r}"
            )
    table = Finding._meta.db_table
    kinds = sorted(scope.kinds)
    marks = ", ".join(["%s"] * len(kinds))
    stations, station_params = any_of("station_id", scope.station_ids or (), connection)
    cursor.execute(
        f"SELECT id, fingerprint, present, {', '.join(_VALUES)}, detail FROM {table} "
        f"WHERE election_id = %s AND {stations} AND kind IN ({marks})",
        [election.pk, *station_params, *kinds],
    )
    stored = {row[1]: row for row in cursor.fetchall()}
    new: list[tuple[Any, ...]] = []
    rewrite: list[tuple[Any, ...]] = []
    updated = reappeared = 0
    for finding, row in zip(computed, _staged_rows(computed), strict=True):
        values = (*row[2:3], *row[5:11], row[11])  # severity, lines … magnitude, detail
        old = stored.pop(finding.fingerprint, None)
        if old is None:
            new.append(row)
        elif not old[2]:
            reappeared += 1
            rewrite.append((*values, True, at, old[0]))
        elif tuple(_plain(value) for value in old[3:]) != tuple(map(_plain, values)):
            updated += 1
            rewrite.append((*values, True, at, old[0]))
    if new:
        _insert_few(cursor, election.pk, at, new)
    if rewrite:
        assignments = ", ".join(
            f"{column} = {_cast_json(column, '%s')}" for column in (*_VALUES, "detail")
        )
        cursor.executemany(
            f"UPDATE {table} SET {assignments}, present = %s, resolved_at = NULL, "
            "last_changed = %s WHERE id = %s",
            rewrite,
        )
    vanished = [row[0] for row in stored.values() if row[2]]
    if vanished:
        ids, id_params = any_of("id", vanished, connection)
        cursor.execute(
            f"UPDATE {table} SET present = %s, resolved_at = %s, last_changed = %s WHERE {ids}",
            [False, at, at, *id_params],
        )
    return RecordingCounts(
        new=len(new),
        updated=updated,
        unchanged=len(computed) - len(new) - updated - reappeared,
        reappeared=reappeared,
        resolved=len(vanished),
    )


# The staged columns' kinds as PostgreSQL array types.
_ARRAYS = {"text": "text[]", "int": "bigint[]"}


def _insert_few(
    cursor: CursorWrapper, election_id: int, at: Any, rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert new findings (staged rows) of a few stations. On PostgreSQL in one statement, a
    column per array, in the rows' order: its text is the same for any number of findings
    (one row per statement would be parsed and planned once per finding); on SQLite, in
    process, a row at a time."""
    columns = ", ".join(_STAGED.columns)
    into = (
        f"INSERT INTO {Finding._meta.db_table} "
        f"(election_id, {columns}, status, present, first_seen, last_changed) "
    )
    tail = (Finding.Status.OPEN.value, True, at, at)
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{_ARRAYS[kind]}" for kind in _STAGED.columns.values())
        values = ", ".join(_cast_json(column, f"s.{column}") for column in _STAGED.columns)
        cursor.execute(
            f"{into}SELECT %s, {values}, %s, %s, %s, %s FROM unnest({arrays}) "
            f"WITH ORDINALITY AS s({columns}, position) ORDER BY position",
            [election_id, *tail, *(list(column) for column in zip(*rows, strict=True))],
        )
        return
    staged = ", ".join(_cast_json(column, "%s") for column in _STAGED.columns)
    cursor.executemany(
        f"{into}VALUES (%s, {staged}, %s, %s, %s, %s)",
        [(election_id, *row, *tail) for row in rows],
    )


def _cast_json(column: str, placeholder: str) -> str:
    if column in _JSON and connection.vendor == "postgresql":
        return f"CAST({placeholder} AS jsonb)"
    return placeholder


def _plain(value: object) -> object:
    """A stored or staged value in one spelling: JSON text decoded, as the database keeps it."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        return json.loads(value)
    return value
