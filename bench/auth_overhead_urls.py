"""The benchmark's URL conf (bench/auth_overhead.py): one station lookup served four ways.

The station read a protocol-copy submission makes, behind no authentication, behind api_auth
with a device token or a staff session, and behind api_auth plus the submission rule
(accreditation.eligibility, read as the submission reads it), so that the differences between
them are what authentication and authorisation cost.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import HttpError

from pollwatch.accounts.api_auth import api_auth
from pollwatch.accreditation import eligibility
from pollwatch.registry.lookups import station_in_election
from pollwatch.registry.models import PollingStation

api = NinjaAPI(title="bench", version="bench", urls_namespace="bench-auth")


ELECTION = "bench"  # the election bench/auth_overhead.py builds


def _station(station_id: int) -> PollingStation:
    """The station as a submission reads it: with its election and template, one query."""
    station = station_in_election(station_id, ELECTION)
    if station is None:
        raise HttpError(404, "no such station")
    return station


def _station_if_allowed(request: HttpRequest, station_id: int) -> PollingStation:
    """The station and the submission rule, read as a submission reads them: in one query
    with the user's standing there (``station_and_standing``). Source trees from before that
    function read the station, then the rule, as their submissions did."""
    now = timezone.now()
    read_together = getattr(eligibility, "station_and_standing", None)
    if read_together is None:
        station = _station(station_id)
        refusal = eligibility.submission_refusal(request.user, station, now)
    else:
        found = read_together(request.user.pk, station_id, ELECTION, now)
        if found is None:
            raise HttpError(404, "no such station")
        station, standing = found
        judged = eligibility.judge(standing, station, now)
        refusal = judged if isinstance(judged, str) else None
    if refusal is not None:
        raise HttpError(403, refusal)
    return station


def _out(station: PollingStation) -> dict[str, object]:
    return {"id": station.pk, "code": station.code, "registered": station.registered_voters}


@api.get("/open/stations/{station_id}")
def open_station(request: HttpRequest, station_id: int) -> dict[str, object]:
    return _out(_station(station_id))


@api.get("/auth/stations/{station_id}", auth=api_auth)
def authenticated_station(request: HttpRequest, station_id: int) -> dict[str, object]:
    return _out(_station(station_id))


@api.get("/authz/stations/{station_id}", auth=api_auth)
def authorised_station(request: HttpRequest, station_id: int) -> dict[str, object]:
    return _out(_station_if_allowed(request, station_id))


urlpatterns = [path("bench/", api.urls)]
