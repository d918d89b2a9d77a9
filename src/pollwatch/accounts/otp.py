"""django-otp's middleware, with the session's TOTP device taken from those read with the user.

The user's confirmed TOTP devices are read in the same query as the user (accounts/
user_devices.py); the device the session names is picked from them, or, for a user loaded
otherwise, read by one hand-written query. django-otp still decides whether the device counts
(it must belong to the session's user and be confirmed, else the session forgets it). Nothing
outlives the request, so a deleted or unconfirmed device stops counting at once.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY  # type: ignore[import-untyped]
from django_otp.middleware import OTPMiddleware  # type: ignore[import-untyped]
from django_otp.models import Device  # type: ignore[import-untyped]
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from pollwatch import rows
from pollwatch.accounts.user_devices import CONFIRMED_TOTP_DEVICES


class VerifiedDeviceMiddleware(OTPMiddleware):
    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        # django-otp's own, with the device looked up knowing the user
        self._init_user_fields(user)
        if user.is_authenticated:
            persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
            device = self._device_of(user, persistent_id) if persistent_id else None
            user.otp_device = self._finalize_device(request, user, device)
        return user

    def _device_of(self, user: Any, persistent_id: str) -> Device | None:
        device_id = _totp_device_id(self._normalize_persistent_id(persistent_id))
        if device_id is None:
            return self._device_from_persistent_id(persistent_id)  # another kind, or junk
        confirmed: list[TOTPDevice] | None = getattr(user, CONFIRMED_TOTP_DEVICES, None)
        if confirmed is not None:  # not among them: not this user's, or not confirmed
            return next((device for device in confirmed if device.pk == device_id), None)
        return rows.fetch_one(TOTPDevice, "t.id = %s", [device_id])


def _totp_device_id(persistent_id: str) -> int | None:
    """The id in `otp_totp.totpdevice/<id>`, else None."""
    label, _slash, device_id = persistent_id.rpartition("/")
    if label != TOTPDevice.model_label() or not (device_id.isascii() and device_id.isdigit()):
        return None
    return int(device_id)
