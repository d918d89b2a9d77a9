"""django-otp's middleware, with the session's TOTP device read by one hand-written query.

django-otp still decides whether the device counts (it must belong to the session's user and
be confirmed, else the session forgets it); the device is read fresh on every request, so a
deleted or unconfirmed device stops counting at once.
"""

from __future__ import annotations

from django_otp.middleware import OTPMiddleware  # type: ignore[import-untyped]
from django_otp.models import Device  # type: ignore[import-untyped]
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from pollwatch.accounts import rows


class VerifiedDeviceMiddleware(OTPMiddleware):
    def _device_from_persistent_id(self, persistent_id: str) -> Device | None:
        label, _slash, device_id = self._normalize_persistent_id(persistent_id).rpartition("/")
        if label != TOTPDevice.model_label() or not (device_id.isascii() and device_id.isdigit()):
            return super()._device_from_persistent_id(persistent_id)  # other kinds, or junk
        return rows.fetch_one(TOTPDevice, "t.id = %s", [int(device_id)])
