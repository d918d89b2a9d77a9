"""Staff who have not passed the second factor can only enrol, verify, or log out."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from pollwatch.accounts.roles import needs_second_factor
from pollwatch.accounts.second_factor import confirmed_device

# Views an unverified staff session may reach: the two TOTP steps, logging out, the language.
OPEN_TO_UNVERIFIED = frozenset(
    {"second_factor_enrol", "second_factor_verify", "logout", "set_language"}
)


class SecondFactorMiddleware:
    """Runs after django_otp's OTPMiddleware. The API is left to its auth (api_auth refuses an
    unverified staff session with 401), static files to their handler."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        # is_verified() needs no query (OTPMiddleware loaded the device): test it before the
        # roles, so a verified session costs nothing here.
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined]
            and needs_second_factor(user)
            and not self._open(request)
        ):
            enrolled = confirmed_device(user) is not None
            step = "second_factor_verify" if enrolled else "second_factor_enrol"
            return HttpResponseRedirect(
                f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)

    @staticmethod
    def _open(request: HttpRequest) -> bool:
        path = request.path_info
        if path.startswith(("/api/", "/" + settings.STATIC_URL.lstrip("/"))):
            return True
        try:
            match = resolve(path)
        except Resolver404:
            return False
        return match.url_name in OPEN_TO_UNVERIFIED
