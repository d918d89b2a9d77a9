"""Helpers for the protocol pages' tests: assignments open now, official results, findings,
signing a test client (or a browser) in as anyone."""

from __future__ import annotations

import datetime
import hashlib
import io
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from PIL import Image

from pollwatch.accreditation.models import Assignment
from pollwatch.official.models import OfficialResult, OfficialSnapshot
from pollwatch.registry.models import PollingStation
from tests.accounts.factories import login_verified


def open_assignments_now(hours: int = 2) -> None:
    """Move every assignment's window around the present: the form submits at the real time."""
    now = timezone.now()
    Assignment.objects.update(
        starts_at=now - datetime.timedelta(hours=hours),
        ends_at=now + datetime.timedelta(hours=hours),
    )


def signed_in(user: User | None) -> Client:
    """A test client signed in as ``user`` (past the second factor), or anonymous for None."""
    client = Client()
    if user is not None:
        login_verified(client, user)
    return client


def publish_official(station: PollingStation, figures: Mapping[str, int]) -> OfficialResult:
    snapshot = OfficialSnapshot.objects.create(
        election=station.election,
        source="https://example.org/results.csv",
        sha256=hashlib.sha256(repr(sorted(figures.items())).encode()).hexdigest(),
        imported_at=timezone.now(),
        station_rows=1,
    )
    return OfficialResult.objects.create(
        snapshot=snapshot, election=station.election, station=station, figures=dict(figures)
    )


def jpeg_with_exif(colour: str = "red") -> bytes:
    """A small JPEG whose EXIF names the camera, as a phone's photo would."""
    image = Image.new("RGB", (32, 24), colour)
    exif = Image.Exif()
    exif[0x010F] = "TestPhone Maker"  # Make
    exif[0x0110] = "TestPhone 1"  # Model
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def form_data(**figures: object) -> dict[str, object]:
    """What the browser posts for ``figures`` (line key → value), with the checkboxes ticked."""
    data: dict[str, object] = {f"line_{key}": value for key, value in figures.items()}
    data.update({"all_members_signed": "on", "certified": "on"})
    return data
