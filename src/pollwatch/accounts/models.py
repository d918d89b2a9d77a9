"""Accounts' own records: the audit log, observers' device tokens and sign-in links, login
failures, sessions."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """An attempt to change or remove a row of an append-only table."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    # Queryset-level writes bypass Model.save/delete, so they are refused here too.
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit entries cannot be changed")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit entries cannot be deleted")


class AuditEntry(models.Model):
    """One administrative or coordinator action: who did what to which object, when, and the
    object's state before and after. Append-only: rows are only ever inserted."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,  # an account that acted is deactivated, not deleted
        related_name="+",
        verbose_name=_("actor"),
    )
    # Kept as text too, so the entry still reads right if the username changes later.
    actor_username = models.CharField(_("actor's username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("target type")
    )
    target_id = models.CharField(_("target id"), max_length=64)
    target_repr = models.CharField(_("target"), max_length=300)
    before = models.JSONField(_("before"), null=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, encoder=DjangoJSONEncoder)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self) -> str:
        who = self.actor_username or "-"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who}: {self.action} {self.target_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit entries cannot be deleted")


class DeviceToken(models.Model):
    """A bearer token for one of an observer's devices (the mobile app, a laptop).

    Only the SHA-256 of the token is stored: the token itself is shown once, when it is
    created. It is high-entropy random, so a plain hash suffices (no salt or slow hash needed,
    and the lookup by hash stays an index probe).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens"
    )
    name = models.CharField(_("device name"), max_length=100)
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, so its owner can tell devices apart; not secret.
    prefix = models.CharField(_("token starts with"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class LoginFailure(models.Model):
    """One wrong password, kept for the per-address throttle (see accounts/login_throttle.py)."""

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")
        indexes = [models.Index(fields=["ip", "at"], name="login_failure_ip_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} from {self.ip}"


class LoginLock(models.Model):
    """An account name's consecutive wrong passwords and, once too many, its lockout.

    Keyed by the name typed, whether or not such an account exists, so a lockout does not
    tell an attacker which names are real.
    """

    username = models.CharField(max_length=150, unique=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("login lock")
        verbose_name_plural = _("login locks")

    def __str__(self) -> str:
        return f"{self.username}: {self.consecutive_failures} failures"


class Session(AbstractBaseSession):
    """A web session (SESSION_ENGINE accounts/sessions.py), with its logged-in user's id beside
    the data, so that the session's read joins the user and their devices in one statement.

    `user` is filled from the session data whenever the session is saved; the data stays what
    Django trusts, the column only says which user to read along. Deleting a user deletes
    their sessions (CASCADE, done by the ORM). No database constraint: a login racing the
    deletion of its user would otherwise fail to insert its session, which Django's `create()`
    takes for a key collision and retries forever; a session naming a missing user is refused
    anyway (the backend finds no such user).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="+",
    )

    @classmethod
    def get_session_store_class(cls) -> type[Any]:
        from pollwatch.accounts.sessions import SessionStore

        return SessionStore


class SigninLink(models.Model):
    """A one-time link with which an observer sets their password and signs in for the first
    time (or again, after losing it). Only the SHA-256 of its token is stored, as for device
    tokens: the link is shown once, to the coordinator who hands it over."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signin_links"
    )
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # Set when a newer link replaces this one unused, or the password was set with another.
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"
