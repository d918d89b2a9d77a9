"""Django's database sessions, with the session row and its user read by one hand-written query.

Every staff request reads its session, then its user with their confirmed TOTP devices. The
session row (accounts.models.Session) carries its user's id, so one statement reads all three
(two round trips cost ~0.6 ms more on PostgreSQL). The user read along is handed to Django's
`auth.get_user` (hash check, `user_can_authenticate`, all as Django's) only while
AuthenticationMiddleware below asks for this request's user, and only if the session data
names that very user: nothing is kept beyond the request's own session store. Everything else
(expiry, saving, flushing, cycling keys) is Django's; the row and the user are still read on
every request, so a logout, a deactivation or a removed device is refused at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

from django.contrib import auth
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import User
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from pollwatch import rows
from pollwatch.accounts import user_devices
from pollwatch.accounts.models import Session

# The session store of the request whose user Django is being asked for (per thread and per
# task, as every ContextVar): set by `_authenticated_user` around that one call only.
_authenticating: ContextVar[SessionStore | None] = ContextVar(
    "pollwatch_session_authenticating", default=None
)


class SessionStore(db.SessionStore):
    # The session's user with their confirmed devices, as read with the row (None: no user)
    _user_read: User | None = None

    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def _get_session_from_db(self) -> Session | None:
        connection = connections[router.db_for_read(Session)]
        adapt = connection.ops.adapt_datetimefield_value  # SQLite compares datetimes as text
        with connection.cursor() as cursor:
            cursor.execute(_session_sql(connection), [self.session_key, adapt(timezone.now())])
            found = cursor.fetchall()
        if not found:  # unknown or expired: as Django's, a new session starts
            self._session_key = None
            self._user_read = None
            return None
        width = rows.width(Session)
        self._user_read = user_devices.user_from_rows(found, width, connection)
        return rows.instance(Session, found[0][:width], connection)

    def create_model_instance(self, data: dict[str, Any]) -> Session:
        session = cast(Session, super().create_model_instance(data))
        session.user_id = _user_id(data)
        return session

    async def acreate_model_instance(self, data: dict[str, Any]) -> Session:
        session = cast(Session, await super().acreate_model_instance(data))
        session.user_id = _user_id(data)
        return session


def _user_id(data: dict[str, Any]) -> Any:
    """The logged-in user's id in session data, as `auth.get_user` reads it; else None."""
    try:
        return auth.get_user_model()._meta.pk.to_python(data[auth.SESSION_KEY])
    except (KeyError, ValidationError):
        return None


@rows.per_vendor
def _session_sql(connection: BaseDatabaseWrapper) -> str:
    """The unexpired session with a given key, with its user once per confirmed TOTP device
    of theirs (once if none; NULLs if no user)."""
    quote = connection.ops.quote_name
    user_model = auth.get_user_model()
    return (
        f"SELECT {rows.columns(Session, 's', connection)}, {user_devices.columns(connection)} "
        f"FROM {quote(Session._meta.db_table)} s "
        f"LEFT JOIN {quote(user_model._meta.db_table)} u "
        f"ON u.{quote(user_model._meta.pk.column)} = s.user_id "
        f"{user_devices.devices_join(connection)} "
        "WHERE s.session_key = %s AND s.expire_date > %s"
    )


def user_read_with_session(user_id: Any) -> User | None:
    """For AccountBackend.get_user: the user read with the session of the request being
    authenticated, if that is user `user_id` (the id the session data names); else None."""
    session = _authenticating.get()
    user = None if session is None else session._user_read
    return user if user is not None and user.pk == user_id else None


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with the user read along with the session offered to the backend."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        user = SimpleLazyObject(lambda: _authenticated_user(request))
        request.user = user  # type: ignore[assignment]


def _authenticated_user(request: HttpRequest) -> Any:
    """django.contrib.auth.middleware.get_user, with this request's session store offered."""
    if not hasattr(request, "_cached_user"):
        with _offered(request.session):
            request._cached_user = auth.get_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined]


@contextmanager
def _offered(session: Any) -> Iterator[None]:
    token = _authenticating.set(session if isinstance(session, SessionStore) else None)
    try:
        yield
    finally:
        _authenticating.reset(token)
