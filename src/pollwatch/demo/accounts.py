"""One demo account per role, with passwords generated on first run and kept in the data dir.

Generated rather than fixed: a demo left running on a reachable address must not be open to
anyone who has read the README. Staff accounts sign in with a second factor, so each gets a
TOTP device too; its key is kept beside the password (add it to an authenticator app, or let
`pollwatch demo --code USERNAME` print the current code).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from pollwatch.accounts.roles import Role, ensure_role_groups, grant_role, needs_second_factor
from pollwatch.accounts.second_factor import confirmed_device, secret_base32


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str
    totp_key: str | None = None  # base32, for staff accounts


DEMO_USERNAMES: dict[Role, str] = {
    Role.OBSERVER: "observer",
    Role.COORDINATOR: "coordinator",
    Role.ANALYST: "analyst",
    Role.DATA_CLERK: "clerk",
    Role.ADMINISTRATOR: "admin",
}

# Registry models a data clerk maintains in the admin.
_CLERK_MODELS = ["commission", "pollingstation"]


def credentials_path() -> Path:
    return Path(settings.DATA_DIR) / "demo-credentials.json"


def _load_saved() -> dict[str, str]:
    return {a.username: a.password for a in saved_accounts()}


def saved_accounts() -> list[DemoAccount]:
    path = credentials_path()
    if not path.exists():
        return []
    return [DemoAccount(**a) for a in json.loads(path.read_text())]


def _totp_key(user: object) -> str:
    """The staff account's TOTP key, creating its device on first run."""
    device = confirmed_device(user)  # type: ignore[arg-type]
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
    return secret_base32(device)


def _save(accounts: list[DemoAccount]) -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump([asdict(a) for a in accounts], f, indent=2)


@transaction.atomic
def ensure_demo_accounts() -> list[DemoAccount]:
    """Create the demo user of every role that lacks one; keep existing passwords.

    A user whose password is not on file (the file was deleted) gets a new one, so the printed
    credentials always work.
    """
    ensure_role_groups()
    saved = _load_saved()
    user_model = get_user_model()
    accounts = []
    for role, username in DEMO_USERNAMES.items():
        password = saved.get(username)
        user, created = user_model.objects.get_or_create(username=username)
        if created or password is None or not user.check_password(password):
            password = secrets.token_urlsafe(12)
            user.set_password(password)
        user.is_staff = role in {Role.ADMINISTRATOR, Role.DATA_CLERK}
        user.is_superuser = role is Role.ADMINISTRATOR
        user.save()
        grant_role(user, role)
        if role is Role.DATA_CLERK:
            user.user_permissions.set(
                Permission.objects.filter(
                    content_type__app_label="registry", content_type__model__in=_CLERK_MODELS
                )
            )
        totp_key = _totp_key(user) if needs_second_factor(user) else None
        accounts.append(DemoAccount(username, role.value, password, totp_key))
    _save(accounts)
    return accounts


def current_totp_code(username: str) -> str:
    """The code a demo staff account's authenticator would show now, from the key on file."""
    from base64 import b32decode

    from django_otp.oath import TOTP  # type: ignore[import-untyped]

    account = next((a for a in saved_accounts() if a.username == username), None)
    if account is None or account.totp_key is None:
        raise LookupError(
            _("%(username)r is not a demo staff account (see %(path)s)")
            % {"username": username, "path": credentials_path()}
        )
    key = b32decode(account.totp_key + "=" * (-len(account.totp_key) % 8))
    return f"{TOTP(key).token():06d}"
