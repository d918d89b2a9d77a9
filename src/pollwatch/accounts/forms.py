"""Forms of the login steps: password (throttled), TOTP code, device token name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from pollwatch.accounts import login_throttle


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form behind the lockout and per-address throttle."""

    throttled = False  # set when the attempt was refused by the throttle (the view answers 429)

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()
        ip = _client_ip(self.request)
        refusal = login_throttle.login_refusal(username, ip)
        if refusal is not None:
            self.throttled = True
            raise ValidationError(refusal, code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            if self.get_user() is None:  # a wrong password, not an inactive account
                login_throttle.record_failure(username, ip)
            raise
        login_throttle.record_success(username)
        return cleaned


class TokenForm(forms.Form):
    """The six digits from the authenticator app."""

    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )

    def clean_otp_token(self) -> str:
        token: str = self.cleaned_data["otp_token"].replace(" ", "")
        if not token.isdigit():
            raise ValidationError(_("The code is made of digits only."), code="not_digits")
        return token


class DeviceTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Device name"),
        max_length=100,
        help_text=_("For example “my phone”, so you know which token to revoke if it is lost."),
    )


def _client_ip(request: Any) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None
