"""An accreditation's lifecycle — the only code that changes one.

    (none) → pending → accredited → revoked
                     ↘ revoked    ↗        → pending (requested anew)

A coordinator requests accreditation for one of their organisation's observers; an
administrator accredits it with the commission's accreditation number (unique within the
election) or revokes it, saying why (the coordinator sees the reason). Eligibility reads the
status on every submission, so a revocation blocks the observer at once. Every change is
written to the audit log in its transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pollwatch.accounts.audit import record_action
from pollwatch.accreditation.models import Accreditation, AccreditationStatus, Observer
from pollwatch.accreditation.permissions import require_administrator, require_manager
from pollwatch.registry.models import Election

Status = AccreditationStatus
MAX_REASON = 1000  # characters of a revocation's reason


class AccreditationError(ValueError):
    """A change the lifecycle does not allow (the message says why); nothing was changed."""


def accreditation_state(accreditation: Accreditation) -> dict[str, Any]:
    """What the audit log keeps of an accreditation."""
    return {
        "observer": accreditation.observer_id,
        "election": accreditation.election_id,
        "status": accreditation.status,
        "number": accreditation.number,
        "revocation_reason": accreditation.revocation_reason,
    }


@transaction.atomic
def request_accreditation(
    actor: AbstractBaseUser, observer: Observer, election: Election
) -> Accreditation:
    """Ask for `observer`'s accreditation in `election`: pending until an administrator acts.

    A revoked accreditation may be requested anew; a pending or granted one may not.
    """
    require_manager(actor, observer.organisation)
    existing = (
        Accreditation.objects.select_for_update()
        .filter(observer=observer, election=election)
        .first()
    )
    now = timezone.now()
    if existing is None:
        accreditation = Accreditation.objects.create(
            observer=observer,
            election=election,
            status=Status.PENDING,
            requested_by_id=actor.pk,
            requested_at=now,
        )
        record_action(
            actor, "accreditation.request", accreditation, None, accreditation_state(accreditation)
        )
        return accreditation
    if existing.status != Status.REVOKED:
        raise AccreditationError(
            _("%(observer)s's accreditation for %(election)s is already %(status)s.")
            % {"observer": observer, "election": election, "status": existing.get_status_display()}
        )
    before = accreditation_state(existing)
    existing.status = Status.PENDING
    existing.number = ""  # the commission issues a new number with a new accreditation
    existing.revocation_reason = ""  # no longer revoked; the audit log keeps why it was
    existing.requested_by_id = actor.pk
    existing.requested_at = now
    existing.decided_by = None
    existing.decided_at = None
    existing.save()
    record_action(actor, "accreditation.request", existing, before, accreditation_state(existing))
    return existing


@transaction.atomic
def accredit(actor: AbstractBaseUser, accreditation: Accreditation, number: str) -> Accreditation:
    """Grant a pending accreditation with the commission's accreditation `number`."""
    require_administrator(actor)
    current = _locked(accreditation)
    number = number.strip()
    if current.status != Status.PENDING:
        raise AccreditationError(
            _("Only a pending accreditation can be granted; this one is %(status)s.")
            % {"status": current.get_status_display()}
        )
    if not number:
        raise AccreditationError(_("An accreditation number is required."))
    max_length = Accreditation._meta.get_field("number").max_length or 0
    if len(number) > max_length:
        raise AccreditationError(
            _("An accreditation number has at most %(max)d characters.") % {"max": max_length}
        )
    holder = (
        Accreditation.objects.filter(election_id=current.election_id, number=number)
        .select_related("observer")
        .first()
    )
    if holder is not None:
        raise AccreditationError(
            _("Accreditation number %(number)s is already %(observer)s's in this election.")
            % {"number": number, "observer": holder.observer}
        )
    before = accreditation_state(current)
    current.status = Status.ACCREDITED
    current.number = number
    _decided(current, actor)
    try:
        with transaction.atomic():  # a concurrent grant of the same number loses here
            current.save()
    except IntegrityError:
        raise AccreditationError(
            _("Accreditation number %(number)s is already taken in this election.")
            % {"number": number}
        ) from None
    record_action(actor, "accreditation.accredit", current, before, accreditation_state(current))
    _copy_into(accreditation, current)
    return accreditation


@transaction.atomic
def revoke(actor: AbstractBaseUser, accreditation: Accreditation, reason: str) -> Accreditation:
    """Revoke a pending or granted accreditation, saying why; the observer is blocked from
    now on."""
    require_administrator(actor)
    reason = reason.strip()
    if not reason:
        raise AccreditationError(_("Say why the accreditation is revoked."))
    if len(reason) > MAX_REASON:
        raise AccreditationError(
            ngettext(
                "The reason is longer than %(limit)d character.",
                "The reason is longer than %(limit)d characters.",
                MAX_REASON,
            )
            % {"limit": MAX_REASON}
        )
    current = _locked(accreditation)
    if current.status == Status.REVOKED:
        raise AccreditationError(_("This accreditation is already revoked."))
    before = accreditation_state(current)
    current.status = Status.REVOKED
    current.revocation_reason = reason
    _decided(current, actor)
    current.save()
    record_action(actor, "accreditation.revoke", current, before, accreditation_state(current))
    _copy_into(accreditation, current)
    return accreditation


def _locked(accreditation: Accreditation) -> Accreditation:
    """The row as it is now, locked: two administrators acting at once act in turn."""
    return (
        Accreditation.objects.select_for_update()
        .select_related("observer", "election")
        .get(pk=accreditation.pk)
    )


def _decided(accreditation: Accreditation, actor: AbstractBaseUser) -> None:
    accreditation.decided_by_id = actor.pk
    accreditation.decided_at = timezone.now()


def _copy_into(stale: Accreditation, fresh: Accreditation) -> None:
    """Bring the caller's object up to date with what was written."""
    for field in ("status", "number", "revocation_reason", "decided_by_id", "decided_at"):
        setattr(stale, field, getattr(fresh, field))
