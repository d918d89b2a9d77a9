"""Django's ModelBackend, with a session's user (and their second-factor devices) read by one
hand-written query, or taken from the read of the session row itself."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper

from pollwatch import rows
from pollwatch.accounts import sessions, user_devices


class AccountBackend(ModelBackend):
    """Passwords, permissions and `user_can_authenticate` as ModelBackend's; only `get_user`,
    which every request with a session calls, skips building ORM queries. The user and their
    devices are read fresh for each request (with its session row, or here), so a deactivated
    account or a removed device is refused on the next request."""

    def get_user(self, user_id: Any) -> User | None:
        user = sessions.user_read_with_session(user_id)
        if user is None:
            connection = connections[router.db_for_read(get_user_model())]
            with connection.cursor() as cursor:
                cursor.execute(_user_and_devices_sql(connection), [user_id])
                user = user_devices.user_from_rows(cursor.fetchall(), 0, connection)
        if user is None or not self.user_can_authenticate(user):
            return None
        return user


@rows.per_vendor
def _user_and_devices_sql(connection: BaseDatabaseWrapper) -> str:
    """The user with a given id, once per confirmed TOTP device of theirs (once if none)."""
    model = get_user_model()
    quote = connection.ops.quote_name
    return (
        f"SELECT {user_devices.columns(connection)} "
        f"FROM {quote(model._meta.db_table)} u {user_devices.devices_join(connection)} "
        f"WHERE u.{quote(model._meta.pk.column)} = %s"
    )
