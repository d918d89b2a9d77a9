"""May this user submit a protocol copy for this station now?

The right to submit is the conjunction of three facts read fresh on every submission — so a
revocation blocks at once: the user is an observer, the observer's accreditation for the
station's election is `accredited`, and one of the observer's assignments to the station has a
window that, extended by the election's grace period, contains the moment of submission.

A submission needs one query when it is allowed (``eligible_observer``, given the election):
the observer with their organisation, their accreditation status and whether an assignment's
window contains the moment. A refusal reads the windows again to say what they are.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import BooleanField, CharField
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from pollwatch.accreditation.models import Accreditation, AccreditationStatus, Assignment, Observer
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
    *,
    election: Election | None = None,
) -> Observer | str:
    """The observer `user` submits as (organisation loaded) if they may submit a copy for
    `station` at `at`; else why not, translated (as ``submission_refusal``).

    `election`: the station's election if the caller has it, which spares reading it (its
    grace period); a submission then costs one query.
    """
    if not user.is_authenticated:
        return _("You are not registered as an observer.")
    if election is None or election.pk != station.election_id:
        election = station.election
    try:
        observer = (
            Observer.objects.select_related("organisation")
            .annotate(
                accreditation_status=_accreditation_status(election),
                # starts <= at <= ends + grace, the grace moved to the side of the moment
                in_window=_in_window(station, at - election.submission_grace, at),
            )
            .get(user_id=user.pk)
        )
    except Observer.DoesNotExist:
        return _("You are not registered as an observer.")
    match observer.accreditation_status:
        case AccreditationStatus.ACCREDITED:
            pass
        case AccreditationStatus.REVOKED:
            return _("Your accreditation for this election has been revoked.")
        case AccreditationStatus.PENDING:
            return _("Your accreditation for this election is still pending.")
        case _unknown:
            return _("You are not accredited for this election.")
    if observer.in_window:
        return observer
    return _outside_windows(observer, station, election, at)


# The two facts below are written as SQL: the ORM's Subquery and Exists cost 0.8 ms of CPU
# per submission to build and compile, more than the database takes to answer them.


def _accreditation_status(election: Election) -> RawSQL:
    """The observer's accreditation status for ``election``, NULL if there is none."""
    return RawSQL(
        f"SELECT a.status FROM {Accreditation._meta.db_table} AS a "
        f"WHERE a.observer_id = {Observer._meta.db_table}.id AND a.election_id = %s LIMIT 1",
        [election.pk],
        output_field=CharField(),
    )


def _in_window(
    station: PollingStation, earliest_end: datetime.datetime, at: datetime.datetime
) -> RawSQL:
    """Whether one of the observer's assignments to ``station`` starts by ``at`` and ends no
    earlier than ``earliest_end`` (``at`` less the grace period)."""
    adapt = connection.ops.adapt_datetimefield_value  # SQLite compares datetimes as text
    return RawSQL(
        f"EXISTS (SELECT 1 FROM {Assignment._meta.db_table} AS w "
        f"WHERE w.observer_id = {Observer._meta.db_table}.id AND w.station_id = %s "
        "AND w.starts_at <= %s AND w.ends_at >= %s)",
        [station.pk, adapt(at), adapt(earliest_end)],
        output_field=BooleanField(),
    )


def _outside_windows(
    observer: Observer, station: PollingStation, election: Election, at: datetime.datetime
) -> str:
    """Why an accredited observer may not submit here now: no assignment, or not in its window."""
    windows = list(
        Assignment.objects.filter(observer=observer, station_id=station.pk).values_list(
            "starts_at", "ends_at"
        )
    )
    if not windows:
        return _("You are not assigned to polling station %(number)s.") % {"number": station.number}
    grace, zone = election.submission_grace, election.time_zone
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
