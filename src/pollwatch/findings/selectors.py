"""Read queries behind the findings pages: who sees which findings, and the queue.

The queue sorts an election's findings by the size of the difference, largest first, and pages
them by keyset (the last row's magnitude and id), never by offset, so the thousandth page costs
what the first does. The indexes over present findings (``finding_queue``,
``finding_queue_by_kind``) lead with the status, so the database cannot walk one of them in
magnitude order across statuses: a page over several statuses is one indexed walk per status,
each reading at most a page (on PostgreSQL all in one UNION ALL query), merged here; then one
query fetches the page's rows with their places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Q, QuerySet

from pollwatch.accounts.roles import Role, roles_of
from pollwatch.accreditation.models import Assignment, Membership
from pollwatch.findings.computed import KIND_SEVERITY
from pollwatch.findings.lifecycle import may_decide
from pollwatch.findings.models import Finding, FindingDecision, FindingKind, FindingStatus
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
    *,
    election: Election | None = None,
) -> QueuePage:
    """A page of ``findings`` matching ``filters``, largest difference first, after ``after``.

    Ties on the magnitude are broken by id, descending, so every finding appears on exactly
    one page however many share a magnitude. Given ``findings``' election (with its template
    loaded), a severity filter reads only the broken relations that can have it.
    """
    rows = findings
    if filters.region is not None:
        rows = rows.filter(in_region(filters.region))
    if after is not None:
        # `magnitude <= m` bounds the index walk; the OR only sorts out the ties at m.
        rows = rows.filter(
            Q(magnitude__lte=after.magnitude)
            & (Q(magnitude__lt=after.magnitude) | Q(pk__lt=after.finding_id))
        )
    heads = _merged_heads(_walks(rows, filters, election), size + 1)
    by_id = Finding.objects.select_related("station__commission", "commission").in_bulk(
        [finding_id for _, finding_id in heads]
    )
    page = [by_id[finding_id] for _, finding_id in heads]
    if len(page) > size:
        return QueuePage(page[:size], Cursor.of(page[size - 1]))
    return QueuePage(page, None)


# A finding's severity follows from its kind (computed.KIND_SEVERITY), or for a broken
# control relation from the relation's severity in the template. A severity filter therefore
# skips the walks of the kinds that cannot have it, instead of reading them to the end.
_FIXED_SEVERITY: dict[str, set[str]] = {
    kind.slug: {severity} for kind, severity in KIND_SEVERITY.items()
}
_RELATION_KINDS = (FindingKind.RELATION_BROKEN_ON_COPY, FindingKind.RELATION_BROKEN_ON_OFFICIAL)


def _possible_severities(election: Election | None) -> dict[str, set[str]]:
    """The severities each kind can have, where they are known."""
    possible = {kind: set(severities) for kind, severities in _FIXED_SEVERITY.items()}
    if election is not None:
        relations = {relation["severity"] for relation in election.template.relations}
        possible |= {kind: relations for kind in _RELATION_KINDS}
    return possible


def _walks(
    rows: QuerySet[Finding], filters: QueueFilters, election: Election | None
) -> list[QuerySet[Finding]]:
    """Queries that each follow one queue index in magnitude order: per status (and per kind
    when a severity is asked for), then the resolved findings, which no index covers."""
    statuses = [filters.status] if filters.status else FindingStatus.values
    kinds: list[str | None] = [filters.kind or None]
    if filters.severity:
        rows = rows.filter(severity=filters.severity)
        possible = _possible_severities(election)
        kinds = [
            kind
            for kind in ([filters.kind] if filters.kind else FindingKind.values)
            if filters.severity in possible.get(kind, {filters.severity})
        ]
    walks = []
    for kind in kinds:
        walk = rows if kind is None else rows.filter(kind=kind)
        walks += [walk.filter(present=True, status=status) for status in statuses]
    if filters.include_resolved and kinds:
        resolved = rows.filter(present=False)
        if filters.kind:
            resolved = resolved.filter(kind=filters.kind)
        if filters.status:
            resolved = resolved.filter(status=filters.status)
        walks.append(resolved)
    return walks


def _merged_heads(walks: list[QuerySet[Finding]], count: int) -> list[tuple[int, int]]:
    """The first ``count`` (magnitude, id) of all walks together, largest first.

    Where the database takes ordered, limited parts in a UNION ALL (PostgreSQL), one query
    runs every walk; otherwise each walk is its own query, merged here.
    """
    heads = [
        walk.order_by("-magnitude", "-pk").values_list("magnitude", "pk")[:count] for walk in walks
    ]
    if not heads:
        return []
    if len(heads) > 1 and connection.features.supports_slicing_ordering_in_compound:
        rows = list(heads[0].union(*heads[1:], all=True))
    else:
        rows = [row for head in heads for row in head]
    return sorted(rows, key=lambda row: (-row[0], -row[1]))[:count]


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
