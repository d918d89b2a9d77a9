"""Password login: Argon2, password policy, lockout after five wrong passwords, per-address
throttle, the admin's login routed through the site's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from pollwatch.accounts.models import LoginFailure, LoginLock
from pollwatch.accounts.roles import Role
from tests.accounts.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str, ip: str = "192.0.2.1") -> int:
    response = client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)
    return response.status_code


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.real_password_hashing
def test_passwords_are_hashed_with_argon2() -> None:
    user = make_user("olga", Role.OBSERVER)
    assert user.password.startswith("argon2$argon2id$")


@pytest.mark.real_password_hashing
def test_an_old_pbkdf2_hash_still_logs_in_and_is_upgraded_to_argon2() -> None:
    from django.contrib.auth.hashers import make_password

    user = make_user("olga", Role.OBSERVER)
    get_user_model().objects.filter(pk=user.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    client = Client()
    assert _login(client, "olga", PASSWORD) == 302 and _logged_in(client)
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("Kx7#pQ2!vb", "at least 12 characters"),
        ("password1234", "too common"),
        ("738204619375", "entirely numeric"),
        ("olga.petrova.2026", "too similar"),
    ],
)
def test_password_policy_refuses_weak_passwords(password: str, complaint: str) -> None:
    user = get_user_model()(username="olga.petrova", email="olga.petrova@example.org")
    with pytest.raises(ValidationError, match=complaint):
        validate_password(password, user)


def test_password_policy_accepts_a_long_unusual_password() -> None:
    validate_password("quiet-lantern-orbit-47", get_user_model()(username="olga"))


def test_sixth_attempt_after_five_wrong_passwords_is_refused_even_when_right() -> None:
    make_user("olga", Role.OBSERVER)
    client = Client()
    for _attempt in range(5):
        assert _login(client, "olga", "wrong password here") == 200

    response = client.post("/login/", {"username": "olga", "password": PASSWORD})

    assert response.status_code == 429
    assert "locked for 15 more minutes" in response.content.decode()
    assert not _logged_in(client)
    # The refused attempt was not even checked, so it does not extend the lock.
    assert LoginFailure.objects.filter(username="olga").count() == 5


def test_lockout_ends_after_its_period_and_the_count_starts_afresh() -> None:
    make_user("olga", Role.OBSERVER)
    client = Client()
    for _attempt in range(5):
        _login(client, "olga", "wrong password here")
    LoginLock.objects.filter(username="olga").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert _login(client, "olga", "wrong password here") == 200  # counted, not locked
    assert _login(client, "olga", PASSWORD) == 302 and _logged_in(client)
    assert not LoginLock.objects.filter(username="olga").exists()


def test_a_success_resets_the_consecutive_count() -> None:
    make_user("olga", Role.OBSERVER)
    for _attempt in range(4):
        _login(Client(), "olga", "wrong password here")
    assert _login(Client(), "olga", PASSWORD) == 302
    for _attempt in range(4):
        _login(Client(), "olga", "wrong password here")
    client = Client()
    assert _login(client, "olga", PASSWORD) == 302 and _logged_in(client)


def test_unknown_names_lock_like_real_ones() -> None:
    """Otherwise the lock would tell an attacker which account names exist."""
    for _attempt in range(5):
        assert _login(Client(), "nobody", "wrong password here") == 200
    assert _login(Client(), "nobody", "wrong password here") == 429


def test_lockout_of_one_name_leaves_others_alone() -> None:
    make_user("olga", Role.OBSERVER)
    make_user("oleg", Role.OBSERVER)
    for _attempt in range(5):
        _login(Client(), "olga", "wrong password here")
    client = Client()
    assert _login(client, "oleg", PASSWORD) == 302 and _logged_in(client)


def test_one_address_failing_on_many_names_is_throttled(settings: LazySettings) -> None:
    settings.POLLWATCH_LOGIN_IP_FAILURES = 8
    make_user("olga", Role.OBSERVER)
    for n in range(8):
        assert _login(Client(), f"name{n}", "wrong password here", ip="198.51.100.9") == 200

    client = Client()
    assert _login(client, "olga", PASSWORD, ip="198.51.100.9") == 429
    assert not _logged_in(client)
    # Another address is not affected.
    assert _login(client, "olga", PASSWORD, ip="198.51.100.10") == 302


def test_inactive_account_cannot_log_in() -> None:
    user = make_user("olga", Role.OBSERVER)
    user.is_active = False
    user.save()
    client = Client()
    assert _login(client, "olga", PASSWORD) == 200 and not _logged_in(client)


def test_login_without_csrf_token_is_403_and_logs_nobody_in() -> None:
    make_user("olga", Role.OBSERVER)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "olga", "password": PASSWORD})
    assert response.status_code == 403
    assert not _logged_in(client)


def test_logout_without_csrf_token_is_403_and_keeps_the_session() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("olga", Role.OBSERVER))
    assert client.post("/logout/").status_code == 403
    assert _logged_in(client)


def test_admin_login_goes_through_the_site_login() -> None:
    response = Client().get("/admin/login/?next=/admin/registry/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fadmin%2Fregistry%2F"
    assert Client().get("/admin/").url.startswith("/admin/login/")  # type: ignore[attr-defined]
    # POSTing a password to the admin's own login logs nobody in.
    make_user("ada", Role.ADMINISTRATOR)
    client = Client()
    client.post("/admin/login/", {"username": "ada", "password": PASSWORD})
    assert not _logged_in(client)


def test_an_administrator_lifts_a_lockout_in_the_admin() -> None:
    from tests.accounts.factories import login_verified

    make_user("olga", Role.OBSERVER)
    for _attempt in range(5):
        _login(Client(), "olga", "wrong password here")
    lock = LoginLock.objects.get(username="olga")
    clerk = Client()
    login_verified(clerk, make_user("cleo", Role.DATA_CLERK, password=None))
    delete = f"/admin/accounts/loginlock/{lock.pk}/delete/"
    assert clerk.post(delete, {"post": "yes"}).status_code == 403
    assert LoginLock.objects.filter(pk=lock.pk).exists()

    admin = Client()
    login_verified(admin, make_user("ada", Role.ADMINISTRATOR, password=None))
    assert admin.get("/admin/accounts/loginlock/").status_code == 200
    assert admin.post(delete, {"post": "yes"}).status_code == 302
    client = Client()
    assert _login(client, "olga", PASSWORD) == 302 and _logged_in(client)
