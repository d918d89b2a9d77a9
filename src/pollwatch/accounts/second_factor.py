"""TOTP second factor: enrolment (QR code and secret), confirmation, verification at login."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp import login as otp_login  # type: ignore[import-untyped]
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from pollwatch.accounts.audit import record_action


def confirmed_device(user: User) -> TOTPDevice | None:
    device: TOTPDevice | None = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device


@transaction.atomic
def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled: the same secret on every reload of the page,
    so a code scanned a moment ago still works."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in (RFC 4648 base32, no padding)."""
    return b32encode(device.bin_key).decode().rstrip("=")


def otpauth_uri(device: TOTPDevice) -> str:
    uri: str = device.config_url
    return uri


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline SVG QR code (no inline style: the CSP allows none)."""
    return str(
        segno.make(otpauth_uri(device), error="m").svg_inline(
            scale=4, title=_("QR code for your authenticator app")
        )
    )


def refusal(device: TOTPDevice, token: str) -> str | None:
    """None if `token` is a valid, unused code for `device`; else why not. A wrong code slows
    further tries down (django-otp's throttle) and a used code is not accepted twice."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        return _("Too many wrong codes. Wait a little and try again.")
    if not device.verify_token(token):
        return _("That code is not right, or it was already used. Try the next code.")
    return None


@transaction.atomic
def confirm_enrolment(request: HttpRequest, device: TOTPDevice, token: str) -> str | None:
    """Confirm `device` with a first code and mark the session verified; else why not."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    reason = refusal(device, token)
    if reason is not None:
        return reason
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    otp_login(request, device)
    record_action(device.user, "totp.enrol", device, None, {"name": device.name})
    return None


def verify(request: HttpRequest, device: TOTPDevice, token: str) -> str | None:
    """Check the login's second step; on success the session counts as verified."""
    reason = refusal(device, token)
    if reason is None:
        otp_login(request, device)
    return reason
