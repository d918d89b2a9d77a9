"""Users of each role, and a test-client login that has passed the second factor."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from pollwatch.accounts.roles import Role, grant_role, needs_second_factor

PASSWORD = "correct horse battery staple"


def make_user(
    username: str, role: Role | None = None, *, password: str | None = PASSWORD
) -> AbstractBaseUser:
    user = get_user_model().objects.create_user(username=username, password=password)
    if role is Role.ADMINISTRATOR:
        user.is_staff = user.is_superuser = True
        user.save()
    elif role is Role.DATA_CLERK:
        user.is_staff = True
        user.save()
    if role is not None:
        grant_role(user, role)
    return user


def confirmed_totp_device(user: AbstractBaseUser) -> TOTPDevice:
    device: TOTPDevice = TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)
    return device


def login_verified(client: Client, user: AbstractBaseUser) -> None:
    """Log `user` in as if they had typed their password (and, for staff, a TOTP code).

    Staff (see roles.needs_second_factor) get a confirmed TOTP device if they have none; the
    session then records it as django-otp's verified device. Others are just logged in.
    """
    from django_otp import DEVICE_ID_SESSION_KEY

    client.force_login(user)
    if not needs_second_factor(user):
        return
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = confirmed_totp_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows now (or `steps_ahead` 30-s steps later: a code
    is accepted once, so a second login in the same step needs the next one)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"
