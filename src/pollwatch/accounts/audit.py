"""The audit log's only writer: one entry per administrative or coordinator action."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from pollwatch.accounts.models import AuditEntry


def record_action(
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: Model,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    *,
    ip: str | None = None,
) -> AuditEntry:
    """Append who did `action` to `target`, with its state `before` and `after` (JSON-able
    dicts; None where there is no state, e.g. before a creation).

    Call it inside the transaction that makes the change, so the change and its entry are
    written together or not at all.
    """
    if not action:
        raise ValueError("record_action: action must not be empty")
    if target.pk is None:
        raise ValueError(f"record_action: target {target!r} has not been saved")
    user: Any = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        actor=user,
        actor_username=user.get_username() if user is not None else "",
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        before=before,
        after=after,
        ip=ip,
    )
