"""A finding's human lifecycle: who may move it where, and the history of every move.

    open → under verification → confirmed → complaint filed
                              ↘ dismissed (with a reason)

An obvious false alarm may be dismissed straight from open; a dismissed or confirmed finding
may be reopened for verification, with a reason, when new evidence arrives. A complaint filed
is final here: what happens to it next is the complaint's own record. Recording never changes
the status, so these decisions survive any recomputation.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pollwatch.accounts.roles import Role, roles_of
from pollwatch.findings.models import Finding, FindingDecision, FindingStatus
from pollwatch.ledger.appending import append_row
from pollwatch.ledger.finding_decisions import KIND as DECISION_KIND

Status = FindingStatus

TRANSITIONS: dict[FindingStatus, frozenset[FindingStatus]] = {
    Status.OPEN: frozenset({Status.UNDER_VERIFICATION, Status.DISMISSED}),
    Status.UNDER_VERIFICATION: frozenset({Status.CONFIRMED, Status.DISMISSED, Status.OPEN}),
    Status.CONFIRMED: frozenset({Status.COMPLAINT_FILED, Status.UNDER_VERIFICATION}),
    Status.DISMISSED: frozenset({Status.UNDER_VERIFICATION}),
    Status.COMPLAINT_FILED: frozenset(),
}
# Moves that need a reason: a dismissal, and any step back, which undoes someone's decision.
_NEEDS_REASON = frozenset(
    {
        (Status.OPEN, Status.DISMISSED),
        (Status.UNDER_VERIFICATION, Status.DISMISSED),
        (Status.UNDER_VERIFICATION, Status.OPEN),
        (Status.CONFIRMED, Status.UNDER_VERIFICATION),
        (Status.DISMISSED, Status.UNDER_VERIFICATION),
    }
)
# Who works the findings queue (DESIGN §2). Coordinators will join for their own stations
# once assignments exist.
DECIDING_ROLES = frozenset({Role.ANALYST, Role.ADMINISTRATOR})


class LifecycleError(ValueError):
    """A status change the lifecycle does not allow; nothing was changed."""


def may_decide(user: User) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(roles_of(user) & DECIDING_ROLES)


def check_change_finding_status(
    user: User, from_status: str, to_status: str, reason: str
) -> FindingStatus:
    """Raise unless ``user`` may move a finding from ``from_status`` to ``to_status``."""
    if not may_decide(user):
        raise PermissionDenied(_("only analysts and administrators decide on findings"))
    if to_status not in Status.values:
        raise LifecycleError(
            _("unknown status %(status)r; expected one of %(statuses)s")
            % {"status": to_status, "statuses": ", ".join(Status.values)}
        )
    current, target = Status(from_status), Status(to_status)
    if target not in TRANSITIONS[current]:
        names = {"current": current.label, "target": target.label, "from": current.value}
        if not TRANSITIONS[current]:
            raise LifecycleError(
                _(
                    "a finding that is %(current)s cannot become %(target)s; from %(from)s the "
                    "allowed statuses are: none: it is final"
                )
                % names
            )
        raise LifecycleError(
            _(
                "a finding that is %(current)s cannot become %(target)s; from %(from)s the "
                "allowed statuses are: %(allowed)s"
            )
            % {**names, "allowed": ", ".join(sorted(TRANSITIONS[current]))}
        )
    if (current, target) in _NEEDS_REASON and not reason.strip():
        raise LifecycleError(
            _("moving a finding from %(from)s to %(to)s needs a reason")
            % {"from": current.value, "to": target.value}
        )
    return target


def change_finding_status(
    user: User,
    finding: Finding,
    to_status: str,
    reason: str = "",
    *,
    now: datetime.datetime | None = None,
) -> FindingDecision:
    """Move ``finding`` to ``to_status`` and record the decision; refused moves change nothing.

    The finding is locked and read afresh, so two people deciding at once are judged in turn
    against the status the first one left, not against what each saw on screen.
    """
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        target = check_change_finding_status(user, locked.status, to_status, reason)
        decision = do_change_finding_status(user, locked, target, reason.strip(), now=now)
    finding.status = locked.status
    return decision


def do_change_finding_status(
    user: User,
    finding: Finding,
    to_status: FindingStatus,
    reason: str,
    *,
    now: datetime.datetime | None = None,
) -> FindingDecision:
    """Write the change, unchecked: call check_change_finding_status first, in one transaction."""
    decision = FindingDecision.objects.create(
        finding=finding,
        decided_by=user,
        decided_at=now or timezone.now(),
        from_status=finding.status,
        to_status=to_status,
        reason=reason,
    )
    finding.status = to_status
    finding.save(update_fields=["status"])
    # Sealed in the election's transparency log, in the same transaction (DESIGN §5).
    append_row(finding.election, DECISION_KIND, decision)
    return decision
