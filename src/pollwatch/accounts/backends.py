"""Django's ModelBackend, with a session's user (and their second-factor devices) read by one
hand-written query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from pollwatch import rows

# The user's confirmed TOTP devices, read with the user: the OTP middleware (accounts/otp.py)
# needs the session's device next, and one round trip is cheaper than two.
CONFIRMED_TOTP_DEVICES = "_pollwatch_confirmed_totp_devices"


class AccountBackend(ModelBackend):
    """Passwords, permissions and `user_can_authenticate` as ModelBackend's; only `get_user`,
    which every request with a session calls, skips building ORM queries. The user and their
    devices are read fresh each time, so a deactivated account or a removed device is
    refused on the next request."""

    def get_user(self, user_id: Any) -> User | None:
        model = get_user_model()
        connection = connections[router.db_for_read(model)]
        with connection.cursor() as cursor:
            cursor.execute(_user_and_devices_sql(connection), [user_id])
            found = cursor.fetchall()
        if not found:
            return None
        width = rows.width(model)
        user = rows.instance(model, found[0][:width], connection)
        if not self.user_can_authenticate(user):
            return None
        devices = [
            rows.instance(TOTPDevice, row[width:], connection)
            for row in found
            if row[width] is not None  # no confirmed device: the LEFT JOIN's NULLs
        ]
        setattr(user, CONFIRMED_TOTP_DEVICES, devices)
        return user


@rows.per_vendor
def _user_and_devices_sql(connection: BaseDatabaseWrapper) -> str:
    """The user with a given id, once per confirmed TOTP device of theirs (once if none)."""
    model = get_user_model()
    quote = connection.ops.quote_name
    pk = quote(model._meta.pk.column)
    return (
        f"SELECT {rows.columns(model, 'u', connection)}, "
        f"{rows.columns(TOTPDevice, 'd', connection)} "
        f"FROM {quote(model._meta.db_table)} u "
        f"LEFT JOIN {quote(TOTPDevice._meta.db_table)} d ON d.user_id = u.{pk} AND d.confirmed "
        f"WHERE u.{pk} = %s"
    )
