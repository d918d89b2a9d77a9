"""Django's database sessions, with the session row read by one hand-written query.

Every staff request reads its session; the ORM's query for it costs more CPU to build than
the database takes to answer. Everything else (expiry, saving, flushing, cycling keys) is
Django's: the row is still read on every request, so a logged-out session is refused at once.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import connections, router
from django.utils import timezone

from pollwatch import rows


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> AbstractBaseSession | None:
        adapt = connections[router.db_for_read(self.model)].ops.adapt_datetimefield_value
        session = rows.fetch_one(
            self.model,
            "t.session_key = %s AND t.expire_date > %s",  # SQLite compares datetimes as text
            [self.session_key, adapt(timezone.now())],
        )
        if session is None:  # unknown or expired: as Django's, a new session starts
            self._session_key = None
        return session
