"""Reading the native organisation, observer and assignment files, row by row.

Every cell is checked as it is read and every problem is collected (file, row, column, what was
expected), so that a coordinator fixes a file in one go; any problem means nothing is imported.
References to the database (organisation and observer codes, stations) are checked later, by
`imports`, against the rows these functions return.

    organisations: code, name, kind, share_with_mission, share_with_organisations
    observers:     organisation, code, full_name, contact, languages, accreditation_number
    assignments:   organisation, observer, station, starts_at, ends_at
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

from django.db import models
from django.utils.translation import gettext as _

from pollwatch.accreditation.models import (
    Accreditation,
    Observer,
    Organisation,
    OrganisationKind,
)
from pollwatch.core.progress import Counted, OnRows
from pollwatch.core.structure.mapping import ColumnSpec, TableMapping
from pollwatch.core.structure.problems import Problems
from pollwatch.core.structure.rows import RowReader
from pollwatch.core.tabular import open_table

ORGANISATION_COLUMNS = {
    "code": True,
    "name": True,
    "kind": True,
    "share_with_mission": True,
    "share_with_organisations": True,
}
OBSERVER_COLUMNS = {
    "organisation": True,
    "code": True,
    "full_name": True,
    "contact": False,
    "languages": False,
    "accreditation_number": False,
}
ASSIGNMENT_COLUMNS = {
    "organisation": True,
    "observer": True,
    "station": True,
    "starts_at": True,
    "ends_at": True,
}

_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
# ISO 639 language codes, optionally with a region or script: kk, ru, en-GB, sr-Latn.
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{2,8})*")
_BOOLEANS = {"yes": True, "no": False}


def _max_length(model: type[Organisation | Observer | Accreditation], field: str) -> int:
    column = model._meta.get_field(field)
    assert isinstance(column, models.Field) and column.max_length is not None
    return column.max_length


Row = TypeVar("Row")


class OrganisationRow(NamedTuple):
    row: int
    code: str
    name: str
    kind: str
    share_with_mission: bool
    share_with_organisations: bool


class ObserverRow(NamedTuple):
    row: int
    organisation: str
    code: str
    full_name: str
    contact: str
    languages: tuple[str, ...]
    accreditation_number: str


class AssignmentRow(NamedTuple):
    row: int
    organisation: str
    observer: str
    station: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime


@dataclass(frozen=True)
class FileRows(Generic[Row]):
    source: str  # the file as messages name it
    rows: list[Row]
    problems: Problems  # the reading's problems, to which reference checks add theirs


class _Cells:
    """A RowReader over a fixed set of columns, plus the checks these files need."""

    def __init__(self, reader: RowReader) -> None:
        self.reader = reader

    def text(self, name: str, max_length: int, required: bool = True) -> str | None:
        return self.reader.text(name, required=required, max_length=max_length)

    def choice(self, name: str, choices: list[str]) -> str | None:
        value = self.reader.text(name)
        if value is None:
            return None
        if value not in choices:
            self.reader.fail(
                name,
                _("expected one of %(choices)s, got %(value)r")
                % {"choices": ", ".join(choices), "value": value},
            )
            return None
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.reader.text(name)
        if value is None:
            return None
        if value.lower() not in _BOOLEANS:
            self.reader.fail(name, _("expected yes or no, got %(value)r") % {"value": value})
            return None
        return _BOOLEANS[value.lower()]

    def slug(self, name: str, max_length: int) -> str | None:
        value = self.reader.text(name, max_length=max_length)
        if value is not None and not _SLUG.fullmatch(value):
            self.reader.fail(
                name,
                _("expected a code of letters, digits, hyphens and underscores, got %(value)r")
                % {"value": value},
            )
            return None
        return value

    def languages(self, name: str) -> tuple[str, ...] | None:
        value = self.reader.text(name, required=False)
        if value is None:
            return None
        codes = tuple(value.split())
        bad = [code for code in codes if not _LANGUAGE.fullmatch(code)]
        if bad:
            self.reader.fail(
                name,
                _("expected language codes separated by spaces (e.g. kk ru), got %(value)r")
                % {"value": bad[0]},
            )
            return None
        return codes

    def moment(self, name: str) -> datetime.datetime | None:
        value = self.reader.text(name)
        if value is None:
            return None
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            self.reader.fail(
                name,
                _(
                    "expected a date and time in ISO 8601 with its UTC offset, "
                    "e.g. 2026-03-15T08:00+05:00, got %(value)r"
                )
                % {"value": value},
            )
            return None
        return moment


@contextmanager
def _open(
    path: Path, sheet: str | None, columns: dict[str, bool], problems: Problems
) -> Iterator[tuple[str, RowReader, Iterator[tuple[int, list[str]]]]]:
    """The table's source name, a reader of its columns, and its rows; raises at once when
    a required column is missing, since every row would then repeat the complaint."""
    with open_table(path, sheet) as table:
        mapping = TableMapping(sheet=sheet, fields={name: ColumnSpec(name) for name in columns})
        reader = RowReader(table, mapping, columns, problems)
        problems.raise_if_any()
        yield table.source, reader, table.rows


def read_organisations(path: Path, sheet: str | None = None) -> FileRows[OrganisationRow]:
    problems = Problems()
    rows: list[OrganisationRow] = []
    first_row: dict[str, int] = {}
    code_max = _max_length(Organisation, "code")
    name_max = _max_length(Organisation, "name")
    kinds = list(OrganisationKind.values)
    with _open(path, sheet, ORGANISATION_COLUMNS, problems) as (source, reader, lines):
        cells = _Cells(reader)
        for number, line in lines:
            if not reader.start(number, line):
                continue
            values = (
                cells.slug("code", code_max),
                cells.text("name", name_max),
                cells.choice("kind", kinds),
                cells.boolean("share_with_mission"),
                cells.boolean("share_with_organisations"),
            )
            code, name, kind, mission, others = values
            if code is None or name is None or kind is None or mission is None or others is None:
                continue
            if code in first_row:
                reader.fail(
                    "code",
                    _("organisation %(code)r is already given at row %(row)d")
                    % {"code": code, "row": first_row[code]},
                )
                continue
            first_row[code] = number
            rows.append(OrganisationRow(number, code, name, kind, mission, others))
    if not rows and not problems.total:
        problems.add(
            source, None, None, _("expected at least one row below the header, found none")
        )
    return FileRows(source, rows, problems)


def read_observers(
    path: Path, sheet: str | None = None, on_rows: OnRows | None = None
) -> FileRows[ObserverRow]:
    problems = Problems()
    rows: list[ObserverRow] = []
    first_row: dict[tuple[str, str], int] = {}
    number_row: dict[str, int] = {}
    org_max = _max_length(Organisation, "code")
    code_max = _max_length(Observer, "code")
    name_max = _max_length(Observer, "full_name")
    contact_max = _max_length(Observer, "contact")
    accreditation_max = _max_length(Accreditation, "number")
    with _open(path, sheet, OBSERVER_COLUMNS, problems) as (source, reader, lines):
        cells = _Cells(reader)
        for number, line in Counted(lines, on_rows):
            if not reader.start(number, line):
                continue
            organisation = cells.text("organisation", org_max)
            code = cells.text("code", code_max)
            full_name = cells.text("full_name", name_max)
            contact = cells.text("contact", contact_max, required=False)
            languages = cells.languages("languages")
            accreditation = cells.text("accreditation_number", accreditation_max, required=False)
            if (
                organisation is None
                or code is None
                or full_name is None
                or contact is None
                or languages is None
                or accreditation is None
            ):
                continue
            key = (organisation, code)
            if key in first_row:
                reader.fail(
                    "code",
                    _("observer %(code)r of %(organisation)r is already given at row %(row)d")
                    % {"code": code, "organisation": organisation, "row": first_row[key]},
                )
                continue
            if accreditation and accreditation in number_row:
                reader.fail(
                    "accreditation_number",
                    _("accreditation number %(number)r is already given at row %(row)d")
                    % {"number": accreditation, "row": number_row[accreditation]},
                )
                continue
            first_row[key] = number
            if accreditation:
                number_row[accreditation] = number
            rows.append(
                ObserverRow(
                    number, organisation, code, full_name, contact, languages, accreditation
                )
            )
    if not rows and not problems.total:
        problems.add(
            source, None, None, _("expected at least one row below the header, found none")
        )
    return FileRows(source, rows, problems)


def read_assignments(
    path: Path, sheet: str | None = None, on_rows: OnRows | None = None
) -> FileRows[AssignmentRow]:
    problems = Problems()
    rows: list[AssignmentRow] = []
    first_row: dict[tuple[str, str, str, datetime.datetime, datetime.datetime], int] = {}
    org_max = _max_length(Organisation, "code")
    code_max = _max_length(Observer, "code")
    with _open(path, sheet, ASSIGNMENT_COLUMNS, problems) as (source, reader, lines):
        cells = _Cells(reader)
        for number, line in Counted(lines, on_rows):
            if not reader.start(number, line):
                continue
            organisation = cells.text("organisation", org_max)
            observer = cells.text("observer", code_max)
            station = cells.text("station", 255)  # PollingStation.code
            starts_at = cells.moment("starts_at")
            ends_at = cells.moment("ends_at")
            if (
                organisation is None
                or observer is None
                or station is None
                or starts_at is None
                or ends_at is None
            ):
                continue
            if ends_at <= starts_at:
                reader.fail(
                    "ends_at",
                    _("expected the end after the start (%(starts)s), got %(ends)s")
                    % {"starts": starts_at.isoformat(), "ends": ends_at.isoformat()},
                )
                continue
            key = (organisation, observer, station, starts_at, ends_at)
            if key in first_row:
                reader.fail(
                    "station",
                    _("the same assignment is already given at row %(row)d")
                    % {"row": first_row[key]},
                )
                continue
            first_row[key] = number
            rows.append(AssignmentRow(number, organisation, observer, station, starts_at, ends_at))
    if not rows and not problems.total:
        problems.add(
            source, None, None, _("expected at least one row below the header, found none")
        )
    return FileRows(source, rows, problems)
