"""Read endpoints of the election registry: elections, commissions, polling stations.

The registry is public information, so these need no login. Lists are paginated with
`limit`/`offset`; their `count` is bounded (see registry/pagination.py).
"""

# No `from __future__ import annotations` here: ninja resolves the Query[...] annotations of
# the operations when they are registered, and string annotations break that.
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Model, QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Query, Router
from ninja.errors import HttpError
from ninja.pagination import paginate

from pollwatch.registry import selectors
from pollwatch.registry.models import Commission, Election
from pollwatch.registry.pagination import CappedLimitOffsetPagination, Listing
from pollwatch.registry.schemas import (
    CommissionDetailOut,
    CommissionFilter,
    CommissionOut,
    ElectionDetailOut,
    ElectionOut,
    ErrorOut,
    StationDetailOut,
    StationFilter,
    StationOut,
)

router = Router(tags=["registry"])

NOT_FOUND = {404: ErrorOut}
Row = TypeVar("Row", bound=Model)


def _elections() -> QuerySet[Election]:
    return Election.objects.annotate(template_key=F("template__key"))


def _election_or_404(slug: str, elections: QuerySet[Election] | None = None) -> Election:
    try:
        return (elections if elections is not None else Election.objects).get(slug=slug)
    except Election.DoesNotExist:
        raise HttpError(404, _("No election with slug '%(slug)s'.") % {"slug": slug}) from None


# What a 404 says of a row missing from an election, per kind of row (%(parameter)s, %(id)s,
# %(election)s): a whole sentence each, for the translators.
NO_COMMISSION = gettext_lazy(
    "%(parameter)s: no commission with id %(id)s in election '%(election)s'."
)
NO_STATION = gettext_lazy(
    "%(parameter)s: no polling station with id %(id)s in election '%(election)s'."
)


def _not_found(parameter: str, missing: Promise, row_id: int, election: Election) -> HttpError:
    return HttpError(
        404, str(missing) % {"parameter": parameter, "id": row_id, "election": election.slug}
    )


def _commission_or_404(election: Election, commission_id: int, parameter: str) -> Commission:
    try:
        return election.commissions.get(pk=commission_id)
    except Commission.DoesNotExist:
        raise _not_found(parameter, NO_COMMISSION, commission_id, election) from None


def _row_or_404(
    rows: QuerySet[Row], slug: str, row_id: int, parameter: str, missing: Promise
) -> Row:
    """The row with id `row_id` in election `slug`, in one query; on a miss, a 404 saying
    whether the election or the row is unknown (a second query, off the hot path)."""
    try:
        return rows.get(election__slug=slug, pk=row_id)
    except ObjectDoesNotExist:
        raise _not_found(parameter, missing, row_id, _election_or_404(slug)) from None


@router.get("/elections", response=list[ElectionOut], summary="List elections")
@paginate(CappedLimitOffsetPagination)
def list_elections(request: HttpRequest) -> QuerySet[Election]:
    """Every election and referendum in the registry, the most recent first."""
    return _elections()


@router.get(
    "/elections/{slug}",
    response={200: ElectionDetailOut, **NOT_FOUND},
    summary="Get an election",
)
def get_election(request: HttpRequest, slug: str) -> ElectionDetailOut:
    """One election with its ballot options, its protocol template's key, and its totals
    (stations and registered voters, as of the last structure import)."""
    election = _election_or_404(slug, _elections().prefetch_related("options"))
    totals = selectors.totals(selectors.top_level_commissions(election))
    return ElectionDetailOut.build(election, totals)


@router.get(
    "/elections/{slug}/commissions",
    response={200: list[CommissionOut], **NOT_FOUND},
    summary="List an election's commissions",
)
@paginate(CappedLimitOffsetPagination)
def list_commissions(
    request: HttpRequest, slug: str, filters: Query[CommissionFilter]
) -> QuerySet[Commission]:
    """The commissions above the precinct level, top tier first, then by code.

    Filter by `parent` to walk the hierarchy one tier at a time. An unknown `parent` id is a
    404, so that a typo is not mistaken for a commission without children.
    """
    election = _election_or_404(slug)
    if (parent_id := filters.parent_id()) is not None:
        _commission_or_404(election, parent_id, "parent")
    return filters.filter(election.commissions.all())


@router.get(
    "/elections/{slug}/commissions/{commission_id}",
    response={200: CommissionDetailOut, **NOT_FOUND},
    summary="Get a commission",
)
def get_commission(request: HttpRequest, slug: str, commission_id: int) -> CommissionDetailOut:
    """One commission with its totals and the chain of commissions above it."""
    commissions = selectors.commissions_with_ancestors()
    commission = _row_or_404(commissions, slug, commission_id, "commission_id", NO_COMMISSION)
    return CommissionDetailOut.build(selectors.commission_path(commission))


@router.get(
    "/elections/{slug}/stations",
    response={200: list[StationOut], **NOT_FOUND},
    summary="List an election's polling stations",
)
@paginate(CappedLimitOffsetPagination)
def list_stations(request: HttpRequest, slug: str, filters: Query[StationFilter]) -> Listing:
    """Polling stations ordered by code.

    Without filters, `count` is the election's total from the commission totals; with filters
    it is exact up to 10,000 (see `count_exact`). An unknown `commission` id is a 404.
    """
    election = _election_or_404(slug)
    if filters.commission is not None:
        _commission_or_404(election, filters.commission, "commission")
    stations = filters.filter(election.stations.order_by("code"))
    # Unfiltered, the count is the election's total from the top-level commission counters:
    # COUNT(*) would read every station of the election for each page.
    known = (
        selectors.totals(selectors.top_level_commissions(election)).station_count
        if filters.is_empty()
        else None
    )
    return Listing(stations, known_count=known)


@router.get(
    "/elections/{slug}/stations/{station_id}",
    response={200: StationDetailOut, **NOT_FOUND},
    summary="Get a polling station",
)
def get_station(request: HttpRequest, slug: str, station_id: int) -> StationDetailOut:
    """One polling station with the chain of commissions above it."""
    stations = selectors.stations_with_commission_path()
    station = _row_or_404(stations, slug, station_id, "station_id", NO_STATION)
    return StationDetailOut.build(station, selectors.commission_path(station.commission))
