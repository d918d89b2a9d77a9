"""The benchmark's URL conf (bench/auth_overhead.py): one station lookup served four ways.

The same operation body behind no authentication, behind api_auth with a device token or a
staff session, and behind api_auth plus the submission rule (accreditation.eligibility), so
that the differences between them are what authentication and authorisation cost.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import HttpError

from pollwatch.accounts.api_auth import api_auth
from pollwatch.accreditation.eligibility import submission_refusal
from pollwatch.registry.models import PollingStation

api = NinjaAPI(title="bench", version="bench", urls_namespace="bench-auth")


def _station(station_id: int) -> PollingStation:
    station = PollingStation.objects.filter(pk=station_id).first()
    if station is None:
        raise HttpError(404, "no such station")
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
    station = _station(station_id)
    refusal = submission_refusal(request.user, station, timezone.now())
    if refusal is not None:
        raise HttpError(403, refusal)
    return _out(station)


urlpatterns = [path("bench/", api.urls)]
