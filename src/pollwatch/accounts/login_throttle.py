"""Login throttling and lockout, kept in the database so every app process sees the same counts.

- Per account name: after LOCKOUT_FAILURES consecutive wrong passwords the name is locked for
  LOCKOUT_SECONDS; while locked every attempt is refused without the password being checked,
  so even the right password does not get in. A successful login resets the count; so does
  the end of a lockout.
- Per client address: more than IP_FAILURES wrong passwords within IP_WINDOW_SECONDS (for any
  names) refuse every login from that address until the oldest of them leaves the window.
  This stops one address trying one password on many names, which the per-name count misses.

Each figure is a setting POLLWATCH_LOGIN_<NAME>, read from the environment (settings.py).
The address is REMOTE_ADDR: behind a reverse proxy, the proxy must set it to the client's
address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pollwatch.accounts.models import LoginFailure, LoginLock


@dataclass(frozen=True)
class Limits:
    lockout_failures: int
    lockout_seconds: int
    ip_failures: int
    ip_window_seconds: int


def limits() -> Limits:
    return Limits(
        lockout_failures=settings.POLLWATCH_LOGIN_LOCKOUT_FAILURES,
        lockout_seconds=settings.POLLWATCH_LOGIN_LOCKOUT_SECONDS,
        ip_failures=settings.POLLWATCH_LOGIN_IP_FAILURES,
        ip_window_seconds=settings.POLLWATCH_LOGIN_IP_WINDOW_SECONDS,
    )


def login_refusal(username: str, ip: str | None, now: datetime | None = None) -> str | None:
    """Why a login attempt for `username` from `ip` is refused before its password is
    checked, or None when it may go ahead."""
    now = now or timezone.now()
    lock = LoginLock.objects.filter(username=username, locked_until__gt=now).first()
    if lock is not None and lock.locked_until is not None:
        return _locked_message(lock.locked_until - now)
    if ip is not None:
        window = timedelta(seconds=limits().ip_window_seconds)
        recent = LoginFailure.objects.filter(ip=ip, at__gt=now - window).count()
        if recent >= limits().ip_failures:
            return _("Too many failed logins from your network address. Try again later.")
    return None


@transaction.atomic
def record_failure(username: str, ip: str | None, now: datetime | None = None) -> bool:
    """Count a wrong password; True when it locks the account name."""
    now = now or timezone.now()
    config = limits()
    LoginFailure.objects.filter(at__lte=now - timedelta(seconds=config.ip_window_seconds)).delete()
    LoginFailure.objects.create(username=username[:150], ip=ip, at=now)
    lock, _created = LoginLock.objects.select_for_update().get_or_create(username=username[:150])
    if lock.locked_until is not None and lock.locked_until <= now:
        lock.locked_until = None  # an expired lockout starts the count afresh
        lock.consecutive_failures = 0
    lock.consecutive_failures += 1
    locks = lock.consecutive_failures >= config.lockout_failures
    if locks:
        lock.locked_until = now + timedelta(seconds=config.lockout_seconds)
        lock.consecutive_failures = 0
    lock.save()
    return locks


def record_success(username: str) -> None:
    LoginLock.objects.filter(username=username).delete()


def _locked_message(remaining: timedelta) -> str:
    minutes = max(1, -(-int(remaining.total_seconds()) // 60))
    return ngettext(
        "Too many wrong passwords for this account. It is locked for %(minutes)d more minute.",
        "Too many wrong passwords for this account. It is locked for %(minutes)d more minutes.",
        minutes,
    ) % {"minutes": minutes}
