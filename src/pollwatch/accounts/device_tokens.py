"""Observers' device tokens: issue (the token is shown once), authenticate, revoke."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from pollwatch import rows
from pollwatch.accounts.audit import record_action
from pollwatch.accounts.models import DeviceToken
from pollwatch.accounts.roles import is_observer

TOKEN_PREFIX = "pwd_"  # tells a leaked pollwatch token apart in logs and secret scanners
# Writing last_used_at on every request would add a write to each API call; once a minute
# is precise enough to tell a device that is in use from one that is lost.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class DeviceTokenError(ValueError):
    """A refused token operation; the message is translated and says why."""


@dataclass(frozen=True)
class IssuedToken:
    device: DeviceToken
    token: str  # the plaintext: shown to its owner once, never stored


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_device_token(user: User, name: str) -> IssuedToken:
    """A new token for one of `user`'s devices; only observers hold device tokens."""
    name = name.strip()
    if not name:
        raise DeviceTokenError(_("Give the device a name."))
    if len(name) > 100:
        raise DeviceTokenError(_("The device name is longer than 100 characters."))
    if not is_observer(user):
        raise DeviceTokenError(_("Only observers use device tokens."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits of randomness
    device = DeviceToken.objects.create(
        user=user, name=name, token_sha256=token_sha256(token), prefix=token[:12]
    )
    record_action(user, "device_token.create", device, None, {"name": name})
    return IssuedToken(device, token)


@transaction.atomic
def revoke_device_token(actor: AbstractBaseUser, device: DeviceToken) -> DeviceToken:
    """Revoke `device` at once; revoking twice is refused."""
    device = DeviceToken.objects.select_for_update().get(pk=device.pk)
    if device.revoked_at is not None:
        raise DeviceTokenError(_("This token is already revoked."))
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at"])
    record_action(actor, "device_token.revoke", device, {"revoked": False}, {"revoked": True})
    return device


def authenticate_device_token(token: str) -> DeviceToken | None:
    """The live token matching `token` (its user loaded), or None: unknown, revoked, or its
    user deactivated. Read fresh on every call: a revocation or deactivation refuses the very
    next request. One statement on PostgreSQL, which also marks a token not used for a while
    as used now; two on SQLite when it does (its round trips cost nothing)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    sha256 = token_sha256(token)
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    marks_while_reading = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if marks_while_reading:
            parameters = [adapt(now), sha256, adapt(now - LAST_USED_RESOLUTION), sha256]
            cursor.execute(_live_token_marked_sql(connection), parameters)
        else:
            cursor.execute(_live_token_sql(connection), [sha256])
        row = cursor.fetchone()
    if row is None:
        return None
    device = rows.instance(DeviceToken, row[: rows.width(DeviceToken)], connection)
    user = rows.instance(get_user_model(), row[rows.width(DeviceToken) :], connection)
    DeviceToken.user.field.set_cached_value(device, user)
    if device.last_used_at is None or now - device.last_used_at >= LAST_USED_RESOLUTION:
        if not marks_while_reading:
            with connection.cursor() as cursor:
                cursor.execute(_mark_used_sql(connection), [adapt(now), device.pk])
        device.last_used_at = now
    return device


@rows.per_vendor
def _mark_used_sql(connection: BaseDatabaseWrapper) -> str:
    """An observer's first request in a while writes when the token was last used (the ORM's
    update, compiled, costs several times the statement)."""
    quote = connection.ops.quote_name
    return f"UPDATE {quote(DeviceToken._meta.db_table)} SET last_used_at = %s WHERE id = %s"


@rows.per_vendor
def _live_token_marked_sql(connection: BaseDatabaseWrapper) -> str:
    """PostgreSQL: ``_live_token_sql``, with the live token marked used now if it was last used
    a while ago, in one statement (a data-modifying WITH runs whether or not it is read; the
    SELECT sees the row as it was, so it says whether the mark was due).
    Parameters: now, the hash, the moment before which a use is stale, the hash."""
    user = get_user_model()
    quote = connection.ops.quote_name
    return (
        f"WITH marked AS (UPDATE {quote(DeviceToken._meta.db_table)} m SET last_used_at = %s "
        "WHERE m.token_sha256 = %s AND m.revoked_at IS NULL "
        "AND (m.last_used_at IS NULL OR m.last_used_at <= %s) "
        f"AND EXISTS (SELECT 1 FROM {quote(user._meta.db_table)} a "
        f"WHERE a.{quote(user._meta.pk.column)} = m.user_id AND a.is_active)) "
        f"{_live_token_sql(connection)}"
    )


@rows.per_vendor
def _live_token_sql(connection: BaseDatabaseWrapper) -> str:
    """The unrevoked token with a given hash and its active user (what the ORM would build
    from select_related, written once: compiling it costs more than running it)."""
    user = get_user_model()
    quote = connection.ops.quote_name
    return (
        f"SELECT {rows.columns(DeviceToken, 't', connection)}, "
        f"{rows.columns(user, 'u', connection)} "
        f"FROM {quote(DeviceToken._meta.db_table)} t "
        f"JOIN {quote(user._meta.db_table)} u ON u.{quote(user._meta.pk.column)} = t.user_id "
        "WHERE t.token_sha256 = %s AND t.revoked_at IS NULL AND u.is_active"
    )
