"""How API callers authenticate: observers' devices by bearer token, staff by their session.

Pass `api_auth` as `auth=` to a router or operation. `request.auth` and `request.user` are then
the authenticated user; for a device token `request.device_token` is the token's row.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from pollwatch.accounts.device_tokens import authenticate_device_token
from pollwatch.accounts.roles import needs_second_factor


class DeviceTokenAuth(HttpBearer):
    """`Authorization: Bearer pwd_…`; an unknown or revoked token authenticates nobody (401)."""

    def authenticate(self, request: HttpRequest, token: str) -> AbstractBaseUser | None:
        device = authenticate_device_token(token)
        if device is None:
            return None
        request.user = device.user
        request.device_token = device  # type: ignore[attr-defined]
        return device.user


class SessionAuth(NinjaSessionAuth):
    """The web session, with Django's CSRF check on unsafe methods (403 without the token).

    A user who must use a second factor counts only once verified. Without a session cookie
    there is nothing to check CSRF for: the request stays unauthenticated (401), so a
    device-token caller is never told about CSRF.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if _verified(user) or not needs_second_factor(user):  # the cheap test first
            return user
        return None


def _verified(user: Any) -> bool:
    is_verified = getattr(user, "is_verified", None)  # set by django_otp's OTPMiddleware
    return bool(is_verified is not None and is_verified())


api_auth = [DeviceTokenAuth(), SessionAuth()]
