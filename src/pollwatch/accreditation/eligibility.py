"""May this user submit a protocol copy for this station now?

The right to submit is the conjunction of three facts read fresh on every submission — so a
revocation blocks at once: the user is an observer, the observer's accreditation for the
station's election is `accredited`, and one of the observer's assignments to the station has a
window that, extended by the election's grace period, contains the moment of submission.

Those facts — the user's ``Standing`` at the station — are one query: on their own
(``eligible_observer``), or with the station, its election and template when a submission
names a station by id (``station_and_standing``: the API's one read before the lock). A refusal
reads the windows again to say what they are.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _

from pollwatch import rows
from pollwatch.accreditation.models import (
    Accreditation,
    AccreditationStatus,
    Assignment,
    Observer,
    Organisation,
)
from pollwatch.registry import lookups
from pollwatch.registry.models import Election, PollingStation


def submission_refusal(
    user: AbstractBaseUser | AnonymousUser, station: PollingStation, at: datetime.datetime
) -> str | None:
    """None when `user` may submit a copy for `station` at `at`; else why not, translated."""
    found = eligible_observer(user, station, at)
    return found if isinstance(found, str) else None


def eligible_observer(
    user: AbstractBaseUser | AnonymousUser,
    station: PollingStation,
    at: datetime.datetime,
) -> Observer | str:
    """The observer `user` submits as (organisation loaded) if they may submit a copy for
    `station` at `at`; else why not, translated (as ``submission_refusal``). One query."""
    if not user.is_authenticated:
        return _("You are not registered as an observer.")
    return judge(read_standing(user.pk, station, at), station, at)


@dataclass(frozen=True)
class Standing:
    """What a user's right to submit at a station depends on, read in one query."""

    observer: Observer | None  # its organisation loaded; None: the user is no observer
    accreditation_status: str | None  # for the station's election; None if none
    latest_end: datetime.datetime | None  # of the assignments to the station started by `at`
    grace: datetime.timedelta  # the station's election's
    time_zone: str  # the station's election's


def judge(standing: Standing, station: PollingStation, at: datetime.datetime) -> Observer | str:
    """The observer if ``standing`` (read for ``station`` at ``at``) lets them submit; else
    why not, translated."""
    if standing.observer is None:
        return _("You are not registered as an observer.")
    match standing.accreditation_status:
        case AccreditationStatus.ACCREDITED:
            pass
        case AccreditationStatus.REVOKED:
            return _("Your accreditation for this election has been revoked.")
        case AccreditationStatus.PENDING:
            return _("Your accreditation for this election is still pending.")
        case _unknown:
            return _("You are not accredited for this election.")
    # starts <= at <= ends + grace, for the assignment that started by `at` and ends latest
    if standing.latest_end is not None and at <= standing.latest_end + standing.grace:
        return standing.observer
    return _outside_windows(standing, standing.observer, station, at)


def read_standing(user_id: Any, station: PollingStation, at: datetime.datetime) -> Standing:
    """The user's standing at `station` at `at`.

    Hand-written SQL: the ORM's Subquery, annotations and select_related cost more CPU per
    submission to build and compile than the database takes to answer. Nothing of it is
    cached: a revocation must block the very next submission."""
    with connection.cursor() as cursor:
        cursor.execute(
            _standing_sql(connection),
            [*_standing_parameters(at, user_id, station.pk), station.election_id],
        )
        row = cursor.fetchone()
    return _standing_from(row, connection)


def station_and_standing(
    user_id: Any, station_id: int, election_slug: str, at: datetime.datetime
) -> tuple[PollingStation, Standing] | None:
    """Station ``station_id`` of the election ``election_slug`` (its election and template
    loaded, as ``registry.lookups.station_in_election``) with the user's standing there at
    ``at``, in one query; None if the election has no such station."""
    with connection.cursor() as cursor:
        cursor.execute(
            _station_and_standing_sql(connection),
            [*_standing_parameters(at, user_id, station_id), station_id, election_slug],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    station, rest = lookups.station_from_row(row, connection)
    return station, _standing_from(rest, connection)


def _standing_parameters(at: datetime.datetime, user_id: Any, station_id: int) -> list[Any]:
    """The parameters of ``_STANDING_COLUMNS`` and ``_OBSERVER_JOIN``, in order."""
    return [station_id, connection.ops.adapt_datetimefield_value(at), user_id]


def _standing_columns(connection: BaseDatabaseWrapper) -> str:
    """The standing's columns; the election is `e`, the observer `o`, their organisation `g`.
    Parameters: the station, the moment."""
    table = connection.ops.quote_name
    return (
        f"{rows.columns(Observer, 'o', connection)}, "
        f"{rows.columns(Organisation, 'g', connection)}, e.submission_grace, e.time_zone, "
        f"(SELECT a.status FROM {table(Accreditation._meta.db_table)} a "
        " WHERE a.observer_id = o.id AND a.election_id = e.id LIMIT 1), "
        f"(SELECT MAX(w.ends_at) FROM {table(Assignment._meta.db_table)} w "
        " WHERE w.observer_id = o.id AND w.station_id = %s AND w.starts_at <= %s)"
    )


def _observer_join(connection: BaseDatabaseWrapper) -> str:
    """The user's observer `o` and its organisation `g`, if any. Parameter: the user."""
    table = connection.ops.quote_name
    return (
        f"LEFT JOIN {table(Observer._meta.db_table)} o ON o.user_id = %s "
        f"LEFT JOIN {table(Organisation._meta.db_table)} g ON g.id = o.organisation_id"
    )


@rows.per_vendor
def _standing_sql(connection: BaseDatabaseWrapper) -> str:
    """Parameters: the station, the moment, the user, the station's election."""
    return (
        f"SELECT {_standing_columns(connection)} "
        f"FROM {connection.ops.quote_name(Election._meta.db_table)} e "
        f"{_observer_join(connection)} WHERE e.id = %s"
    )


@rows.per_vendor
def _station_and_standing_sql(connection: BaseDatabaseWrapper) -> str:
    """Parameters: the station, the moment, the user, the station, the election's slug."""
    return (
        f"SELECT {lookups.station_columns(connection)}, {_standing_columns(connection)} "
        f"{lookups.station_from(connection)} {_observer_join(connection)} "
        f"WHERE {lookups.STATION_WHERE}"
    )


def _standing_from(row: Any, connection: BaseDatabaseWrapper) -> Standing:
    observer_end = rows.width(Observer)
    organisation_end = observer_end + rows.width(Organisation)
    observer = None
    if row[0] is not None:  # the LEFT JOIN found an observer
        observer = rows.instance(Observer, row[:observer_end], connection)
        organisation = rows.instance(Organisation, row[observer_end:organisation_end], connection)
        Observer.organisation.field.set_cached_value(observer, organisation)
    grace, time_zone, status, latest_end = row[organisation_end:]
    return Standing(
        observer=observer,
        accreditation_status=status,
        latest_end=rows.value(Assignment._meta.get_field("ends_at"), latest_end, connection),
        grace=rows.value(Election._meta.get_field("submission_grace"), grace, connection),
        time_zone=time_zone,
    )


def _outside_windows(
    standing: Standing, observer: Observer, station: PollingStation, at: datetime.datetime
) -> str:
    """Why an accredited observer may not submit here now: no assignment, or not in its window."""
    windows = list(
        Assignment.objects.filter(observer=observer, station_id=station.pk).values_list(
            "starts_at", "ends_at"
        )
    )
    if not windows:
        return _("You are not assigned to polling station %(number)s.") % {"number": station.number}
    grace, zone = standing.grace, standing.time_zone
    spans = ", ".join(
        f"{_moment(starts, zone)} – {_moment(ends + grace, zone)}" for starts, ends in windows
    )
    return _(
        "You may submit for polling station %(number)s only within your assignment plus the "
        "grace period: %(windows)s. It is now %(now)s."
    ) % {"number": station.number, "windows": spans, "now": _moment(at, zone)}


def _moment(moment: datetime.datetime, zone: str) -> str:
    """A moment in the election's time zone, with its offset: unambiguous on any phone."""
    try:
        local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local = moment
    return local.isoformat(sep=" ", timespec="minutes")
