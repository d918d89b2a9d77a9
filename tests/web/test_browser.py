"""The web UI in a real Chromium: drill-down, live search, languages, login, accessibility."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from pollwatch.registry.models import PollingStation
from pollwatch.registry.views import STATIONS_PER_PAGE
from tests.web.factories import SmallElection, build_small_election

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small_election() -> SmallElection:
    # Overrides the `db`-bound fixture: the live server's thread must see committed rows.
    return build_small_election()


def _figure(page: Page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').inner_text().strip()


def test_drill_down_from_home_to_a_station(
    page: Page, live_server: Any, small_election: SmallElection
) -> None:
    page.goto(live_server.url)
    page.get_by_role("link", name="Test referendum 2026").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Test referendum 2026")
    assert _figure(page, "stations") == "5"
    assert _figure(page, "registered-voters") == "6,000"

    # Expanding a region loads its territorials in place (htmx), without leaving the page.
    overview_url = page.url
    page.get_by_text("Show what Akmola Region covers").click()
    expect(page.get_by_role("link", name="Kokshetau City", exact=True)).to_be_visible()
    page.get_by_text("Show what Kokshetau City covers").click()
    station_link = page.get_by_role("link", name="101", exact=True)
    expect(station_link).to_be_visible()
    assert page.url == overview_url

    station_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Polling station 101")
    assert _figure(page, "code") == "0101101"
    assert _figure(page, "registered-voters") == "1,200"
    assert _figure(page, "address") == "12 Abay Street, Kokshetau"
    assert "53.283300, 69.383300" in _figure(page, "coordinates")
    osm = page.get_by_role("link", name="show on OpenStreetMap")
    assert osm.get_attribute("href") == (
        "https://www.openstreetmap.org/?mlat=53.2833&mlon=69.3833#map=17/53.2833/69.3833"
    )

    # The breadcrumbs lead back up, and each commission has its own page.
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumbs")
    breadcrumbs.get_by_role("link", name="Akmola Region").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Akmola Region")
    assert _figure(page, "stations") == "3"
    assert _figure(page, "registered-voters") == "2,500"
    page.get_by_role("link", name="Burabay District", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Burabay District")
    expect(page.get_by_role("link", name="201", exact=True)).to_be_visible()


def test_live_search_by_station_number(
    page: Page, live_server: Any, small_election: SmallElection
) -> None:
    page.goto(f"{live_server.url}/elections/{small_election.election.slug}/search")
    field = page.get_by_label("Polling station number")
    field.press_sequentially("101")
    results = page.locator("#search-results").get_by_role("link")
    expect(results).to_have_count(2)  # Kokshetau and Almaty both have a station 101
    expect(page).to_have_url(re.compile(r"/search\?number=101$"))
    page.locator("#search-results").get_by_text("Almalinsky District").wait_for()

    field.press("Backspace")  # "10": no station has it
    expect(page.locator("#search-results")).to_contain_text("No polling station has the number")
    field.press_sequentially("2")
    expect(results).to_have_count(1)
    results.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Polling station 102")


def test_language_switcher_translates_the_page(
    page: Page, live_server: Any, small_election: SmallElection
) -> None:
    page.goto(f"{live_server.url}/elections/{small_election.election.slug}/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Русский").click()
    expect(html).to_have_attribute("lang", "ru")
    expect(page).to_have_url(re.compile(r"/ru/elections/test-referendum/$"))
    expect(page.get_by_role("heading", name="Комиссии верхнего уровня")).to_be_visible()
    expect(page.get_by_role("button", name="Русский")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("button", name="Қазақша").click()
    expect(html).to_have_attribute("lang", "kk")
    expect(page).to_have_url(re.compile(r"/kk/elections/test-referendum/$"))
    expect(page.get_by_role("heading", name="Жоғары деңгейдегі комиссиялар")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Top-level commissions")).to_be_visible()


def test_login_and_logout(page: Page, live_server: Any) -> None:
    get_user_model().objects.create_user("observer1", password="a long passphrase 42")
    page.goto(live_server.url)
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("observer1")
    page.get_by_label("Password").fill("a long passphrase 42")
    page.get_by_role("main").get_by_role("button", name="Log in").click()

    expect(page.get_by_text("Signed in as observer1")).to_be_visible()
    logout = page.get_by_role("button", name="Log out")
    expect(logout).to_be_visible()
    logout.click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_wrong_password_is_refused(page: Page, live_server: Any) -> None:
    get_user_model().objects.create_user("observer1", password="a long passphrase 42")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("observer1")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_skip_link_is_first_visible_on_focus_and_moves_to_main(
    page: Page, live_server: Any, small_election: SmallElection
) -> None:
    page.goto(live_server.url)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0  # moved on screen when focused
    outline = skip.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none"

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    # The next stop is the first link inside main, not the header's controls.
    assert page.evaluate("document.activeElement.closest('main') !== null")


# Every input that a person fills in, without a <label> or an aria-label naming it.
_UNLABELLED_INPUTS = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden')
    .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
    .map(el => el.outerHTML)"""


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_pages_have_one_h1_labelled_inputs_and_the_right_lang(
    page: Page, live_server: Any, small_election: SmallElection, language: str
) -> None:
    slug = small_election.election.slug
    prefix = "" if language == "en" else f"/{language}"
    paths = [
        "/",
        "/login/",
        f"/elections/{slug}/",
        f"/elections/{slug}/search?number=101",
        f"/elections/{slug}/commissions/{small_election.akmola.pk}/",
        f"/elections/{slug}/commissions/{small_election.kokshetau.pk}/",
        f"/elections/{slug}/stations/{small_election.station_101.pk}/",
    ]
    for path in paths:
        page.goto(f"{live_server.url}{prefix}{path}")
        assert page.locator("h1").count() == 1, path
        assert page.evaluate(_UNLABELLED_INPUTS) == [], path
        assert page.locator("html").get_attribute("lang") == language, path
        assert page.locator("main").count() == 1, path


def test_station_pages_turn_in_place(
    page: Page, live_server: Any, small_election: SmallElection
) -> None:
    commission = small_election.burabay  # 1 station; 2 pages more make 3 pages
    PollingStation.objects.bulk_create(
        PollingStation(
            election=commission.election,
            commission=commission,
            code=f"extra-{n:03}",
            number=str(500 + n),
            registered_voters=10,
        )
        for n in range(2 * STATIONS_PER_PAGE)
    )
    url = f"{live_server.url}/elections/{commission.election.slug}/commissions/{commission.pk}/"
    page.goto(url)
    expect(page.get_by_text("Page 1 of 3")).to_be_visible()
    page.get_by_role("link", name="Next").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Page 2 of 3")).to_be_visible()
    expect(page.get_by_role("link", name="599", exact=True)).to_be_visible()
    assert page.url == url  # swapped in place by htmx
    # Keyboard users keep their place: focus is back on the link they used.
    expect(page.get_by_role("link", name="Next")).to_be_focused()
    page.get_by_role("link", name="Previous").click()
    expect(page.get_by_text("Page 1 of 3")).to_be_visible()
