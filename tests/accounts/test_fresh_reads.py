"""Authentication reads what it depends on fresh on every request, by hand-written SQL
(pollwatch/rows.py): whatever is revoked between two requests is refused on the second, and
the rows read by hand are the rows the ORM reads."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from pollwatch import rows
from pollwatch.accounts.backends import AccountBackend
from pollwatch.accounts.device_tokens import (
    authenticate_device_token,
    issue_device_token,
    revoke_device_token,
)
from pollwatch.accounts.models import DeviceToken, Session
from pollwatch.accounts.otp import VerifiedDeviceMiddleware
from pollwatch.accounts.roles import Role
from pollwatch.accounts.sessions import SessionStore
from pollwatch.accounts.user_devices import CONFIRMED_TOTP_DEVICES
from tests.accounts.factories import login_verified, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.probe_api")]

WHOAMI = "/api/probe/whoami"


def _token_client() -> tuple[Client, DeviceToken, User]:
    observer = make_user("olga", Role.OBSERVER)
    issued = issue_device_token(observer, "phone")
    client = Client(headers={"Authorization": f"Bearer {issued.token}"})
    assert client.get(WHOAMI).json() == {"username": "olga"}
    return client, issued.device, observer  # type: ignore[return-value]


def _staff_client() -> tuple[Client, User]:
    analyst = make_user("ana", Role.ANALYST)
    client = Client()
    login_verified(client, analyst)
    assert client.get(WHOAMI).json() == {"username": "ana"}
    return client, analyst  # type: ignore[return-value]


def test_a_token_revoked_after_a_request_is_refused_on_the_next() -> None:
    client, device, observer = _token_client()
    revoke_device_token(observer, device)
    assert client.get(WHOAMI).status_code == 401


def test_a_token_whose_user_is_deactivated_after_a_request_is_refused_on_the_next() -> None:
    client, _device, observer = _token_client()
    User.objects.filter(pk=observer.pk).update(is_active=False)
    assert client.get(WHOAMI).status_code == 401


def test_a_token_is_checked_in_one_query_that_loads_its_user() -> None:
    issued = issue_device_token(make_user("olga", Role.OBSERVER), "phone")
    authenticate_device_token(issued.token)  # marks it used: no write below
    with CaptureQueriesContext(connection) as queries:
        found = authenticate_device_token(issued.token)
        assert found is not None and found.pk == issued.device.pk
        assert found.user.get_username() == "olga"
    assert len(queries) == 1


def test_the_token_row_read_by_hand_is_the_row_the_orm_reads() -> None:
    issued = issue_device_token(make_user("olga", Role.OBSERVER), "phone")
    found = authenticate_device_token(issued.token)
    assert found is not None
    expected = DeviceToken.objects.select_related("user").get(pk=issued.device.pk)
    assert _fields(found) == _fields(expected)
    assert _fields(found.user) == _fields(expected.user)
    assert isinstance(found.created_at, datetime.datetime) and timezone.is_aware(found.created_at)


def test_a_session_logged_out_elsewhere_is_refused_on_the_next_request() -> None:
    client, analyst = _staff_client()
    other = Client()
    login_verified(other, analyst)
    Session.objects.filter(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).delete()
    assert client.get(WHOAMI).status_code == 401
    assert other.get(WHOAMI).status_code == 200  # only the deleted session is gone


def test_an_expired_session_is_refused() -> None:
    client, _analyst = _staff_client()
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(WHOAMI).status_code == 401


def test_a_user_deactivated_after_a_request_is_refused_on_the_next() -> None:
    client, analyst = _staff_client()
    User.objects.filter(pk=analyst.pk).update(is_active=False)
    assert client.get(WHOAMI).status_code == 401


def test_a_changed_password_ends_the_other_sessions_at_once() -> None:
    client, analyst = _staff_client()
    analyst.set_password("another long passphrase")
    analyst.save()
    assert client.get(WHOAMI).status_code == 401


@pytest.mark.parametrize("change", ["unconfirm", "delete", "give away"])
def test_a_second_factor_device_that_stops_counting_unverifies_the_session(change: str) -> None:
    client, analyst = _staff_client()
    devices = TOTPDevice.objects.filter(user=analyst)
    if change == "unconfirm":
        devices.update(confirmed=False)
    elif change == "delete":
        devices.delete()
    else:
        devices.update(user=make_user("someone", Role.ANALYST))
    assert client.get(WHOAMI).status_code == 401
    assert DEVICE_ID_SESSION_KEY not in client.session  # django-otp forgot it


@pytest.mark.parametrize("persistent_id", ["otp_totp.totpdevice/x1", "otp_totp.nosuch/1", "junk"])
def test_a_malformed_device_id_in_the_session_verifies_nothing(persistent_id: str) -> None:
    client, _analyst = _staff_client()
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = persistent_id
    session.save()
    assert client.get(WHOAMI).status_code == 401


def test_a_verified_staff_session_costs_one_query() -> None:
    """The session row joined to its user and their confirmed TOTP devices, through the real
    middleware chain."""
    client, _analyst = _staff_client()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(WHOAMI).status_code == 200
    assert [_table(query["sql"]) for query in queries.captured_queries] == ["accounts_session"]
    for table in ("auth_user", "otp_totp_totpdevice"):
        assert table in queries.captured_queries[0]["sql"]


def test_the_backend_loads_the_users_confirmed_devices_only() -> None:
    analyst = make_user("ana", Role.ANALYST)
    assert getattr(AccountBackend().get_user(analyst.pk), CONFIRMED_TOTP_DEVICES) == []
    confirmed = [TOTPDevice.objects.create(user=analyst, name=n, confirmed=True) for n in "ab"]
    TOTPDevice.objects.create(user=analyst, name="pending", confirmed=False)
    TOTPDevice.objects.create(user=make_user("other", Role.ANALYST), name="x", confirmed=True)
    user = AccountBackend().get_user(analyst.pk)
    assert user is not None and _fields(user) == _fields(User.objects.get(pk=analyst.pk))
    devices = getattr(user, CONFIRMED_TOTP_DEVICES)
    assert sorted(map(_fields, devices), key=str) == sorted(map(_fields, confirmed), key=str)
    assert AccountBackend().get_user(10**9) is None


def test_the_device_of_a_user_loaded_otherwise_is_read_by_its_id() -> None:
    """A user not loaded by AccountBackend (no devices with it): django-otp's rules still
    apply to the device read, and a device id that is no TOTP device's falls back."""
    analyst = make_user("ana", Role.ANALYST)
    device = TOTPDevice.objects.create(user=analyst, name="phone", confirmed=True)
    middleware = VerifiedDeviceMiddleware(lambda request: None)
    found = middleware._device_of(User.objects.get(pk=analyst.pk), device.persistent_id)
    assert found is not None and _fields(found) == _fields(device)
    other_id = f"otp_totp.totpdevice/{device.pk + 1}"
    assert middleware._device_of(User.objects.get(pk=analyst.pk), other_id) is None
    assert middleware._device_of(analyst, "otp_totp.nosuch/1") is None


def test_the_session_rows_read_by_hand_are_the_rows_the_orm_reads() -> None:
    client, analyst = _staff_client()
    device = TOTPDevice.objects.get(user=analyst)
    assert _fields(rows.fetch_one(TOTPDevice, "t.id = %s", [device.pk])) == _fields(device)
    assert _fields(rows.fetch_one(User, "t.id = %s", [analyst.pk])) == _fields(
        User.objects.get(pk=analyst.pk)
    )
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = SessionStore(key)
    assert _fields(store._get_session_from_db()) == _fields(Session.objects.get(pk=key))
    user = store._user_read
    assert _fields(user) == _fields(User.objects.get(pk=analyst.pk))
    assert list(map(_fields, getattr(user, CONFIRMED_TOTP_DEVICES))) == [_fields(device)]
    unknown = SessionStore("no-such-session")
    assert unknown._get_session_from_db() is None and unknown._user_read is None


def _fields(instance: object) -> dict[str, object]:
    assert instance is not None
    return {
        field.attname: getattr(instance, field.attname)
        for field in type(instance)._meta.concrete_fields  # type: ignore[attr-defined]
    }


def _table(sql: str) -> str:
    return sql.split(" FROM ", 1)[1].split()[0].strip('"')
