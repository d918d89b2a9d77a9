"""The findings queue and a finding's page in a real Chromium: live filters, paging, dismissal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Page, expect

from pollwatch.accounts.roles import Role, grant_role
from pollwatch.findings.models import Finding, FindingDecision, FindingStatus
from pollwatch.findings.selectors import QUEUE_PAGE_SIZE
from tests.accounts.factories import login_verified
from tests.findings.test_queue_selectors import make_finding
from tests.web.factories import SmallElection, build_small_election

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small() -> SmallElection:
    # Not bound to `db`: the live server's thread must see committed rows.
    return build_small_election()


def _sign_in(page: Page, live_server: Any, role: Role) -> None:
    """A session that has passed the second factor, handed to the browser as its cookie."""
    user = User.objects.create_user(role.value)
    grant_role(user, role)
    client = Client()
    login_verified(client, user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def _rows(page: Page) -> Any:
    return page.locator("#queue-results tbody tr")


def test_filters_update_the_queue_live(page: Page, live_server: Any, small: SmallElection) -> None:
    election = small.election
    make_finding(election, station=small.station_101, magnitude=30)
    make_finding(election, station=small.station_102, magnitude=20,
                 kind=Finding.Kind.COPIES_DISAGREE)  # fmt: skip
    almaty = make_finding(election, station=small.almaty_101, magnitude=10)
    make_finding(election, station=small.almaty_101, magnitude=40, present=False)
    _sign_in(page, live_server, Role.ANALYST)

    page.goto(f"{live_server.url}/elections/{election.slug}/")
    page.get_by_role("link", name="Findings queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Findings")
    expect(_rows(page)).to_have_count(3)
    queue_url = page.url
    # Largest difference first.
    expect(_rows(page).first.locator('[data-value="delta"]')).to_have_text("30")

    page.get_by_label("Region").select_option(label="Almaty City")
    expect(_rows(page)).to_have_count(1)
    expect(page).to_have_url(re.compile(rf"/findings/\?.*\bregion={small.almaty.pk}\b"))
    expect(_rows(page).first).to_have_attribute("data-finding", str(almaty.pk))
    page.get_by_label("Include resolved findings").check()
    expect(_rows(page)).to_have_count(2)
    expect(page.locator("#queue-results")).to_contain_text("(resolved)")

    page.get_by_label("Region").select_option(label="All regions")
    page.get_by_label("Include resolved findings").uncheck()
    page.get_by_label("Kind").select_option(label="Observers' copies disagree")
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Polling station 102")
    page.get_by_label("Status").select_option(label="Dismissed")
    expect(page.locator("#queue-results")).to_contain_text("No findings match these filters.")

    # The filtered list is a page of its own: back in history restores the earlier filters.
    page.go_back()
    expect(page.get_by_label("Status")).to_have_value("")
    expect(_rows(page)).to_have_count(1)
    assert page.url != queue_url


def test_the_queue_pages_in_place(page: Page, live_server: Any, small: SmallElection) -> None:
    for n in range(QUEUE_PAGE_SIZE + 2):
        make_finding(small.election, station=small.station_101, magnitude=n)
    _sign_in(page, live_server, Role.ADMINISTRATOR)
    page.goto(f"{live_server.url}/elections/{small.election.slug}/findings/")
    expect(_rows(page)).to_have_count(QUEUE_PAGE_SIZE)
    page.get_by_role("link", name="Next findings").click()
    expect(_rows(page)).to_have_count(2)
    expect(_rows(page).last.locator('[data-value="delta"]')).to_have_text("0")
    expect(page).to_have_url(re.compile(r"after=2-\d+$"))
    page.get_by_role("link", name="Largest differences").click()
    expect(_rows(page)).to_have_count(QUEUE_PAGE_SIZE)


def test_dismissing_with_a_reason_shows_in_the_history(
    page: Page, live_server: Any, small: SmallElection
) -> None:
    finding = make_finding(small.election, station=small.station_101, magnitude=12)
    _sign_in(page, live_server, Role.ANALYST)
    page.goto(f"{live_server.url}/elections/{small.election.slug}/findings/")
    page.get_by_role("link", name="Copy differs from official").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Copy differs from official")
    expect(page.get_by_text("Nobody has decided on this finding yet.")).to_be_visible()

    # Without a reason the dismissal is refused, and nothing changes.
    page.get_by_label("New status").select_option(label="Dismissed")
    page.get_by_role("button", name="Change the status").click()
    expect(page.get_by_role("alert")).to_contain_text("needs a reason")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN

    page.get_by_label("New status").select_option(label="Dismissed")
    page.get_by_label("Reason").fill("The observer mistyped line 9; the photo shows 112")
    page.get_by_role("button", name="Change the status").click()
    history = page.get_by_role("table", name="Every change of this finding's status")
    expect(history).to_contain_text("Open → Dismissed")
    expect(history).to_contain_text("The observer mistyped line 9; the photo shows 112")
    expect(history).to_contain_text("analyst")
    expect(page.locator('dd[data-value="status"]')).to_have_text("Dismissed")
    assert FindingDecision.objects.get(finding=finding).to_status == FindingStatus.DISMISSED

    # Dismissed findings leave the open queue and appear under their status.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Findings").click()
    page.get_by_label("Status").select_option(label="Open")
    expect(page.locator("#queue-results")).to_contain_text("No findings match these filters.")
    page.get_by_label("Status").select_option(label="Dismissed")
    expect(_rows(page)).to_have_count(1)


# Every input that a person fills in, without a <label> or an aria-label naming it.
_UNLABELLED_INPUTS = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden')
    .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
    .map(el => el.outerHTML)"""


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_findings_pages_have_one_h1_and_labelled_inputs(
    page: Page, live_server: Any, small: SmallElection, language: str
) -> None:
    finding = make_finding(small.election, station=small.station_101)
    _sign_in(page, live_server, Role.ANALYST)
    prefix = "" if language == "en" else f"/{language}"
    base = f"{live_server.url}{prefix}/elections/{small.election.slug}/findings/"
    for url in [base, f"{base}?status=open&resolved=on", f"{base}{finding.pk}/"]:
        page.goto(url)
        assert page.locator("h1").count() == 1, url
        assert page.evaluate(_UNLABELLED_INPUTS) == [], url
        assert page.locator("html").get_attribute("lang") == language, url
