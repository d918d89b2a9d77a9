"""Django's ModelBackend, with a session's user read by one hand-written query."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User

from pollwatch.accounts import rows


class AccountBackend(ModelBackend):
    """Passwords, permissions and `user_can_authenticate` as ModelBackend's; only `get_user`,
    which every request with a session calls, skips building an ORM query. The user is read
    fresh each time, so a deactivated account is refused on its next request."""

    def get_user(self, user_id: Any) -> User | None:
        model = get_user_model()
        user = rows.fetch_one(model, f"t.{model._meta.pk.column} = %s", [user_id])
        return user if user is not None and self.user_can_authenticate(user) else None
