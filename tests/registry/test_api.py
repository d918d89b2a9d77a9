"""The registry's read API at /api/v1: elections, commissions, stations."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pollwatch.registry.models import (
    BallotOption,
    Commission,
    Election,
    PollingStation,
    ProtocolTemplate,
)
from pollwatch.registry.pagination import Listing

API = "/api/v1"


@dataclass
class Registry:
    """A referendum with two regions; R01 has two territories, R02 runs a station directly."""

    election: Election
    other: Election
    r01: Commission
    r02: Commission
    t01: Commission
    t02: Commission
    stations: dict[str, PollingStation]


def _commission(
    election: Election,
    code: str,
    name: str,
    parent: Commission | None,
    totals: tuple[int, int],
) -> Commission:
    return Commission.objects.create(
        election=election,
        code=code,
        name=name,
        level="territory" if parent else "region",
        depth=parent.depth + 1 if parent else 0,
        parent=parent,
        station_count=totals[0],
        registered_voters=totals[1],
    )


@pytest.fixture
def registry(db: None) -> Registry:
    template = ProtocolTemplate.objects.create(
        key="test-referendum", name="Referendum protocol", lines=[], relations=[]
    )
    election = Election.objects.create(
        slug="ref-2026",
        name="Constitutional referendum",
        kind=Election.Kind.REFERENDUM,
        date=datetime.date(2026, 3, 15),
        time_zone="Asia/Almaty",
        languages=["kk", "ru"],
        template=template,
    )
    BallotOption.objects.create(election=election, line_key="no", name="No", position=2)
    BallotOption.objects.create(election=election, line_key="yes", name="Yes", position=1)
    other = Election.objects.create(
        slug="pres-2024",
        name="Presidential election",
        kind=Election.Kind.ELECTION,
        date=datetime.date(2024, 11, 3),
        template=template,
    )
    # Totals as the structure import keeps them: over each commission's whole subtree.
    r01 = _commission(election, "R01", "Almaty Region", None, (4, 5000))
    r02 = _commission(election, "R02", "Astana City", None, (1, 3000))
    t01 = _commission(election, "R01-T01", "Talgar District", r01, (3, 4500))
    t02 = _commission(election, "R01-T02", "Kegen District", r01, (1, 500))
    rows = [
        ("01-001", "1", t01, 1000),
        ("01-002", "2", t01, 1500),
        ("01-003", "3", t01, 2000),
        ("01-004", "4", t02, 500),
        ("02-001", "1", r02, 3000),
    ]
    stations = {
        code: PollingStation.objects.create(
            election=election,
            code=code,
            number=number,
            commission=commission,
            registered_voters=registered,
            address=f"School {code}",
            latitude=43.2,
            longitude=76.9,
        )
        for code, number, commission, registered in rows
    }
    other_region = _commission(other, "R01", "Almaty Region", None, (1, 10))
    PollingStation.objects.create(
        election=other, code="01-001", number="1", commission=other_region, registered_voters=10
    )
    return Registry(election, other, r01, r02, t01, t02, stations)


def _get(client: Client, path: str, status: int = 200, **params: Any) -> Any:
    response = client.get(f"{API}{path}", params)
    assert response.status_code == status, response.content
    return response.json()


def _codes(body: dict[str, Any]) -> list[str]:
    return [item["code"] for item in body["items"]]


def _error_text(body: dict[str, Any]) -> str:
    """The message of a 404 (`detail` is a string) or a 422 (`detail` lists the errors)."""
    return str(body["detail"])


# Elections


def test_elections_are_listed_most_recent_first(client: Client, registry: Registry) -> None:
    body = _get(client, "/elections")
    assert [item["slug"] for item in body["items"]] == ["ref-2026", "pres-2024"]
    assert body["count"] == 2
    assert body["count_exact"] is True
    assert body["items"][0] == {
        "slug": "ref-2026",
        "name": "Constitutional referendum",
        "kind": "referendum",
        "date": "2026-03-15",
        "time_zone": "Asia/Almaty",
        "languages": ["kk", "ru"],
        "template_key": "test-referendum",
    }


def test_election_list_pages_with_limit_and_offset(client: Client, registry: Registry) -> None:
    body = _get(client, "/elections", limit=1, offset=1)
    assert [item["slug"] for item in body["items"]] == ["pres-2024"]
    assert body["count"] == 2


def test_election_detail_has_options_template_and_totals(
    client: Client, registry: Registry
) -> None:
    body = _get(client, "/elections/ref-2026")
    assert body["template_key"] == "test-referendum"
    assert body["options"] == [
        {"line_key": "yes", "name": "Yes", "position": 1},
        {"line_key": "no", "name": "No", "position": 2},
    ]
    # R01 (4 stations, 5000 voters) + R02 (1, 3000); the territories are inside R01.
    assert body["totals"] == {"station_count": 5, "registered_voters": 8000}


def test_unknown_election_is_a_404_naming_the_slug(client: Client, registry: Registry) -> None:
    for path in (
        "/elections/nope",
        "/elections/nope/commissions",
        f"/elections/nope/commissions/{registry.r01.pk}",
        "/elections/nope/stations",
        f"/elections/nope/stations/{registry.stations['01-001'].pk}",
    ):
        body = _get(client, path, status=404)
        assert body == {"detail": "No election with slug 'nope'."}, path


# Commissions


def test_commissions_are_listed_top_tier_first_then_by_code(
    client: Client, registry: Registry
) -> None:
    body = _get(client, "/elections/ref-2026/commissions")
    assert _codes(body) == ["R01", "R02", "R01-T01", "R01-T02"]
    assert body["count"] == 4
    assert body["items"][2] == {
        "id": registry.t01.pk,
        "code": "R01-T01",
        "name": "Talgar District",
        "level": "territory",
        "depth": 1,
        "parent_id": registry.r01.pk,
        "station_count": 3,
        "registered_voters": 4500,
    }


def test_commission_list_excludes_other_elections(client: Client, registry: Registry) -> None:
    assert _codes(_get(client, "/elections/pres-2024/commissions")) == ["R01"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"parent": "root"}, ["R01", "R02"]),
        ({"parent": "R01"}, None),  # replaced below by an id: codes are not ids
        ({"level": "territory"}, ["R01-T01", "R01-T02"]),
        ({"q": "TALGAR"}, ["R01-T01"]),
        ({"q": "t02"}, ["R01-T02"]),
        ({"q": "district", "level": "region"}, []),
    ],
)
def test_commission_filters(
    client: Client, registry: Registry, params: dict[str, Any], expected: list[str] | None
) -> None:
    if expected is None:
        params, expected = {"parent": str(registry.r01.pk)}, ["R01-T01", "R01-T02"]
    assert _codes(_get(client, "/elections/ref-2026/commissions", **params)) == expected


def test_commission_parent_of_a_leaf_has_no_children(client: Client, registry: Registry) -> None:
    body = _get(client, "/elections/ref-2026/commissions", parent=registry.t01.pk)
    assert body == {"items": [], "count": 0, "count_exact": True}


@pytest.mark.parametrize("parent", ["abc", "-1", "0", "", "1.5"])
def test_malformed_parent_is_a_422_naming_it(
    client: Client, registry: Registry, parent: str
) -> None:
    body = _get(client, "/elections/ref-2026/commissions", status=422, parent=parent)
    assert "parent" in _error_text(body)
    assert "'root'" in _error_text(body)


def test_unknown_parent_is_a_404_naming_it(client: Client, registry: Registry) -> None:
    other_region = registry.other.commissions.get()
    for parent in (999_999, other_region.pk):
        body = _get(client, "/elections/ref-2026/commissions", status=404, parent=parent)
        assert body == {"detail": f"parent: no commission with id {parent} in election 'ref-2026'."}


def test_commission_detail_has_its_parent_chain(client: Client, registry: Registry) -> None:
    body = _get(client, f"/elections/ref-2026/commissions/{registry.t02.pk}")
    assert body["code"] == "R01-T02"
    assert body["station_count"] == 1
    assert [parent["code"] for parent in body["parents"]] == ["R01"]
    assert body["parents"][0] == {
        "id": registry.r01.pk,
        "code": "R01",
        "name": "Almaty Region",
        "level": "region",
        "depth": 0,
    }


def test_top_level_commission_has_no_parents(client: Client, registry: Registry) -> None:
    body = _get(client, f"/elections/ref-2026/commissions/{registry.r02.pk}")
    assert body["parent_id"] is None
    assert body["parents"] == []


def test_unknown_commission_is_a_404_naming_it(client: Client, registry: Registry) -> None:
    other_region = registry.other.commissions.get()
    for commission_id in (999_999, other_region.pk):
        body = _get(client, f"/elections/ref-2026/commissions/{commission_id}", status=404)
        assert body["detail"] == (
            f"commission_id: no commission with id {commission_id} in election 'ref-2026'."
        )


def test_non_numeric_commission_id_is_a_422(client: Client, registry: Registry) -> None:
    body = _get(client, "/elections/ref-2026/commissions/abc", status=422)
    assert "commission_id" in _error_text(body)


# Stations


def test_stations_are_listed_by_code_with_the_election_total(
    client: Client, registry: Registry
) -> None:
    body = _get(client, "/elections/ref-2026/stations", limit=2)
    assert _codes(body) == ["01-001", "01-002"]
    assert (body["count"], body["count_exact"]) == (5, True)
    station = registry.stations["01-001"]
    assert body["items"][0] == {
        "id": station.pk,
        "code": "01-001",
        "number": "1",
        "commission_id": registry.t01.pk,
        "registered_voters": 1000,
        "address": "School 01-001",
        "latitude": 43.2,
        "longitude": 76.9,
    }


def test_station_pages_follow_each_other(client: Client, registry: Registry) -> None:
    pages = [
        _codes(_get(client, "/elections/ref-2026/stations", limit=2, offset=offset))
        for offset in (0, 2, 4, 6)
    ]
    assert pages == [["01-001", "01-002"], ["01-003", "01-004"], ["02-001"], []]


def test_unfiltered_station_count_does_not_count_the_stations(
    client: Client, registry: Registry
) -> None:
    """COUNT(*) over a million stations per page is what the commission totals avoid."""
    with CaptureQueriesContext(connection) as queries:
        body = _get(client, "/elections/ref-2026/stations", limit=2)
    assert body["count"] == 5
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"commission": "t01"}, ["01-001", "01-002", "01-003"]),
        ({"commission": "r02"}, ["02-001"]),
        ({"commission": "r01"}, []),  # its stations are under its territories
        ({"number": "1"}, ["01-001", "02-001"]),
        ({"code": "01-004"}, ["01-004"]),
        ({"code": "01-00"}, []),  # exact, not a prefix
        ({"min_registered": 1500}, ["01-002", "01-003", "02-001"]),
        ({"max_registered": 1000}, ["01-001", "01-004"]),
        ({"min_registered": 1000, "max_registered": 2000}, ["01-001", "01-002", "01-003"]),
        ({"number": "1", "max_registered": 2000}, ["01-001"]),
        ({"after": "01-003"}, ["01-004", "02-001"]),
        ({"after": "01"}, ["01-001", "01-002", "01-003", "01-004", "02-001"]),
        ({"after": "02-001"}, []),
    ],
)
def test_station_filters(
    client: Client, registry: Registry, params: dict[str, Any], expected: list[str]
) -> None:
    if "commission" in params:
        params = {**params, "commission": getattr(registry, params["commission"]).pk}
    body = _get(client, "/elections/ref-2026/stations", **params)
    assert _codes(body) == expected
    assert (body["count"], body["count_exact"]) == (len(expected), True)


def test_after_walks_the_stations_page_by_page(client: Client, registry: Registry) -> None:
    pages, after = [], ""
    while page := _codes(_get(client, "/elections/ref-2026/stations", limit=2, after=after)):
        pages.append(page)
        after = page[-1]
    assert pages == [["01-001", "01-002"], ["01-003", "01-004"], ["02-001"]]


def test_filtered_station_count_is_counted_past_the_page(
    client: Client, registry: Registry
) -> None:
    body = _get(client, "/elections/ref-2026/stations", limit=1, commission=registry.t01.pk)
    assert _codes(body) == ["01-001"]
    assert (body["count"], body["count_exact"]) == (3, True)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"commission": "abc"}, "commission"),
        ({"commission": 0}, "commission"),
        ({"min_registered": -1}, "min_registered"),
        ({"max_registered": "many"}, "max_registered"),
        ({"min_registered": 2000, "max_registered": 1000}, "min_registered (2000)"),
    ],
)
def test_bad_station_filters_are_a_422_naming_them(
    client: Client, registry: Registry, params: dict[str, Any], named: str
) -> None:
    body = _get(client, "/elections/ref-2026/stations", status=422, **params)
    assert named in _error_text(body)


def test_unknown_station_commission_filter_is_a_404(client: Client, registry: Registry) -> None:
    body = _get(client, "/elections/ref-2026/stations", status=404, commission=999_999)
    assert body == {"detail": "commission: no commission with id 999999 in election 'ref-2026'."}


def test_station_detail_has_its_commission_path(client: Client, registry: Registry) -> None:
    station = registry.stations["01-003"]
    body = _get(client, f"/elections/ref-2026/stations/{station.pk}")
    assert body["code"] == "01-003"
    assert body["registered_voters"] == 2000
    assert [commission["code"] for commission in body["commissions"]] == ["R01", "R01-T01"]


def test_station_directly_under_a_region_has_a_one_step_path(
    client: Client, registry: Registry
) -> None:
    station = registry.stations["02-001"]
    body = _get(client, f"/elections/ref-2026/stations/{station.pk}")
    assert [commission["code"] for commission in body["commissions"]] == ["R02"]


def test_unknown_station_is_a_404_naming_it(client: Client, registry: Registry) -> None:
    other_station = registry.other.stations.get()
    for station_id in (999_999, other_station.pk):
        body = _get(client, f"/elections/ref-2026/stations/{station_id}", status=404)
        assert body == {
            "detail": f"station_id: no polling station with id {station_id} in election 'ref-2026'."
        }


# Pagination


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": 1001}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 10_001}, "offset"),
    ],
)
def test_bad_pagination_is_a_422_naming_the_parameter(
    client: Client, registry: Registry, params: dict[str, int], named: str
) -> None:
    for path in ("/elections", "/elections/ref-2026/commissions", "/elections/ref-2026/stations"):
        body = _get(client, path, status=422, **params)
        assert [error["loc"][-1] for error in body["detail"]] == [named], path


def test_offset_limit_explains_how_to_go_deeper(client: Client, registry: Registry) -> None:
    _get(client, "/elections/ref-2026/stations", offset=10_000)
    body = _get(client, "/elections/ref-2026/stations", status=422, offset=10_001)
    assert "offset is limited to 10,000" in _error_text(body)
    assert "`after`" in _error_text(body)


def test_count_is_exact_up_to_the_cap_and_capped_beyond(registry: Registry) -> None:
    stations = registry.election.stations.order_by("code")
    full_page = list(stations[:2])
    assert Listing(stations).count(cap=5, offset=0, page=full_page, limit=2) == (5, True)
    assert Listing(stations).count(cap=4, offset=0, page=full_page, limit=2) == (4, False)
    assert Listing(stations, known_count=7).count(cap=4, offset=0, page=[], limit=2) == (7, True)


def test_count_of_a_short_page_is_where_it_ends(registry: Registry) -> None:
    stations = registry.election.stations.order_by("code")
    last_page = list(stations[4:6])
    with CaptureQueriesContext(connection) as queries:
        counted = Listing(stations).count(cap=100, offset=4, page=last_page, limit=2)
    assert counted == (5, True)
    assert len(queries) == 0
    # Past the end the page is empty and says nothing: the rows must be counted.
    assert Listing(stations).count(cap=100, offset=9, page=[], limit=2) == (5, True)


# Cost per request: a fixed number of queries, whatever the size of the election.


@pytest.mark.parametrize(
    ("path", "params", "max_queries"),
    [
        ("/elections", {}, 2),
        ("/elections/ref-2026", {}, 3),
        ("/elections/ref-2026/commissions", {}, 2),
        ("/elections/ref-2026/commissions", {"parent": "PARENT", "q": "d"}, 3),
        ("/elections/ref-2026/commissions/COMMISSION", {}, 1),
        ("/elections/ref-2026/stations", {"limit": 2}, 3),
        ("/elections/ref-2026/stations", {"commission": "PARENT", "limit": 1}, 4),
        ("/elections/ref-2026/stations/STATION", {}, 1),
    ],
)
def test_queries_per_request_are_bounded(
    client: Client,
    registry: Registry,
    django_assert_max_num_queries: Any,
    path: str,
    params: dict[str, Any],
    max_queries: int,
) -> None:
    ids = {
        "PARENT": str(registry.t01.pk),
        "COMMISSION": str(registry.t02.pk),
        "STATION": str(registry.stations["01-003"].pk),
    }
    for placeholder, value in ids.items():
        path = path.replace(placeholder, value)
    params = {key: ids.get(value, value) for key, value in params.items()}
    with django_assert_max_num_queries(max_queries):
        _get(client, path, **params)


# OpenAPI


def test_openapi_documents_every_operation(client: Client) -> None:
    schema = _get(client, "/openapi.json")
    operations = {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) >= {
        ("GET", "/api/v1/elections"),
        ("GET", "/api/v1/elections/{slug}"),
        ("GET", "/api/v1/elections/{slug}/commissions"),
        ("GET", "/api/v1/elections/{slug}/commissions/{commission_id}"),
        ("GET", "/api/v1/elections/{slug}/stations"),
        ("GET", "/api/v1/elections/{slug}/stations/{station_id}"),
    }
    registry_operations = [op for op in operations.values() if "registry" in op.get("tags", [])]
    assert len(registry_operations) == 6
    for operation in registry_operations:
        assert operation["summary"] and operation["description"], operation["operationId"]


def test_openapi_documents_filters_and_pagination(client: Client) -> None:
    schema = _get(client, "/openapi.json")
    stations = schema["paths"]["/api/v1/elections/{slug}/stations"]["get"]
    parameters = {param["name"]: param for param in stations["parameters"]}
    assert set(parameters) == {
        "slug",
        "limit",
        "offset",
        "commission",
        "number",
        "code",
        "after",
        "min_registered",
        "max_registered",
    }
    assert parameters["commission"]["description"]
    assert parameters["limit"]["schema"]["maximum"] == 1000
    assert "404" in stations["responses"]
