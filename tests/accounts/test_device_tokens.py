"""Observers' device tokens: shown once, hashed at rest, revocable; the API's bearer auth."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pollwatch.accounts.device_tokens import (
    DeviceTokenError,
    authenticate_device_token,
    issue_device_token,
    revoke_device_token,
)
from pollwatch.accounts.models import AuditEntry, DeviceToken
from pollwatch.accounts.roles import Role
from tests.accounts.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.probe_api")]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_token_is_stored_only_as_its_sha256() -> None:
    observer = make_user("olga", Role.OBSERVER)
    issued = issue_device_token(observer, "  Olga's phone ")

    row = DeviceToken.objects.get()
    assert row.name == "Olga's phone" and row.user == observer
    assert row.token_sha256 == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in {str(v) for v in row.__dict__.values()} - {row.prefix}
    assert issued.token.startswith(row.prefix) and len(row.prefix) == 12
    assert len(issued.token) >= 40  # 32 random bytes, base64url
    assert issue_device_token(observer, "laptop").token != issued.token


def test_bearer_token_authenticates_its_observer_and_marks_use() -> None:
    observer = make_user("olga", Role.OBSERVER)
    issued = issue_device_token(observer, "phone")

    response = Client().get("/api/probe/whoami", headers=_bearer(issued.token))

    assert response.status_code == 200 and response.json() == {"username": "olga"}
    issued.device.refresh_from_db()
    assert issued.device.last_used_at is not None


def test_bearer_token_needs_no_csrf_token() -> None:
    issued = issue_device_token(make_user("olga", Role.OBSERVER), "phone")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/probe/touch", headers=_bearer(issued.token))
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_revoked_token_is_refused_with_401_and_changes_nothing(method: str) -> None:
    observer = make_user("olga", Role.OBSERVER)
    issued = issue_device_token(observer, "phone")
    revoke_device_token(observer, issued.device)
    entries, groups = AuditEntry.objects.count(), Group.objects.count()

    path = "/api/probe/whoami" if method == "get" else "/api/probe/touch"
    response = getattr(Client(enforce_csrf_checks=True), method)(
        path, headers=_bearer(issued.token)
    )

    assert response.status_code == 401
    assert AuditEntry.objects.count() == entries and Group.objects.count() == groups
    issued.device.refresh_from_db()
    assert issued.device.last_used_at is None


@pytest.mark.parametrize(
    "header",
    ["Bearer pwd_not-a-real-token", "Bearer ", "Bearer x", "Basic b2xnYTpwdw==", "pwd_abc"],
)
def test_unknown_or_malformed_credentials_are_401(header: str) -> None:
    issue_device_token(make_user("olga", Role.OBSERVER), "phone")
    assert Client().get("/api/probe/whoami", headers={"Authorization": header}).status_code == 401


def test_token_of_a_deactivated_user_is_refused() -> None:
    observer = make_user("olga", Role.OBSERVER)
    issued = issue_device_token(observer, "phone")
    observer.is_active = False
    observer.save()
    assert Client().get("/api/probe/whoami", headers=_bearer(issued.token)).status_code == 401


def test_last_used_is_written_at_most_once_a_minute() -> None:
    issued = issue_device_token(make_user("olga", Role.OBSERVER), "phone")
    first = authenticate_device_token(issued.token)
    assert first is not None and first.last_used_at is not None
    again = authenticate_device_token(issued.token)
    assert again is not None and again.last_used_at == first.last_used_at
    DeviceToken.objects.filter(pk=first.pk).update(
        last_used_at=timezone.now() - timezone.timedelta(minutes=2)
    )
    later = authenticate_device_token(issued.token)
    assert later is not None and later.last_used_at > first.last_used_at  # type: ignore[operator]
    assert DeviceToken.objects.get(pk=first.pk).last_used_at == later.last_used_at  # written


def test_only_observers_get_tokens_and_a_name_is_required() -> None:
    with pytest.raises(DeviceTokenError, match="Only observers"):
        issue_device_token(make_user("ana", Role.ANALYST), "phone")
    observer = make_user("olga", Role.OBSERVER)
    with pytest.raises(DeviceTokenError, match="name"):
        issue_device_token(observer, "   ")
    with pytest.raises(DeviceTokenError, match="100 characters"):
        issue_device_token(observer, "x" * 101)
    assert not DeviceToken.objects.exists() and not AuditEntry.objects.exists()


def test_revoking_twice_is_refused_and_both_steps_are_audited() -> None:
    observer = make_user("olga", Role.OBSERVER)
    issued = issue_device_token(observer, "phone")
    revoke_device_token(observer, issued.device)
    revoked_at = DeviceToken.objects.get().revoked_at
    with pytest.raises(DeviceTokenError, match="already revoked"):
        revoke_device_token(observer, issued.device)
    assert DeviceToken.objects.get().revoked_at == revoked_at
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["device_token.create", "device_token.revoke"]


def test_a_stale_token_is_marked_used_in_the_statement_that_reads_it_on_postgresql() -> None:
    issued = issue_device_token(make_user("olga", Role.OBSERVER), "phone")
    with CaptureQueriesContext(connection) as queries:
        found = authenticate_device_token(issued.token)
    assert found is not None and found.last_used_at is not None
    assert DeviceToken.objects.get(pk=found.pk).last_used_at == found.last_used_at  # written
    # SQLite's round trips cost nothing: there the mark is a second statement
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)


def test_a_token_that_is_refused_is_not_marked_used() -> None:
    observer = make_user("olga", Role.OBSERVER)
    deactivated = issue_device_token(observer, "phone")
    revoked = issue_device_token(observer, "tablet")
    revoke_device_token(observer, revoked.device)
    User.objects.filter(pk=observer.pk).update(is_active=False)
    for issued in (deactivated, revoked):
        assert authenticate_device_token(issued.token) is None
        assert DeviceToken.objects.get(pk=issued.device.pk).last_used_at is None
    User.objects.filter(pk=observer.pk).update(is_active=True)
    assert authenticate_device_token(revoked.token) is None
    assert DeviceToken.objects.get(pk=revoked.device.pk).last_used_at is None
