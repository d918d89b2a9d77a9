"""Staff call the API with their web session: CSRF on unsafe methods, second factor required."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from pollwatch.accounts.models import AuditEntry
from pollwatch.accounts.roles import Role
from tests.accounts.factories import login_verified, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.probe_api")]


def _csrf_client(user_role: Role = Role.ANALYST) -> Client:
    client = Client(enforce_csrf_checks=True)
    login_verified(client, make_user("ana", user_role))
    return client


def test_verified_staff_session_reads_and_writes_with_csrf_token() -> None:
    client = _csrf_client()
    assert client.get("/api/probe/whoami").json() == {"username": "ana"}
    token = _csrf_token(client)
    response = client.post("/api/probe/touch", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json() == {"entries": 1}


def test_post_without_csrf_token_is_403_and_changes_nothing() -> None:
    client = _csrf_client()
    _csrf_token(client)  # the cookie is there; the header is not

    response = client.post("/api/probe/touch")

    assert response.status_code == 403
    assert (
        not AuditEntry.objects.exists()
        and not Group.objects.filter(name__startswith="touched").exists()
    )


def test_staff_session_without_second_factor_is_401() -> None:
    client = Client()
    client.force_login(make_user("ana", Role.ANALYST))  # password only
    assert client.get("/api/probe/whoami").status_code == 401


def test_observer_session_needs_no_second_factor() -> None:
    client = Client()
    client.force_login(make_user("olga", Role.OBSERVER))
    assert client.get("/api/probe/whoami").json() == {"username": "olga"}


def test_anonymous_is_401_and_open_operations_stay_open() -> None:
    assert Client().get("/api/probe/whoami").status_code == 401
    assert Client().get("/api/probe/open").json() == {"ok": True}


def _csrf_token(client: Client) -> str:
    """Get a CSRF cookie the way a browser does, from a page with a form."""
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    return _mask_cipher_secret(secret)
