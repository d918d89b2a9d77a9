"""Read queries behind the findings pages: who sees which findings, and the queue.

The queue sorts an election's findings by the size of the difference, largest first, and pages
them by keyset (the last row's magnitude and id), never by offset, so the thousandth page costs
what the first does. The indexes over present findings (``finding_queue``,
``finding_queue_by_kind``) lead with the status, so the database cannot walk one of them in
magnitude order across statuses: a page over several statuses is one indexed walk per status,
each reading at most a page, merged here.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from pollwatch.accounts.roles import Role, roles_of
from pollwatch.accreditation.models import Assignment, Membership
from pollwatch.findings.lifecycle import may_decide
from pollwatch.findings.models import Finding, FindingDecision, FindingStatus
from pollwatch.registry.models import Commission, Election, PollingStation

Viewer = User | AnonymousUser

QUEUE_PAGE_SIZE = 50


# Who sees findings -------------------------------------------------------------------------
#
# Findings are derived data: they name a place, the lines and the two values, never a copy's
# photos or its observer, so they are shown more widely than raw copies (see
# accreditation.sharing). The mission (analysts, administrators) sees every finding of the
# election and decides on them; a coordinator follows up the findings at the stations their
# organisation's observers are assigned to, read-only. Observers, data clerks and the public
# do not see the queue.


def may_see_queue(user: Viewer) -> bool:
    if not user.is_authenticated:
        return False
    return may_decide(user) or Role.COORDINATOR in roles_of(user)


def findings_visible_to(user: Viewer, election: Election) -> QuerySet[Finding]:
    """The election's findings that ``user`` may see (none for those who see no queue)."""
    findings = Finding.objects.filter(election=election)
    if not user.is_authenticated:
        return findings.none()
    if may_decide(user):
        return findings
    if Role.COORDINATOR in roles_of(user):
        return findings.filter(station_id__in=_stations_of_organisation(user, election))
    return findings.none()


def _stations_of_organisation(user: User, election: Election) -> QuerySet[Assignment, int]:
    organisation = Membership.objects.filter(user_id=user.pk).values("organisation_id")
    return Assignment.objects.filter(
        observer__organisation_id__in=organisation, station__election_id=election.pk
    ).values_list("station_id", flat=True)


# Regions -----------------------------------------------------------------------------------


def regions(election: Election) -> list[Commission]:
    """The election's regions: its top-level commissions, or, when a single commission sits at
    the top (a central commission), the commissions right below it."""
    top = list(Commission.objects.filter(election=election, parent=None).order_by("code"))
    if len(top) == 1:
        below = list(Commission.objects.filter(election=election, parent=top[0]).order_by("code"))
        if below:
            return below
    return top


def subtree_commission_ids(region: Commission) -> list[int]:
    """``region`` and every commission below it: one indexed query per level (a few levels)."""
    found = [region.pk]
    level = [region.pk]
    while level:
        level = list(
            Commission.objects.filter(election_id=region.election_id, parent_id__in=level)
            .values_list("pk", flat=True)
            .order_by()
        )
        found += level
    return found


def in_region(region: Commission) -> Q:
    """Findings placed in ``region``: at a station of its subtree, or at one of its commissions.

    The stations are a subquery, which the database hashes once per walk of the queue index.
    """
    commissions = subtree_commission_ids(region)
    stations = PollingStation.objects.filter(commission_id__in=commissions).values("pk")
    return Q(station_id__in=stations) | Q(commission_id__in=commissions)


# The queue ---------------------------------------------------------------------------------


class CursorError(ValueError):
    """An ``after`` value that is not a queue position."""


_CURSOR = re.compile(r"(\d{1,19})-(\d{1,19})\Z")


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the queue: the last row shown, by magnitude and id."""

    magnitude: int
    finding_id: int

    def __str__(self) -> str:
        return f"{self.magnitude}-{self.finding_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        match = _CURSOR.match(text)
        if match is None:
            raise CursorError(text)
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, finding: Finding) -> Cursor:
        return cls(finding.magnitude, finding.pk)


@dataclass(frozen=True)
class QueueFilters:
    """What the queue is narrowed to; None means any."""

    kind: str | None = None
    severity: str | None = None
    region: Commission | None = None
    status: str | None = None
    include_resolved: bool = False


@dataclass(frozen=True)
class QueuePage:
    findings: list[Finding]
    next_cursor: Cursor | None  # None on the last page


def queue_page(
    findings: QuerySet[Finding],
    filters: QueueFilters,
    after: Cursor | None = None,
    size: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """A page of ``findings`` matching ``filters``, largest difference first, after ``after``.

    Ties on the magnitude are broken by id, descending, so every finding appears on exactly
    one page however many share a magnitude.
    """
    rows = _filtered(findings, filters)
    if after is not None:
        # `magnitude <= m` bounds the index walk; the OR only sorts out the ties at m.
        rows = rows.filter(
            Q(magnitude__lte=after.magnitude)
            & (Q(magnitude__lt=after.magnitude) | Q(pk__lt=after.finding_id))
        )
    rows = rows.select_related("station__commission", "commission").order_by("-magnitude", "-pk")
    present = rows.filter(present=True)
    if filters.status:
        walks = [present]
    else:
        walks = [present.filter(status=status) for status in FindingStatus.values]
    if filters.include_resolved:
        walks.append(rows.filter(present=False))
    merged = heapq.merge(*(walk[: size + 1] for walk in walks), key=_queue_order)
    page = [finding for finding, _ in zip(merged, range(size + 1), strict=False)]
    if len(page) > size:
        return QueuePage(page[:size], Cursor.of(page[size - 1]))
    return QueuePage(page, None)


def _queue_order(finding: Finding) -> tuple[int, int]:
    return (-finding.magnitude, -finding.pk)


def _filtered(findings: QuerySet[Finding], filters: QueueFilters) -> QuerySet[Finding]:
    if filters.kind:
        findings = findings.filter(kind=filters.kind)
    if filters.severity:
        findings = findings.filter(severity=filters.severity)
    if filters.status:
        findings = findings.filter(status=filters.status)
    if filters.region is not None:
        findings = findings.filter(in_region(filters.region))
    return findings


# One finding -------------------------------------------------------------------------------


def finding_with_place(findings: QuerySet[Finding], finding_id: int) -> Finding | None:
    return (
        findings.select_related("election__template", "station__commission", "commission")
        .filter(pk=finding_id)
        .first()
    )


def decisions_of(finding: Finding) -> list[FindingDecision]:
    """The finding's status changes, oldest first, with who made them."""
    return list(finding.decisions.select_related("decided_by").order_by("decided_at", "pk"))
