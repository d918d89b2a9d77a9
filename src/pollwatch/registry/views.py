"""Pages for browsing an election's structure: overview, commissions, stations, search."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from pollwatch.registry import selectors
from pollwatch.registry.models import Commission, Election

STATIONS_PER_PAGE = 100
# Longer than any station number (the model allows 50 characters): not worth a query.
MAX_NUMBER_LENGTH = 50


def election_overview(request: HttpRequest, slug: str) -> HttpResponse:
    election = get_object_or_404(Election, slug=slug)
    regions = selectors.top_level_commissions(election)
    context = {"election": election, "regions": regions, "totals": selectors.totals(regions)}
    return render(request, "registry/election.html", context)


def commission_detail(request: HttpRequest, slug: str, commission_id: int) -> HttpResponse:
    commission = get_object_or_404(
        selectors.commissions_with_ancestors(), election__slug=slug, pk=commission_id
    )
    context = {
        "election": commission.election,
        "path": selectors.commission_path(commission),
        **_children_context(request, commission),
    }
    return render(request, "registry/commission.html", context)


def commission_children(request: HttpRequest, slug: str, commission_id: int) -> HttpResponse:
    """The partial that htmx expands in place under a commission."""
    commission = get_object_or_404(
        Commission.objects.select_related("election"), election__slug=slug, pk=commission_id
    )
    context = {"election": commission.election, **_children_context(request, commission)}
    return render(request, "registry/partials/commission_children.html", context)


def _children_context(request: HttpRequest, commission: Commission) -> dict[str, Any]:
    paginator = Paginator(selectors.stations_of(commission), STATIONS_PER_PAGE)
    return {
        "commission": commission,
        "children": list(selectors.child_commissions(commission)),
        "stations": paginator.get_page(request.GET.get("page")),
    }


def station_detail(request: HttpRequest, slug: str, station_id: int) -> HttpResponse:
    station = get_object_or_404(
        selectors.stations_with_commission_path(), election__slug=slug, pk=station_id
    )
    context = {
        "election": station.election,
        "station": station,
        "path": selectors.commission_path(station.commission),
    }
    return render(request, "registry/station.html", context)


def station_search(request: HttpRequest, slug: str) -> HttpResponse:
    """Exact match on the station number; htmx picks the results out of this page as one types."""
    election = get_object_or_404(Election, slug=slug)
    number = request.GET.get("number", "").strip()
    searchable = 0 < len(number) <= MAX_NUMBER_LENGTH
    stations = selectors.stations_by_number(election, number) if searchable else []
    context = {"election": election, "number": number, "searched": searchable, "stations": stations}
    return render(request, "registry/search.html", context)
