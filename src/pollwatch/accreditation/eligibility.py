"""May this user submit a protocol copy for this station now?

The right to submit is the conjunction of three facts read fresh on every submission — so a
revocation blocks at once: the user is an observer, the observer's accreditation for the
station's election is `accredited`, and one of the observer's assignments to the station has a
window that, extended by the election's grace period, contains the moment of submission.

A submission needs one query when it is allowed: the observer with their organisation, their
accreditation status for the station's election, that election's grace period and time zone,
and the latest end of their assignments to the station that have started. A refusal reads the
windows again to say what they are.
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
    `station` at `at`; else why not, translated (as ``submission_refusal``).

    One query when allowed: the station's own election (its grace period) is read in it.
    """
    if not user.is_authenticated:
        return _("You are not registered as an observer.")
    standing = _standing(user.pk, station, at)
    if standing is None:
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
    return _outside_windows(standing, station, at)


@dataclass(frozen=True)
class _Standing:
    """What the right to submit at a station depends on, read in one query."""

    observer: Observer  # its organisation loaded
    accreditation_status: str | None  # for the station's election; None if none
    latest_end: datetime.datetime | None  # of the assignments to the station started by `at`
    grace: datetime.timedelta  # the station's election's
    time_zone: str  # the station's election's


def _standing(user_id: Any, station: PollingStation, at: datetime.datetime) -> _Standing | None:
    """The user's observer and their standing at `station`, or None if they are no observer.

    Hand-written SQL: the ORM's Subquery, annotations and select_related cost more CPU per
    submission to build and compile than the database takes to answer. Nothing of it is
    cached: a revocation must block the very next submission."""
    with connection.cursor() as cursor:
        cursor.execute(
            _standing_sql(connection),
            [
                station.pk,
                connection.ops.adapt_datetimefield_value(at),
                station.election_id,
                user_id,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    observer_end = rows.width(Observer)
    organisation_end = observer_end + rows.width(Organisation)
    observer = rows.instance(Observer, row[:observer_end], connection)
    organisation = rows.instance(Organisation, row[observer_end:organisation_end], connection)
    Observer.organisation.field.set_cached_value(observer, organisation)
    grace, time_zone, status, latest_end = row[organisation_end:]
    return _Standing(
        observer=observer,
        accreditation_status=status,
        latest_end=rows.value(Assignment._meta.get_field("ends_at"), latest_end, connection),
        grace=rows.value(Election._meta.get_field("submission_grace"), grace, connection),
        time_zone=time_zone,
    )


@rows.per_vendor
def _standing_sql(connection: BaseDatabaseWrapper) -> str:
    """Parameters: the station, the moment, the station's election, the user."""
    table = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(Observer, 'o', connection)}, "
        f"{rows.columns(Organisation, 'g', connection)}, e.submission_grace, e.time_zone, "
        f"(SELECT a.status FROM {table(Accreditation._meta.db_table)} a "
        " WHERE a.observer_id = o.id AND a.election_id = e.id LIMIT 1), "
        f"(SELECT MAX(w.ends_at) FROM {table(Assignment._meta.db_table)} w "
        " WHERE w.observer_id = o.id AND w.station_id = %s AND w.starts_at <= %s) "
        f"FROM {table(Observer._meta.db_table)} o "
        f"JOIN {table(Organisation._meta.db_table)} g ON g.id = o.organisation_id "
        f"JOIN {table(Election._meta.db_table)} e ON e.id = %s "
        "WHERE o.user_id = %s"
    )


def _outside_windows(standing: _Standing, station: PollingStation, at: datetime.datetime) -> str:
    """Why an accredited observer may not submit here now: no assignment, or not in its window."""
    windows = list(
        Assignment.objects.filter(observer=standing.observer, station_id=station.pk).values_list(
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
