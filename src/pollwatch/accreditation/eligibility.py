"""May this user submit a protocol copy for this station now?

The right to submit is the conjunction of three facts read fresh on every submission — so a
revocation blocks at once: the user is an observer, the observer's accreditation for the
station's election is `accredited`, and one of the observer's assignments to the station has a
window that, extended by the election's grace period, contains the moment of submission.

Two queries at most: the observer with their accreditation status, then their assignments to
the station with the election's grace period and time zone.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from pollwatch.accreditation.models import Accreditation, AccreditationStatus, Assignment, Observer
from pollwatch.registry.models import PollingStation


def submission_refusal(
    user: AbstractBaseUser | AnonymousUser, station: PollingStation, at: datetime.datetime
) -> str | None:
    """None when `user` may submit a copy for `station` at `at`; else why not, translated."""
    if not user.is_authenticated:
        return _("You are not registered as an observer.")
    status = Subquery(
        Accreditation.objects.filter(
            observer=OuterRef("pk"), election_id=station.election_id
        ).values("status")[:1]
    )
    observer = (
        Observer.objects.filter(user_id=user.pk)
        .annotate(accreditation_status=status)
        .values("pk", "accreditation_status")
        .first()
    )
    if observer is None:
        return _("You are not registered as an observer.")
    match observer["accreditation_status"]:
        case AccreditationStatus.ACCREDITED:
            pass
        case AccreditationStatus.REVOKED:
            return _("Your accreditation for this election has been revoked.")
        case AccreditationStatus.PENDING:
            return _("Your accreditation for this election is still pending.")
        case _unknown:
            return _("You are not accredited for this election.")
    windows = list(
        Assignment.objects.filter(observer_id=observer["pk"], station_id=station.pk).values_list(
            "starts_at",
            "ends_at",
            "station__election__submission_grace",
            "station__election__time_zone",
        )
    )
    if not windows:
        return _("You are not assigned to polling station %(number)s.") % {"number": station.number}
    if any(starts <= at <= ends + grace for starts, ends, grace, _zone in windows):
        return None
    zone = windows[0][3]
    spans = ", ".join(
        f"{_moment(starts, zone)} – {_moment(ends + grace, zone)}"
        for starts, ends, grace, _zone in windows
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
