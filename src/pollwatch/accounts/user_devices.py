"""A user with their confirmed TOTP devices, read by hand-written SQL in one round trip.

The OTP middleware (accounts/otp.py) needs the session's device right after the user, so the
two are read together: by AccountBackend alone (accounts/backends.py), or joined to the session
row by the session store (accounts/sessions.py). Both build their statement from the pieces
here, with the user as `u` and the devices as `d`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.backends.base.base import BaseDatabaseWrapper
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from pollwatch import rows

# The attribute of a user read here that holds their confirmed TOTP devices.
CONFIRMED_TOTP_DEVICES = "_pollwatch_confirmed_totp_devices"


@rows.per_vendor
def columns(connection: BaseDatabaseWrapper) -> str:
    """The user's columns, then their device's: what `user_from_rows` reads."""
    return (
        f"{rows.columns(get_user_model(), 'u', connection)}, "
        f"{rows.columns(TOTPDevice, 'd', connection)}"
    )


@rows.per_vendor
def devices_join(connection: BaseDatabaseWrapper) -> str:
    """Joins `u`'s confirmed devices as `d`: the user once per device (once if none)."""
    quote = connection.ops.quote_name
    return (
        f"LEFT JOIN {quote(TOTPDevice._meta.db_table)} d "
        f"ON d.user_id = u.{quote(get_user_model()._meta.pk.column)} AND d.confirmed"
    )


def user_from_rows(
    found: Sequence[Sequence[Any]], start: int, connection: BaseDatabaseWrapper
) -> User | None:
    """The user whose `columns` begin at `start` in each of `found` (one row per device), with
    their devices as CONFIRMED_TOTP_DEVICES; None if there is no row or the user is NULL (a
    LEFT JOIN found none)."""
    if not found or found[0][start] is None:  # the primary key is never NULL in a real row
        return None
    model = get_user_model()
    devices_start = start + rows.width(model)
    user = rows.instance(model, found[0][start:devices_start], connection)
    devices = [
        rows.instance(TOTPDevice, row[devices_start:], connection)
        for row in found
        if row[devices_start] is not None  # no confirmed device: the LEFT JOIN's NULLs
    ]
    setattr(user, CONFIRMED_TOTP_DEVICES, devices)
    return user
