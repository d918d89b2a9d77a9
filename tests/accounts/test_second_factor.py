"""TOTP for staff: enrolment, verification at login, and nothing reachable before it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from pollwatch.accounts.models import AuditEntry
from pollwatch.accounts.roles import Role
from tests.accounts.factories import PASSWORD, confirmed_totp_device, make_user, totp_code

pytestmark = pytest.mark.django_db

STAFF_ROLES = [Role.COORDINATOR, Role.ANALYST, Role.DATA_CLERK, Role.ADMINISTRATOR]


def _password_login(username: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_without_a_device_are_sent_to_enrolment_and_reach_nothing_else(role: Role) -> None:
    make_user("staff", role)
    client = _password_login("staff")

    for path in ["/", "/admin/", "/admin/auth/group/", "/account/devices/", "/login/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/two-factor/?next="), path
    # A write is held up the same way and changes nothing.
    response = client.post("/admin/auth/group/add/", {"name": "intruders"})
    assert response.status_code == 302
    assert not Group.objects.filter(name="intruders").exists()
    assert client.get("/account/two-factor/").status_code == 200


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_enrolled_staff_must_enter_a_code_after_the_password(role: Role) -> None:
    device = confirmed_totp_device(make_user("staff", role))
    client = _password_login("staff")

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/verify/?next=%2Fadmin%2F"
    # Enrolling another device instead is not a way around it.
    assert client.get("/account/two-factor/")["Location"].startswith("/account/two-factor/verify/")
    assert TOTPDevice.objects.filter(user=device.user).count() == 1

    wrong = client.post("/account/two-factor/verify/", {"otp_token": "000000", "next": "/"})
    assert wrong.status_code == 400
    assert client.get("/").status_code == 302

    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code above slowed further tries down
    device.throttling_failure_timestamp = None
    device.save()
    right = client.post(
        "/account/two-factor/verify/", {"otp_token": totp_code(device), "next": "/"}
    )
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.get("/").status_code == 200


def test_enrolment_shows_qr_code_and_secret_then_confirms_with_a_code() -> None:
    user = make_user("ana", Role.ANALYST)
    client = _password_login("ana")

    page = client.get("/account/two-factor/?next=/elections/")
    body = page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert "<svg" in body and "otpauth://totp/pollwatch" in body
    from base64 import b32encode

    assert b32encode(device.bin_key).decode().rstrip("=") in body
    assert client.get("/account/two-factor/").content.decode().count(device.key) == 0
    assert TOTPDevice.objects.filter(user=user).count() == 1  # a reload keeps the secret

    wrong = client.post("/account/two-factor/", {"otp_token": "123456"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    assert not device.confirmed and not AuditEntry.objects.exists()

    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post(
        "/account/two-factor/", {"otp_token": totp_code(device), "next": "/elections/"}
    )
    assert response.status_code == 302 and response["Location"] == "/elections/"
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.get().action == "totp.enrol"
    assert client.get("/").status_code == 200


def test_a_code_is_accepted_once() -> None:
    device = confirmed_totp_device(make_user("ana", Role.ANALYST))
    code = totp_code(device)
    first = _password_login("ana")
    assert first.post("/account/two-factor/verify/", {"otp_token": code}).status_code == 302
    second = _password_login("ana")
    assert second.post("/account/two-factor/verify/", {"otp_token": code}).status_code == 400
    assert second.get("/").status_code == 302


def test_repeated_wrong_codes_are_slowed_down() -> None:
    device = confirmed_totp_device(make_user("ana", Role.ANALYST))
    client = _password_login("ana")
    client.post("/account/two-factor/verify/", {"otp_token": "000000"})
    response = client.post("/account/two-factor/verify/", {"otp_token": totp_code(device)})
    assert response.status_code == 400
    assert "Too many wrong codes" in response.content.decode()
    assert client.get("/").status_code == 302


def test_offsite_next_is_not_followed() -> None:
    device = confirmed_totp_device(make_user("ana", Role.ANALYST))
    client = _password_login("ana")
    response = client.post(
        "/account/two-factor/verify/",
        {"otp_token": totp_code(device), "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_observers_and_the_public_need_no_second_factor() -> None:
    make_user("olga", Role.OBSERVER)
    client = _password_login("olga")
    assert client.get("/").status_code == 200
    assert client.get("/account/devices/").status_code == 200
    assert Client().get("/").status_code == 200


def test_unverified_staff_may_still_log_out_and_switch_language() -> None:
    make_user("ana", Role.ANALYST)
    client = _password_login("ana")
    assert client.post("/i18n/setlang/", {"language": "ru", "next": "/"}).status_code == 302
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/", "/login/", "/account/two-factor/", "/admin/", "/nowhere/"])
def test_every_page_carries_the_content_security_policy(path: str) -> None:
    make_user("ana", Role.ANALYST)
    client = _password_login("ana") if path == "/account/two-factor/" else Client()
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
