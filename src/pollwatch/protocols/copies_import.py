"""Bulk import of protocol copies: paper copies typed by a clerk, or a synthetic election's.

    id,station,organisation,observer,all_members_signed,certified,<one column per line key>

``id`` is the copy's UUID (the client id a submission would carry), ``station`` a station code
of the election, ``organisation`` and ``observer`` the codes of the observer who received the
copy, booleans ``yes``/``no``. Every line of the election's template must be there, as a whole
number; extra columns are refused (a misspelt line key must not pass silently).

All or nothing, every problem reported at once (file, row, column, what was expected): a cell
that is not a UUID, a boolean or a whole number, a figure above the limit a submission has
(``submission.figure_limit``), a station, organisation or observer not in the registry, an id
twice in the file, an id already stored with a different body. Re-importing is safe: a copy
already stored with the same body (same SHA-256, as ``canonical`` computes it for a
submission) and the same observer is skipped.

Each new copy is sealed in the election's log as a submission is (a pending entry with the
record ``canonical.copy_record`` builds; ``copies_encoding`` spells it).

Fast path: rows are checked and encoded as they stream into a staging table (PostgreSQL COPY);
references are resolved and checked by the database in a few joins, and INSERT … SELECT adds
the new copies and their log entries.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pollwatch.accreditation.models import Observer, Organisation
from pollwatch.bulk import StagingTable
from pollwatch.core.progress import OnRows
from pollwatch.core.structure.problems import Problems
from pollwatch.core.tabular import open_table
from pollwatch.core.tlog import leaf_hash
from pollwatch.findings.recheck import template_spec
from pollwatch.ledger.models import LogEntry, PendingEntry
from pollwatch.protocols import canonical
from pollwatch.protocols.copies_encoding import CopyEncoder
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.protocols.submission import FIGURE_FACTOR, FIGURE_FLOOR
from pollwatch.registry.models import Election, PollingStation

FIXED_COLUMNS = ("id", "station", "organisation", "observer", "all_members_signed", "certified")
BOOLEANS = {"yes": 1, "no": 0}
# Beyond any station's figure limit: refused while reading, before the database is asked.
FIGURE_MAX = 10**9

_STAGED = StagingTable(
    "pollwatch_staged_copies",
    {
        "row": "int",
        "id": "text",  # 32 hexadecimal digits
        "station": "text",
        "organisation": "text",
        "observer": "text",
        "signed": "int",
        "certified": "int",
        "figures": "text",  # canonical JSON
        "body_sha256": "text",
        "largest": "int",
        "largest_line": "text",
        "copy_uuid": "text",  # with hyphens, as the log names the copy
        "record": "text",  # the copy's log record, canonical JSON
        "leaf": "text",  # its leaf hash, hexadecimal
    },
)


@dataclass(frozen=True)
class CopiesImport:
    """What an import did: copies added, and copies already stored with the same body."""

    created: int
    unchanged: int


class CopiesImportError(ValueError):
    """Problems in the file; the message lists them, and nothing was imported."""


def import_copies(
    election: Election, path: Path, sheet: str | None = None, on_rows: OnRows | None = None
) -> CopiesImport:
    """Import the copies in ``path`` into ``election``; CopiesImportError lists every problem."""
    line_keys = template_spec(election.template).line_keys
    received_at = timezone.now()
    encoder = CopyEncoder(election, line_keys, received_at)
    problems = Problems()
    with transaction.atomic(), connection.cursor() as cursor:
        with open_table(path, sheet) as table:
            rows = _staged_rows(
                table.source, table.header, table.rows, line_keys, encoder, problems
            )
            _STAGED.create(cursor)
            _STAGED.load(cursor, rows, on_rows)
        _raise(problems)
        _STAGED.index(cursor, "id")
        _check_references(cursor, election, path.name, problems)
        _raise(problems)
        unchanged = _check_stored(cursor, election, path.name, problems)
        _raise(problems)
        _append_to_log(cursor, election, received_at)
        created = _insert(cursor, election, received_at)
        _STAGED.drop(cursor)
    return CopiesImport(created=created, unchanged=unchanged)


def _raise(problems: Problems) -> None:
    if problems.total:
        count, more = problems.total, problems.total - len(problems.kept)
        lines = [
            ngettext(
                "%(count)s problem found; nothing was imported:",
                "%(count)s problems found; nothing was imported:",
                count,
            )
            % {"count": count}
        ]
        lines += [f"  {problem}" for problem in problems.kept]
        if more:
            lines.append(
                "  "
                + ngettext("… and %(more)s more problem", "… and %(more)s more problems", more)
                % {"more": more}
            )
        raise CopiesImportError("\n".join(lines))


def _staged_rows(
    source: str,
    header: list[str],
    rows: Iterator[tuple[int, list[str]]],
    line_keys: tuple[str, ...],
    encoder: CopyEncoder,
    problems: Problems,
) -> Iterator[tuple[Any, ...]]:
    """The file's rows checked cell by cell and hashed, ready for the staging table.

    Nothing is yielded once a problem is found (the rest is still read, for its problems).
    The usual row — every cell as expected — takes a fast path of whole-row checks; any doubt
    sends it through the cell-by-cell checks, which name what is wrong.
    """
    at = _columns(source, header, line_keys, problems)
    if at is None:
        return
    width = len(header)
    fixed = itemgetter(*(at[name] for name in FIXED_COLUMNS))
    figure_cells = _getter([at[key] for key in line_keys])
    # The staged figures: canonical JSON, keys sorted (line keys need no escaping).
    json_format = _braces_json(sorted(line_keys), line_keys)
    sha256 = hashlib.sha256
    for number, cells in rows:
        if len(cells) < width:
            problems.add(
                source,
                number,
                None,
                _("expected %(width)s cells as in the header, found %(found)s")
                % {"width": width, "found": len(cells)},
            )
            continue
        copy_id, station, organisation, observer, signed, certified = map(str.strip, fixed(cells))
        texts = figure_cells(cells)
        digits = "".join(texts)
        fast = (
            _UUID.fullmatch(copy_id) is not None
            and station
            and organisation
            and observer
            and signed in BOOLEANS
            and certified in BOOLEANS
            and all(texts)
            and digits.isascii()
            and digits.isdigit()
        )
        if fast:
            values = list(map(int, texts))
            fast = max(values) <= FIGURE_MAX
        if fast:
            copy_id = copy_id.lower()
        else:
            checked = _check_row(cells, at, line_keys, source, number, problems)
            if checked is None:
                continue
            copy_id, signed, certified, values = checked
        if problems.total:
            continue
        spelt_figures = list(map(str, values))  # "007" is written 7
        body, record = encoder.texts(
            copy_id, station, organisation, signed == "yes", certified == "yes", spelt_figures
        )
        largest = max(values)
        data = record.encode()
        yield (
            number,
            copy_id.replace("-", ""),
            station,
            organisation,
            observer,
            int(signed == "yes"),
            int(certified == "yes"),
            json_format.format(*spelt_figures),
            sha256(body.encode()).hexdigest(),
            largest,
            line_keys[values.index(largest)],
            copy_id,
            record,
            leaf_hash(data).hex(),
        )


def _getter(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """The cells at ``indexes``, as a tuple even for one (itemgetter's one-index case)."""
    if len(indexes) == 1:
        (only,) = indexes
        return lambda cells: (cells[only],)
    return itemgetter(*indexes)


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _braces_json(sorted_keys: list[str], line_keys: tuple[str, ...]) -> str:
    """A format string for the figures as canonical JSON, taking them in template order."""
    fields = ",".join(f'"{key}":{{{line_keys.index(key)}}}' for key in sorted_keys)
    return "{{" + fields + "}}"


def _columns(
    source: str, header: list[str], line_keys: tuple[str, ...], problems: Problems
) -> dict[str, int] | None:
    """Each expected column's position, or None (with the problems recorded)."""
    columns = [cell.strip() for cell in header]
    expected = [*FIXED_COLUMNS, *line_keys]
    for name in expected:
        if name not in columns:
            problems.add(
                source,
                1,
                name,
                _("expected this column; the header has: %(header)s")
                % {"header": ", ".join(columns)},
            )
    for name in columns:
        if name not in expected:
            problems.add(
                source,
                1,
                name,
                _("unknown column; expected %(columns)s") % {"columns": ", ".join(expected)},
            )
    if len(set(columns)) != len(columns):
        problems.add(source, 1, None, _("a column appears twice in the header"))
    if problems.total:
        return None
    return {name: columns.index(name) for name in expected}


def _check_row(
    cells: list[str],
    at: dict[str, int],
    line_keys: tuple[str, ...],
    source: str,
    number: int,
    problems: Problems,
) -> tuple[str, str, str, list[int]] | None:
    """A row the fast path doubted, cell by cell: (id, signed, certified, figures) as the
    fast path spells them, or None with every problem recorded. (A doubted row may be fine:
    a UUID in braces, " Yes", a figure "0012".)"""
    copy_id = _uuid(cells[at["id"]], source, number, problems)
    for column in ("station", "organisation", "observer"):
        _code(cells, at, column, source, number, problems)
    signed = _boolean(cells, at, "all_members_signed", source, number, problems)
    certified = _boolean(cells, at, "certified", source, number, problems)
    values = [_figure(cells[at[key]], key, source, number, problems) for key in line_keys]
    if copy_id is None or signed is None or certified is None or None in values:
        return None
    yes_no = ("no", "yes")
    return copy_id, yes_no[signed], yes_no[certified], [v for v in values if v is not None]


def _uuid(text: str, source: str, row: int, problems: Problems) -> str | None:
    value = text.strip()
    try:
        return str(uuid.UUID(value))
    except ValueError:
        problems.add(
            source,
            row,
            "id",
            _("expected a UUID such as 0b6f3c6e-5d1a-4e0b-9f43-2c9d8a7e6f10, got %(value)r")
            % {"value": value},
        )
        return None


def _code(
    cells: list[str], at: dict[str, int], column: str, source: str, row: int, problems: Problems
) -> str | None:
    value = cells[at[column]].strip()
    if not value:
        problems.add(source, row, column, _("expected a code, the cell is empty"))
        return None
    return value


def _boolean(
    cells: list[str], at: dict[str, int], column: str, source: str, row: int, problems: Problems
) -> int | None:
    value = cells[at[column]].strip().lower()
    if value not in BOOLEANS:
        problems.add(
            source,
            row,
            column,
            _("expected yes or no, got %(value)r") % {"value": cells[at[column]]},
        )
        return None
    return BOOLEANS[value]


def _figure(text: str, key: str, source: str, row: int, problems: Problems) -> int | None:
    value = text.strip()
    if value.isascii() and value.isdigit():
        number = int(value)
        if number <= FIGURE_MAX:
            return number
        message = _("%(value)s is absurdly large for a protocol figure") % {"value": value}
    elif not value:
        message = _("the figure is missing; write 0 if there is nothing to count")
    elif value.startswith("-") and value[1:].isdigit():
        message = _("%(value)s is negative; a figure cannot be") % {"value": value}
    else:
        message = _("expected a whole number, got %(value)r") % {"value": value}
    problems.add(source, row, key, message)
    return None


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


_STATIONS = _q(PollingStation._meta.db_table)
_ORGANISATIONS = _q(Organisation._meta.db_table)
_OBSERVERS = _q(Observer._meta.db_table)
_COPIES = _q(ProtocolCopy._meta.db_table)
_JOINS = (
    f"LEFT JOIN {_STATIONS} AS p ON p.election_id = %s AND p.code = s.station "
    f"LEFT JOIN {_ORGANISATIONS} AS o ON o.code = s.organisation "
    f"LEFT JOIN {_OBSERVERS} AS b ON b.organisation_id = o.id AND b.code = s.observer"
)


def _id(expression: str) -> str:
    """A staged id (32 hexadecimal digits) as the copies table stores it."""
    return f"CAST({expression} AS uuid)" if connection.vendor == "postgresql" else expression


def _check_references(
    cursor: CursorWrapper, election: Election, source: str, problems: Problems
) -> None:
    staged = _q(_STAGED.name)
    limit = problems.limit
    cursor.execute(
        f"SELECT id, MIN(row), MAX(row) FROM {staged} GROUP BY id HAVING COUNT(*) > 1 "
        f"ORDER BY MIN(row) LIMIT {limit}"
    )
    for copy_id, first, again in cursor.fetchall():
        problems.add(
            source,
            int(again),
            "id",
            _("copy %(id)s is already in row %(first)s; every copy needs its own id")
            % {"id": uuid.UUID(copy_id), "first": first},
        )
    floor, factor = FIGURE_FLOOR, FIGURE_FACTOR
    cursor.execute(
        f"SELECT s.row, s.station, s.organisation, s.observer, p.id, o.id, b.id, s.largest, "
        f"s.largest_line, p.registered_voters FROM {staged} AS s {_JOINS} "
        f"WHERE p.id IS NULL OR o.id IS NULL OR b.id IS NULL OR s.largest > "
        f"CASE WHEN p.registered_voters * {factor} > {floor} "
        f"THEN p.registered_voters * {factor} ELSE {floor} END "
        f"ORDER BY s.row LIMIT {limit}",
        [election.pk],
    )
    for row, station, organisation, observer, p, o, b, largest, line, voters in cursor.fetchall():
        if p is None:
            problems.add(
                source,
                row,
                "station",
                _("no polling station %(code)r in %(election)s")
                % {"code": station, "election": election.name},
            )
        elif largest > max(voters * factor, floor):
            problems.add(
                source,
                row,
                line,
                _(
                    "%(value)s is more than %(limit)s (ten times the station's registered "
                    "voters); check the figure"
                )
                % {"value": largest, "limit": max(voters * factor, floor)},
            )
        if o is None:
            problems.add(
                source,
                row,
                "organisation",
                _("no organisation with the code %(code)r") % {"code": organisation},
            )
        elif b is None:
            problems.add(
                source,
                row,
                "observer",
                _("no observer %(code)r in organisation %(organisation)r")
                % {"code": observer, "organisation": organisation},
            )


def _check_stored(
    cursor: CursorWrapper, election: Election, source: str, problems: Problems
) -> int:
    """Copies already stored under a staged id: the same copy is skipped, another refused."""
    staged = _q(_STAGED.name)
    cursor.execute(
        f"SELECT s.row, s.id, s.body_sha256 = t.body_sha256 AND t.election_id = %s "
        f"AND t.observer_id = b.id "
        f"FROM {staged} AS s JOIN {_COPIES} AS t ON t.id = {_id('s.id')} {_JOINS} "
        f"ORDER BY s.row",
        [election.pk, election.pk],
    )
    same = 0
    for row, copy_id, identical in cursor.fetchall():
        if identical:
            same += 1
            continue
        problems.add(
            source,
            row,
            "id",
            _(
                "a different protocol copy is already stored with the id %(id)s; a new copy "
                "needs a new id"
            )
            % {"id": uuid.UUID(copy_id)},
        )
    return same


def _append_to_log(
    cursor: CursorWrapper, election: Election, received_at: datetime.datetime
) -> None:
    """The new copies' log records as pending entries: ``ledger.appending.append_to_log``'s
    two rows per record (entry and pending entry), written for all copies at once."""
    staged = _q(_STAGED.name)
    entries, pending = _q(LogEntry._meta.db_table), _q(PendingEntry._meta.db_table)
    source_type = ContentType.objects.get_for_model(ProtocolCopy).pk
    if connection.vendor == "postgresql":
        record, leaf = "convert_to(s.record, 'UTF8')", "decode(s.leaf, 'hex')"
    else:
        connection.connection.create_function("pollwatch_unhex", 1, bytes.fromhex)
        record, leaf = "CAST(s.record AS BLOB)", "pollwatch_unhex(s.leaf)"
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {entries}")
    (before,) = cursor.fetchone()
    cursor.execute(
        f"INSERT INTO {entries} (election_id, kind, canonical, leaf_hash, source_type_id, "
        f"source_pk, created_at) SELECT %s, %s, {record}, {leaf}, %s, s.copy_uuid, %s "
        f"FROM {staged} AS s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {_COPIES} AS t WHERE t.id = {_id('s.id')}) ORDER BY s.row",
        [
            election.pk,
            canonical.RECORD_KIND,
            source_type,
            connection.ops.adapt_datetimefield_value(received_at),
        ],
    )
    cursor.execute(
        f"INSERT INTO {pending} (election_id, entry_id) SELECT %s, e.id FROM {entries} AS e "
        f"WHERE e.election_id = %s AND e.source_type_id = %s AND e.id > %s "
        f"AND EXISTS (SELECT 1 FROM {staged} AS s WHERE s.copy_uuid = e.source_pk) "
        f"ORDER BY e.id",
        [election.pk, election.pk, source_type, before],
    )


def _insert(cursor: CursorWrapper, election: Election, now: datetime.datetime) -> int:
    staged = _q(_STAGED.name)
    postgres = connection.vendor == "postgresql"
    figures = "CAST(s.figures AS jsonb)" if postgres else "s.figures"
    received_at = connection.ops.adapt_datetimefield_value(now)
    cursor.execute(
        f"INSERT INTO {_COPIES} (id, election_id, station_id, observer_id, organisation_id, "
        f"figures, all_members_signed, certified, body_sha256, received_at) "
        f"SELECT {_id('s.id')}, %s, p.id, b.id, o.id, {figures}, s.signed = 1, "
        f"s.certified = 1, s.body_sha256, %s FROM {staged} AS s {_JOINS} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {_COPIES} AS t WHERE t.id = {_id('s.id')})",
        [election.pk, received_at, election.pk],
    )
    return int(cursor.rowcount)
