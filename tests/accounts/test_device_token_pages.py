"""Observers manage their device tokens: create (shown once), list, revoke."""

from __future__ import annotations

import pytest
from django.test import Client

from pollwatch.accounts.device_tokens import authenticate_device_token, issue_device_token
from pollwatch.accounts.models import DeviceToken
from pollwatch.accounts.roles import Role
from tests.accounts.factories import login_verified, make_user

pytestmark = pytest.mark.django_db


def _observer_client(username: str = "olga") -> Client:
    client = Client()
    client.force_login(make_user(username, Role.OBSERVER))
    return client


def test_a_new_token_is_shown_once_and_works() -> None:
    client = _observer_client()
    response = client.post("/account/devices/", {"name": "my phone"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    row = DeviceToken.objects.get()
    start = body.index('data-testid="new-token">') + len('data-testid="new-token">')
    token = body[start : body.index("</code>", start)]
    assert token.startswith(row.prefix)
    assert authenticate_device_token(token) == row

    listing = client.get("/account/devices/").content.decode()
    assert "my phone" in listing and row.prefix in listing and token not in listing


def test_a_nameless_token_is_refused() -> None:
    client = _observer_client()
    assert client.post("/account/devices/", {"name": ""}).status_code == 400
    assert not DeviceToken.objects.exists()


def test_revoking_from_the_page_stops_the_token() -> None:
    client = _observer_client()
    owner = make_user("oleg", Role.OBSERVER)
    client.force_login(owner)
    issued = issue_device_token(owner, "phone")
    response = client.post(f"/account/devices/{issued.device.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/account/devices/"
    assert authenticate_device_token(issued.token) is None
    assert "Revoked" in client.get("/account/devices/").content.decode()


def test_nobody_revokes_another_observers_token() -> None:
    other = make_user("oleg", Role.OBSERVER)
    issued = issue_device_token(other, "phone")
    client = _observer_client()
    assert client.post(f"/account/devices/{issued.device.pk}/revoke/").status_code == 404
    assert authenticate_device_token(issued.token) is not None


def test_revoking_needs_post_and_a_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    owner = make_user("olga", Role.OBSERVER)
    client.force_login(owner)
    issued = issue_device_token(owner, "phone")
    path = f"/account/devices/{issued.device.pk}/revoke/"
    assert client.get(path).status_code == 405
    assert client.post(path).status_code == 403
    assert authenticate_device_token(issued.token) is not None


def test_staff_and_anonymous_have_no_token_pages() -> None:
    analyst = Client()
    login_verified(analyst, make_user("ana", Role.ANALYST))
    assert analyst.get("/account/devices/").status_code == 403
    assert analyst.post("/account/devices/", {"name": "x"}).status_code == 403
    anonymous = Client().get("/account/devices/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert not DeviceToken.objects.exists()
