"""Importing organisations, observers (with their accreditations) and assignments.

All or nothing: a file is read and checked completely — every cell, then every reference to
organisations, observers and stations — and only a file without a single problem is written, in
one transaction, through the database's bulk path. Rows are matched by code, so importing the
same file twice changes nothing.

- Organisations: created or updated by code. Administrators only.
- Observers: created or updated by (organisation, code); observers absent from the file stay.
  With an election, each observer gets an accreditation for it: accredited with the file's
  number, pending without one. An import never undoes an administrator's decision: a revoked
  accreditation stays revoked, and a blank number leaves a granted one as it is. Recording
  accreditation numbers is accrediting, so only administrators' files may carry them.
- Assignments: the file is the plan for the observers it names. Each of them ends up with
  exactly the file's assignments in the election: new ones are added, unchanged ones kept, and
  those the file no longer lists removed. Observers the file does not name keep theirs, so a
  coordinator may send one file per district.

A coordinator imports only their own organisation's observers and assignments; administrators
(and the operator at the command line, `actor=None`) import any.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from pollwatch.accounts.audit import record_action
from pollwatch.accreditation.import_files import (
    AssignmentRow,
    FileRows,
    ObserverRow,
    read_assignments,
    read_observers,
    read_organisations,
)
from pollwatch.accreditation.models import (
    Accreditation,
    AccreditationStatus,
    Assignment,
    Observer,
    Organisation,
)
from pollwatch.accreditation.permissions import (
    NotPermitted,
    coordinated_organisation,
    is_administrator,
    require_administrator,
)
from pollwatch.bulk import Merge, StagingTable, copy_rows
from pollwatch.core.progress import OnRows
from pollwatch.core.structure.problems import Problems
from pollwatch.core.tabular import InputError
from pollwatch.registry.models import Election, PollingStation

# Rows per `IN (…)` list: well under SQLite's limit of host parameters per statement.
CHUNK = 5_000


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int
    removed: int = 0  # assignments only
    accreditations_created: int = 0  # observers with an election only
    accreditations_updated: int = 0
    dry_run: bool = False


T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _writable_organisations(actor: AbstractBaseUser | None) -> int | None:
    """None when `actor` may import for any organisation, else the one organisation's id.

    Raises NotPermitted for anyone who is neither an administrator nor a coordinator.
    """
    if actor is None or is_administrator(actor):
        return None
    own = coordinated_organisation(actor)
    if own is None:
        raise NotPermitted(
            _("Only administrators and coordinators may import observers and assignments.")
        )
    return own.pk


def _resolve_organisations(
    actor: AbstractBaseUser | None, read: FileRows[Any], problems: Problems
) -> dict[str, int]:
    """Organisation code → id for the file's rows; unknown codes and, for a coordinator,
    other organisations' rows are problems."""
    only = _writable_organisations(actor)
    codes = sorted({row.organisation for row in read.rows})
    known = dict(Organisation.objects.filter(code__in=codes).values_list("code", "pk"))
    for row in read.rows:
        organisation_id = known.get(row.organisation)
        if organisation_id is None:
            problems.add(
                read.source,
                row.row,
                "organisation",
                _("no organisation has the code %(code)r (import the organisations first)")
                % {"code": row.organisation},
            )
        elif only is not None and organisation_id != only:
            problems.add(
                read.source,
                row.row,
                "organisation",
                _("you may import only your own organisation's rows, not %(code)r's")
                % {"code": row.organisation},
            )
    return known


def _lock(organisation_ids: Iterable[int]) -> None:
    """Two imports for the same organisations take turns instead of racing on the codes."""
    list(Organisation.objects.select_for_update().filter(pk__in=sorted(organisation_ids)))


# Organisations -------------------------------------------------------------------------------


def import_organisations(
    actor: AbstractBaseUser | None,
    path: Path,
    *,
    sheet: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    # Organisations are counted in hundreds: a statement and an audit entry for each created
    # or changed one is the simple path, and the audit log wants each change on its own.
    if actor is not None:
        require_administrator(actor)
    read = read_organisations(path, sheet)
    read.problems.raise_if_any()
    fields = ["name", "kind", "share_with_mission", "share_with_organisations"]
    with transaction.atomic():
        existing = {
            organisation.code: organisation
            for organisation in Organisation.objects.select_for_update().filter(
                code__in=[row.code for row in read.rows]
            )
        }
        created = updated = 0
        for row in read.rows:
            values = dict(zip(fields, row[2:], strict=True))
            current = existing.get(row.code)
            if current is None:
                organisation = Organisation.objects.create(code=row.code, **values)
                record_action(actor, "organisation.import", organisation, None, values)
                created += 1
                continue
            before = {field: getattr(current, field) for field in fields}
            if before != values:
                Organisation.objects.filter(pk=current.pk).update(**values)
                record_action(actor, "organisation.import", current, before, values)
                updated += 1
        if dry_run:
            transaction.set_rollback(True)
    return ImportReport(created, updated, len(read.rows) - created - updated, dry_run=dry_run)


# Observers -----------------------------------------------------------------------------------


def import_observers(
    actor: AbstractBaseUser | None,
    path: Path,
    *,
    election: Election | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    on_rows: OnRows | None = None,
) -> ImportReport:
    read = read_observers(path, sheet, on_rows)
    problems = read.problems
    organisations = _resolve_organisations(actor, read, problems)
    if actor is not None and not is_administrator(actor):
        for row in read.rows:
            if row.accreditation_number:
                problems.add(
                    read.source,
                    row.row,
                    "accreditation_number",
                    _("only an administrator may record accreditation numbers; leave it empty"),
                )
    problems.raise_if_any()
    by_organisation: dict[int, list[ObserverRow]] = defaultdict(list)
    for row in read.rows:
        by_organisation[organisations[row.organisation]].append(row)
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(by_organisation)
        if election is not None:
            _check_numbers(read, organisations, election)
        counts = {
            organisation_id: _write_observers(cursor, organisation_id, rows)
            for organisation_id, rows in by_organisation.items()
        }
        accreditations = (0, 0)
        if election is not None:
            accreditations = _write_accreditations(
                cursor, actor, election, read.rows, organisations
            )
        touched = Organisation.objects.in_bulk(list(counts))
        for organisation_id, (created, updated) in counts.items():
            record_action(
                actor,
                "observers.import",
                touched[organisation_id],
                None,
                {
                    "file": read.source,
                    "election": election.slug if election else None,
                    "created": created,
                    "updated": updated,
                },
            )
        if dry_run:
            transaction.set_rollback(True)
    created = sum(c for c, _u in counts.values())
    updated = sum(u for _c, u in counts.values())
    return ImportReport(
        created,
        updated,
        len(read.rows) - created - updated,
        accreditations_created=accreditations[0],
        accreditations_updated=accreditations[1],
        dry_run=dry_run,
    )


def _write_observers(
    cursor: CursorWrapper, organisation_id: int, rows: list[ObserverRow]
) -> tuple[int, int]:
    staging = StagingTable(
        "pollwatch_staged_observers",
        {"code": "text", "full_name": "text", "contact": "text", "languages": "text"},
    )
    staged_rows = (
        (row.code, row.full_name, row.contact, json.dumps(list(row.languages))) for row in rows
    )
    languages = "CAST(s.languages AS jsonb)" if connection.vendor == "postgresql" else "s.languages"
    with staging.loaded(cursor, staged_rows, key="code") as staged:
        merge = Merge(
            target=Observer._meta.db_table,
            source=staged,
            scope={"organisation_id": organisation_id},
            key="code",
            values={"full_name": "s.full_name", "contact": "s.contact", "languages": languages},
        )
        updated = merge.update_changed(cursor)
        created = merge.insert_missing(cursor)
    return created, updated


def _observer_ids(organisation_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    rows = Observer.objects.filter(organisation_id__in=list(organisation_ids)).values_list(
        "organisation_id", "code", "pk"
    )
    return {(organisation_id, code): pk for organisation_id, code, pk in rows}


def _check_numbers(
    read: FileRows[ObserverRow], organisations: dict[str, int], election: Election
) -> None:
    """Raise if a number in the file is held in the election by an observer other than the
    row's own."""
    wanted = {row.accreditation_number: row for row in read.rows if row.accreditation_number}
    if not wanted:
        return
    observers = _observer_ids(set(organisations.values()))
    problems = Problems()
    staging = StagingTable("pollwatch_staged_numbers", {"number": "text"})
    rows = ((number,) for number in wanted)
    with (
        connection.cursor() as cursor,
        transaction.atomic(),
        staging.loaded(cursor, rows, key="number") as staged,
    ):
        cursor.execute(
            f"SELECT a.number, a.observer_id, o.full_name "
            f"FROM {connection.ops.quote_name(staged.name)} AS s "
            f"JOIN {Accreditation._meta.db_table} AS a "
            "ON a.election_id = %s AND a.number = s.number "
            f"JOIN {Observer._meta.db_table} AS o ON o.id = a.observer_id",
            [election.pk],
        )
        held = cursor.fetchall()
    for number, holder_id, holder_name in held:
        row = wanted[number]
        own = observers.get((organisations[row.organisation], row.code))
        if own != holder_id:
            problems.add(
                read.source,
                row.row,
                "accreditation_number",
                _("accreditation number %(number)r is already %(holder)s's in %(election)s")
                % {"number": number, "holder": holder_name, "election": election.slug},
            )
    problems.raise_if_any()


def _write_accreditations(
    cursor: CursorWrapper,
    actor: AbstractBaseUser | None,
    election: Election,
    rows: list[ObserverRow],
    organisations: dict[str, int],
) -> tuple[int, int]:
    """Create the missing accreditations and record the file's numbers; (created, updated)."""
    observers = _observer_ids(set(organisations.values()))
    current = {
        observer_id: (status, number)
        for observer_id, status, number in Accreditation.objects.filter(
            election=election, observer__organisation_id__in=set(organisations.values())
        ).values_list("observer_id", "status", "number")
    }
    now = timezone.now()
    stored_now = connection.ops.adapt_datetimefield_value(now)
    actor_id = actor.pk if actor is not None else None
    new: list[tuple[Any, ...]] = []
    granted: list[tuple[int, str]] = []
    for row in rows:
        observer_id = observers[(organisations[row.organisation], row.code)]
        number = row.accreditation_number
        state = current.get(observer_id)
        if state is None:
            status = AccreditationStatus.ACCREDITED if number else AccreditationStatus.PENDING
            decided = (actor_id, stored_now) if number else (None, None)
            new.append(
                (election.pk, observer_id, status.value, number, actor_id, stored_now, *decided)
            )
        elif number and state[0] != AccreditationStatus.REVOKED and state[1] != number:
            granted.append((observer_id, number))
    columns = [
        "election_id",
        "observer_id",
        "status",
        "number",
        "requested_by_id",
        "requested_at",
        "decided_by_id",
        "decided_at",
    ]
    table = Accreditation._meta.db_table
    try:
        with transaction.atomic():
            copy_rows(cursor, table, columns, new)
            if granted:
                _grant(cursor, election.pk, granted, actor_id, now)
    except IntegrityError as error:
        # Checked beforehand; only a concurrent grant of the same number gets here.
        raise InputError(
            _("An accreditation number in the file was taken meanwhile: %(error)s")
            % {"error": error}
        ) from None
    return len(new), len(granted)


def _grant(
    cursor: CursorWrapper,
    election_id: int,
    granted: list[tuple[int, str]],
    actor_id: int | None,
    now: datetime.datetime,
) -> None:
    staging = StagingTable(
        "pollwatch_staged_accreditations", {"observer_id": "int", "number": "text"}
    )
    # The moment and the actor are the same for every row, and come from the server, not the
    # file: literals rather than staged columns.
    if connection.vendor == "postgresql":
        decided_at = f"CAST('{now.isoformat()}' AS timestamptz)"
    else:
        decided_at = f"'{connection.ops.adapt_datetimefield_value(now)}'"
    with staging.loaded(cursor, granted, key="observer_id") as staged:
        Merge(
            target=Accreditation._meta.db_table,
            source=staged,
            scope={"election_id": election_id},
            key="observer_id",
            values={
                "status": f"'{AccreditationStatus.ACCREDITED.value}'",
                "number": "s.number",
                "decided_by_id": "NULL" if actor_id is None else str(int(actor_id)),
                "decided_at": decided_at,
            },
        ).update_changed(cursor)


# Assignments ---------------------------------------------------------------------------------


def import_assignments(
    actor: AbstractBaseUser | None,
    path: Path,
    *,
    election: Election,
    sheet: str | None = None,
    dry_run: bool = False,
    on_rows: OnRows | None = None,
) -> ImportReport:
    read = read_assignments(path, sheet, on_rows)
    problems = read.problems
    organisations = _resolve_organisations(actor, read, problems)
    observers = _observer_ids(set(organisations.values()))
    stations = _station_ids(election, {row.station for row in read.rows})
    wanted: dict[int, set[_Key]] = defaultdict(set)
    for row in read.rows:
        organisation_id = organisations.get(row.organisation)
        if organisation_id is None:
            continue  # reported by _resolve_organisations
        observer_id = observers.get((organisation_id, row.observer))
        station_id = stations.get(row.station)
        if observer_id is None:
            problems.add(
                read.source,
                row.row,
                "observer",
                _("%(organisation)r has no observer with the code %(code)r")
                % {"organisation": row.organisation, "code": row.observer},
            )
        if station_id is None:
            problems.add(
                read.source,
                row.row,
                "station",
                _("%(election)s has no polling station with the code %(code)r")
                % {"election": election.slug, "code": row.station},
            )
        if observer_id is not None and station_id is not None:
            wanted[observer_id].add((observer_id, station_id, row.starts_at, row.ends_at))
    problems.raise_if_any()
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(set(organisations.values()))
        existing = _existing_assignments(cursor, election, set(organisations.values()), wanted)
        keep = {key for key in existing if key in wanted[key[0]]}
        new = [key for keys in wanted.values() for key in keys if key not in existing]
        gone = [pk for key, pk in existing.items() if key not in keep]
        for chunk in _chunks(gone):
            Assignment.objects.filter(pk__in=chunk).delete()
        # Windows repeat: each distinct moment is converted to the stored form once.
        stored = functools.cache(connection.ops.adapt_datetimefield_value)
        copy_rows(
            cursor,
            Assignment._meta.db_table,
            ["observer_id", "station_id", "starts_at", "ends_at"],
            ((o, s, stored(starts), stored(ends)) for o, s, starts, ends in new),
        )
        _audit_assignments(actor, read, organisations, observers, new, existing, gone, election)
        if dry_run:
            transaction.set_rollback(True)
    return ImportReport(len(new), 0, len(keep), removed=len(gone), dry_run=dry_run)


# (observer id, station id, starts, ends), the moments aware.
_Key = tuple[int, int, datetime.datetime, datetime.datetime]


def _station_ids(election: Election, codes: set[str]) -> dict[str, int]:
    """Station code → id for the file's codes, by one join with the staged codes."""
    if not codes:
        return {}
    staging = StagingTable("pollwatch_staged_station_codes", {"code": "text"})
    table = PollingStation._meta.db_table
    rows = ((code,) for code in codes)
    with (
        connection.cursor() as cursor,
        transaction.atomic(),
        staging.loaded(cursor, rows, key="code") as staged,
    ):
        cursor.execute(
            f"SELECT s.code, p.id FROM {connection.ops.quote_name(staged.name)} AS s "
            f"JOIN {table} AS p ON p.election_id = %s AND p.code = s.code",
            [election.pk],
        )
        return dict(cursor.fetchall())


def _existing_assignments(
    cursor: CursorWrapper, election: Election, organisation_ids: set[int], observers: Iterable[int]
) -> dict[_Key, int]:
    """The election's assignments of the given observers, keyed like the file's rows."""
    named = set(observers)
    if not named:
        return {}
    marks = ", ".join(["%s"] * len(organisation_ids))
    cursor.execute(
        f"SELECT a.observer_id, a.station_id, a.starts_at, a.ends_at, a.id "
        f"FROM {Assignment._meta.db_table} AS a "
        f"JOIN {PollingStation._meta.db_table} AS p ON p.id = a.station_id "
        f"JOIN {Observer._meta.db_table} AS o ON o.id = a.observer_id "
        f"WHERE p.election_id = %s AND o.organisation_id IN ({marks})",
        [election.pk, *sorted(organisation_ids)],
    )
    # Read raw, without the ORM's conversion per value: SQLite gives naive UTC datetimes.
    if connection.vendor == "sqlite":
        return {
            (o, s, a.replace(tzinfo=datetime.UTC), b.replace(tzinfo=datetime.UTC)): pk
            for o, s, a, b, pk in cursor.fetchall()
            if o in named
        }
    return {(o, s, a, b): pk for o, s, a, b, pk in cursor.fetchall() if o in named}


def _audit_assignments(
    actor: AbstractBaseUser | None,
    read: FileRows[AssignmentRow],
    organisations: dict[str, int],
    observers: dict[tuple[int, str], int],
    new: list[_Key],
    existing: dict[_Key, int],
    gone: list[int],
    election: Election,
) -> None:
    """One audit entry per organisation: the file, the election, what was added and removed."""
    organisation_of = {pk: organisation_id for (organisation_id, _c), pk in observers.items()}
    gone_set = set(gone)
    added = Counter(organisation_of[key[0]] for key in new)
    removed = Counter(organisation_of[key[0]] for key, pk in existing.items() if pk in gone_set)
    for organisation_id in sorted(set(organisations.values())):
        record_action(
            actor,
            "assignments.import",
            Organisation.objects.get(pk=organisation_id),
            None,
            {
                "file": read.source,
                "election": election.slug,
                "added": added[organisation_id],
                "removed": removed[organisation_id],
            },
        )
