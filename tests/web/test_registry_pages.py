"""The registry's pages through Django's test client: content, 404s, query counts."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from pollwatch.registry.models import Commission, PollingStation
from pollwatch.registry.views import STATIONS_PER_PAGE
from tests.web.factories import SmallElection, build_small_election

MaxQueries = Callable[[int], AbstractContextManager[Any]]
SLUG = "test-referendum"


def test_home_lists_elections_with_totals_over_top_level_commissions(
    client: Client, small_election: SmallElection
) -> None:
    html = client.get(reverse("home")).content.decode()
    assert "Test referendum 2026" in html
    assert reverse("election", args=[SLUG]) in html
    assert "Referendum" in html
    # 3 + 2 stations and 2,500 + 3,500 voters; the territorials must not be counted twice.
    assert ">5<" in html
    assert "6,000" in html


def test_election_overview_shows_totals_and_regions(
    client: Client, small_election: SmallElection
) -> None:
    response = client.get(reverse("election", args=[SLUG]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-figure="registered-voters">6,000<' in html
    assert "Akmola Region" in html and "Almaty City" in html
    assert "Kokshetau City" not in html  # territorials come on demand


def test_election_overview_leads_to_what_the_mission_found(
    client: Client, small_election: SmallElection
) -> None:
    html = client.get(reverse("election", args=[SLUG])).content.decode()
    for name in ("tabulation", "forensics", "pvt", "election_log"):
        assert f'href="{reverse(name, args=[SLUG])}"' in html, name
    # The queue is staff's: an anonymous visitor is not led there.
    assert reverse("findings_queue", args=[SLUG]) not in html


def test_commission_children_partial_is_a_fragment(
    client: Client, small_election: SmallElection
) -> None:
    url = reverse("commission_children", args=[SLUG, small_election.akmola.pk])
    html = client.get(url).content.decode()
    assert "<html" not in html
    assert "Kokshetau City" in html and "Burabay District" in html
    assert "Almalinsky District" not in html


def test_commission_page_has_breadcrumbs_and_stations(
    client: Client, small_election: SmallElection
) -> None:
    url = reverse("commission", args=[SLUG, small_election.kokshetau.pk])
    html = client.get(url).content.decode()
    assert reverse("commission", args=[SLUG, small_election.akmola.pk]) in html
    assert reverse("station", args=[SLUG, small_election.station_101.pk]) in html
    assert reverse("station", args=[SLUG, small_election.station_102.pk]) in html


def test_station_page_shows_location_and_path(
    client: Client, small_election: SmallElection
) -> None:
    url = reverse("station", args=[SLUG, small_election.station_101.pk])
    html = client.get(url).content.decode()
    assert 'data-figure="code">0101101<' in html
    assert 'data-figure="registered-voters">1,200<' in html
    assert "12 Abay Street, Kokshetau" in html
    assert "53.283300, 69.383300" in html
    assert "https://www.openstreetmap.org/?mlat=53.2833&amp;mlon=69.3833" in html
    assert reverse("commission", args=[SLUG, small_election.akmola.pk]) in html
    assert reverse("commission", args=[SLUG, small_election.kokshetau.pk]) in html


def test_station_page_without_coordinates_says_so(
    client: Client, small_election: SmallElection
) -> None:
    url = reverse("station", args=[SLUG, small_election.station_102.pk])
    html = client.get(url).content.decode()
    assert "openstreetmap.org" not in html
    assert "not recorded" in html


def test_search_matches_the_number_exactly(client: Client, small_election: SmallElection) -> None:
    url = reverse("station_search", args=[SLUG])
    both = client.get(url, {"number": " 101 "}).content.decode()
    assert "2 polling stations have this number." in both
    assert "Akmola Region › Kokshetau City" in both
    assert reverse("station", args=[SLUG, small_election.station_101.pk]) in both
    assert reverse("station", args=[SLUG, small_election.almaty_101.pk]) in both
    partial = client.get(url, {"number": "10"}).content.decode()
    assert reverse("station", args=[SLUG, small_election.station_101.pk]) not in partial
    assert "No polling station has the number" in partial


@pytest.mark.parametrize(
    "name, args",
    [
        ("election", ["no-such-election"]),
        ("station_search", ["no-such-election"]),
        ("commission", [SLUG, 999_999]),
        ("commission_children", [SLUG, 999_999]),
        ("station", [SLUG, 999_999]),
        ("commission", ["no-such-election", 1]),
    ],
)
def test_unknown_objects_are_404(
    client: Client, small_election: SmallElection, name: str, args: list[object]
) -> None:
    assert client.get(reverse(name, args=args)).status_code == 404


def test_objects_of_another_election_are_404(client: Client, small_election: SmallElection) -> None:
    other = build_small_election("other-election")
    station = reverse("station", args=[SLUG, other.station_101.pk])
    commission = reverse("commission", args=[SLUG, other.akmola.pk])
    children = reverse("commission_children", args=[SLUG, other.akmola.pk])
    assert client.get(station).status_code == 404
    assert client.get(commission).status_code == 404
    assert client.get(children).status_code == 404


def test_stations_are_paginated(client: Client, small_election: SmallElection) -> None:
    commission = small_election.burabay
    PollingStation.objects.bulk_create(
        PollingStation(
            election=commission.election,
            commission=commission,
            code=f"0102{99 - n:03}",  # codes in the reverse order of the numbers
            number=str(500 + n),
            registered_voters=10,
        )
        for n in range(STATIONS_PER_PAGE)
    )
    url = reverse("commission", args=[SLUG, commission.pk])
    first, second = client.get(url).content.decode(), client.get(url, {"page": 2}).content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    # 101 stations in number order: 201, 500 … 598 on page 1, then 599 alone on page 2.
    assert ">201<" in first and ">598<" in first
    assert ">599<" in second and ">599<" not in first and ">201<" not in second


def test_stations_are_listed_in_number_order(client: Client, small_election: SmallElection) -> None:
    commission = small_election.almalinsky  # has stations 101 and 301
    for number in ("1000", "9"):
        PollingStation.objects.create(
            election=commission.election,
            commission=commission,
            code=f"a-{number}",
            number=number,
            registered_voters=1,
        )
    html = client.get(reverse("commission", args=[SLUG, commission.pk])).content.decode()
    positions = [html.index(f">{number}</a>") for number in ("9", "101", "301", "1000")]
    assert positions == sorted(positions)


def _deep_chain(small: SmallElection, levels: int) -> Commission:
    """A chain of `levels` commissions under Kokshetau, deeper than one join reaches."""
    parent = small.kokshetau
    for depth in range(2, 2 + levels):
        parent = Commission.objects.create(
            election=small.election,
            code=f"deep-{depth}",
            name=f"Level {depth}",
            level="sub",
            depth=depth,
            parent=parent,
            station_count=1,
            registered_voters=5,
        )
    return parent


def test_station_page_costs_one_query(
    client: Client, small_election: SmallElection, django_assert_max_num_queries: MaxQueries
) -> None:
    url = reverse("station", args=[SLUG, small_election.station_101.pk])
    with django_assert_max_num_queries(1):
        assert client.get(url).status_code == 200


def test_station_page_query_count_is_bounded_in_deep_hierarchies(
    client: Client, small_election: SmallElection, django_assert_max_num_queries: MaxQueries
) -> None:
    deepest = _deep_chain(small_election, 10)  # 12 levels: two joined queries of 6 more
    station = PollingStation.objects.create(
        election=small_election.election,
        commission=deepest,
        code="deep-station",
        number="9999",
        registered_voters=5,
    )
    url = reverse("station", args=[SLUG, station.pk])
    with django_assert_max_num_queries(2):
        html = client.get(url).content.decode()
    for depth in range(2, 12):
        assert f"Level {depth}<" in html
    assert "Akmola Region" in html


def test_commission_page_query_count_does_not_grow_with_its_contents(
    client: Client, small_election: SmallElection, django_assert_max_num_queries: MaxQueries
) -> None:
    # The commission, its children, the station count and one page of stations.
    url = reverse("commission", args=[SLUG, small_election.kokshetau.pk])
    with django_assert_max_num_queries(4):
        assert client.get(url).status_code == 200
    PollingStation.objects.bulk_create(
        PollingStation(
            election=small_election.election,
            commission=small_election.kokshetau,
            code=f"extra-{n}",
            number=str(1000 + n),
            registered_voters=1,
        )
        for n in range(250)
    )
    with django_assert_max_num_queries(4):
        assert client.get(url).status_code == 200


def test_pages_render_in_russian_and_kazakh(client: Client, small_election: SmallElection) -> None:
    for language in ("ru", "kk"):
        html = client.get(f"/{language}/elections/{SLUG}/").content.decode()
        assert f'<html lang="{language}"' in html
        # Digits grouped the local way: Django ships Russian formats; Kazakh ones are ours.
        assert 'data-figure="registered-voters">6\xa0000<' in html


def test_not_found_page_is_the_site_page(client: Client, small_election: SmallElection) -> None:
    html = client.get("/ru/elections/no-such-election/").content.decode()
    assert '<html lang="ru"' in html
    assert html.count("<h1") == 1
    assert 'href="/ru/"' in html  # the way back, in the reader's language


def test_home_and_overview_query_counts_do_not_grow_with_the_election(
    client: Client, small_election: SmallElection, django_assert_max_num_queries: MaxQueries
) -> None:
    build_small_election("second-election")
    with django_assert_max_num_queries(1):
        client.get(reverse("home"))
    # The election, then its top-level commissions; totals come from their counters.
    with django_assert_max_num_queries(2):
        client.get(reverse("election", args=[SLUG]))


def test_search_costs_two_queries(
    client: Client, small_election: SmallElection, django_assert_max_num_queries: MaxQueries
) -> None:
    # The election, then the stations with their commission and its parent joined.
    with django_assert_max_num_queries(2):
        client.get(reverse("station_search", args=[SLUG]), {"number": "101"})
