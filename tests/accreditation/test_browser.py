"""The accreditation pages in a real Chromium: a coordinator finds an observer, requests
accreditation and assigns them; an administrator accredits in place; an analyst filters the
coverage dashboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from pollwatch.accreditation.models import Accreditation, Assignment
from tests.accounts.factories import login_verified
from tests.accreditation.conftest import (
    People,
    assign,
    copy_by,
    observer_in,
)
from tests.web.factories import SmallElection, build_small_election

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small() -> SmallElection:
    # Not bound to `db`: the live server's thread must see committed rows.
    return build_small_election()


@pytest.fixture(autouse=True)
def no_console_errors(page: Page) -> Iterator[None]:
    """A Content-Security-Policy violation or a failed htmx request shows up here."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield
    assert errors == []


def sign_in(page: Page, live_server: Any, user: object) -> None:
    """A session that has passed the second factor, handed to the browser."""
    client = Client()
    login_verified(client, user)  # type: ignore[arg-type]
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_a_coordinator_requests_accreditation_and_assigns(
    page: Page, live_server: Any, small: SmallElection, people: People
) -> None:
    observer_in(people.own, "obs-2")
    observer_in(people.other, "theirs")
    sign_in(page, live_server, people.coordinator)
    page.goto(f"{live_server.url}/organisation/observers/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Observers of Golos Kz")
    expect(page.locator("[data-observer]")).to_have_count(2)  # not the other organisation's

    # Live search: the list narrows as one types, without leaving the page.
    page.get_by_label("Name, code or contact").press_sequentially("obs-2")
    expect(page.locator("[data-observer]")).to_have_count(1)
    page.get_by_role("button", name="Request accreditation for Observer obs-2").click()
    expect(page.locator('[data-observer="obs-2"] [data-status]')).to_have_attribute(
        "data-status", "pending"
    )
    assert Accreditation.objects.get(observer__code="obs-2").status == "pending"

    page.get_by_role("link", name="Observer obs-2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Observer obs-2")
    page.get_by_label("Polling station code").fill("0101102")
    page.get_by_label("From (local time)").fill("2026-03-15T08:00")
    page.get_by_label("Until (local time)").fill("2026-03-15T20:00")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator('#assignments [data-station="0101102"]')).to_be_visible()
    assert Assignment.objects.filter(observer__code="obs-2").count() == 1

    page.get_by_role("button", name="Remove the assignment to station 102").click()
    expect(page.get_by_text("Not assigned to any polling station.")).to_be_visible()
    assert not Assignment.objects.filter(observer__code="obs-2").exists()


def test_an_administrator_accredits_in_place(
    page: Page, live_server: Any, small: SmallElection, people: People
) -> None:
    from django.utils import timezone

    pending = Accreditation.objects.create(
        observer=people.observer, election=small.election, requested_at=timezone.now()
    )
    sign_in(page, live_server, people.administrator)
    page.goto(f"{live_server.url}/accreditations/")
    row = page.locator(f"#accreditation-{pending.pk}")
    queue_url = page.url
    row.get_by_label("Accreditation number").fill("KZ-0042")
    row.get_by_role("button", name="Accredit Observer obs-1").click()
    expect(row).to_have_attribute("data-status", "accredited")
    expect(row).to_contain_text("KZ-0042")
    assert page.url == queue_url  # swapped in place by htmx
    row.get_by_label("Reason for revocation").fill("Left the mission")
    row.get_by_role("button", name="Revoke Observer obs-1").click()
    expect(row).to_have_attribute("data-status", "revoked")
    expect(row).to_contain_text("Revoked because: Left the mission")
    pending.refresh_from_db()
    assert (pending.status, pending.number) == ("revoked", "KZ-0042")
    assert pending.revocation_reason == "Left the mission"


def test_an_analyst_filters_the_coverage_by_region(
    page: Page, live_server: Any, small: SmallElection, people: People
) -> None:
    second = observer_in(people.own, "obs-2")
    assign(people.observer, small.station_101)
    assign(second, small.almaty_101)
    copy_by(people.observer, small.station_101)
    sign_in(page, live_server, people.analyst)
    page.goto(f"{live_server.url}/elections/{small.election.slug}/coverage/")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator('[data-region="total"] [data-figure="missing"]')).to_have_text("1")
    page.get_by_label("Region").select_option(label="Almaty City")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator('#missing [data-station="0201101"]')).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/coverage/\?region={small.almaty.pk}(&|$)"))
    csv_link = page.get_by_role("link", name="Download the missing list (CSV)")
    href = csv_link.get_attribute("href") or ""
    assert href.startswith(
        f"/elections/{small.election.slug}/coverage/missing.csv?region={small.almaty.pk}"
    )
