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
from django.db.models import Exists, OuterRef, Subquery
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
    status = Subquery(
        Accreditation.objects.filter(observer=OuterRef("pk"), election_id=election.pk).values(
            "status"
        )[:1]
    )
    # starts <= at <= ends + grace, with the grace moved to the side of the parameter.
    in_window = Assignment.objects.filter(
        observer=OuterRef("pk"),
        station_id=station.pk,
        starts_at__lte=at,
        ends_at__gte=at - election.submission_grace,
    )
    observer = (
        Observer.objects.filter(user_id=user.pk)
        .select_related("organisation")
        .annotate(accreditation_status=status, in_window=Exists(in_window))
        .first()
    )
    if observer is None:
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
