"""The forensics and PVT pages in a real Chromium: the report computed in the background and
swapped in by htmx, its figures loaded under the Content-Security-Policy; a sample drawn and
its estimate shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from pollwatch.accounts.roles import Role
from pollwatch.analysis.election_figures import registry_frame
from pollwatch.analysis.models import ForensicsReport, PvtPlan
from pollwatch.core.pvt import ndi_sample_size
from pollwatch.registry.models import Election
from tests.accounts.factories import login_verified, make_user
from tests.analysis.test_pages import quick_klimek, synthetic_election  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def console_errors(page: Page) -> Iterator[list[str]]:
    """A Content-Security-Policy violation or a failed request shows up here."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    yield errors
    assert errors == []


@pytest.fixture
def election(tmp_path: Path, quick_klimek: None) -> Election:  # noqa: F811
    # Not bound to `db`: the live server's thread and the report's thread see committed rows.
    return synthetic_election(tmp_path / "synth")


def sign_in(page: Page, live_server: Any, role: Role) -> None:
    """A session past the second factor, handed to the browser as its cookie."""
    client = Client()
    login_verified(client, make_user(role.value, role))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_the_report_is_computed_in_the_background_and_appears(
    page: Page, live_server: Any, election: Election
) -> None:
    page.goto(f"{live_server.url}/elections/{election.slug}/")
    page.get_by_role("link", name="Election forensics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Election forensics: {election.name}"
    )
    # The first visit starts the computation; htmx polls until the report is there.
    expect(page.locator('[data-state="ready"]')).to_be_visible(timeout=60_000)
    expect(page.locator('[data-state="computing"]')).to_have_count(0)
    figures = page.locator("img.forensics-figure")
    expect(figures).to_have_count(5)
    for k in range(5):
        figure = figures.nth(k)
        figure.scroll_into_view_if_needed()
        expect(figure).to_have_js_property("complete", True)
        assert figure.evaluate("img => img.naturalWidth") > 0
    expect(page.get_by_text("What it cannot show:")).to_have_count(7)
    expect(page.locator('[data-table="integer-percentages"] tbody tr')).to_have_count(3)
    expect(page.get_by_role("heading", name="Observer effect")).to_be_visible()
    assert ForensicsReport.objects.get().status == "ready"

    page.get_by_role("link", name="Observers' consensus").click()
    expect(page.locator('[data-state="ready"]')).to_be_visible(timeout=60_000)
    expect(page.get_by_role("link", name="Observers' consensus")).to_have_attribute(
        "aria-current", "page"
    )
    expect(
        page.get_by_text("every station with an observers' consensus had observers")
    ).to_be_visible()


def test_an_analyst_draws_the_sample_and_sees_the_estimate(
    page: Page, live_server: Any, election: Election, console_errors: list[str]
) -> None:
    sign_in(page, live_server, Role.ANALYST)
    page.goto(f"{live_server.url}/elections/{election.slug}/")
    page.get_by_role("link", name="Parallel vote tabulation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Parallel vote tabulation")

    design = page.locator('[data-form="design"]')
    design.get_by_label("Margin of error, %").fill("3")
    design.get_by_label("Confidence level").select_option("0.99")
    design.get_by_role("button", name="Calculate").click()
    voters = int(registry_frame(election).registered.sum())
    needed = ndi_sample_size(voters, 0.03, 2.58, 0.5)
    expect(page.locator('[data-value="voters-needed"]')).to_have_text(f"{needed:,.0f}")

    draw = page.locator('[data-form="draw"]')
    draw.get_by_label("Sample stations").fill("2")
    draw.get_by_label("Random seed").fill("42")
    draw.get_by_role("button", name="Draw the sample").click()
    expect(page.get_by_role("alert")).to_contain_text("too small for 2 stations in each of")
    assert not PvtPlan.objects.exists()
    # The refused form comes back as 400 Bad Request, which Chromium logs: expected here.
    assert [e for e in console_errors if "400 (Bad Request)" in e] == console_errors != []
    console_errors.clear()

    draw = page.locator('[data-form="draw"]')
    draw.get_by_label("Sample stations").fill("120")
    draw.get_by_label("Random seed").fill("42")
    draw.get_by_role("button", name="Draw the sample").click()
    expect(page.locator('[data-value="seed"]')).to_have_text("42")
    expect(page.locator('[data-value="sample-size"]')).to_have_text("120")
    plan = PvtPlan.objects.get()
    assert plan.seed == 42 and plan.stations.count() == 120
    expect(page.locator('[data-row="option"]')).to_have_count(2)
    expect(page.locator('[data-row="turnout"]')).to_be_visible()
    expect(page.locator('[data-column="official"]')).to_be_visible()
    reported = int(page.locator('[data-value="reported"]').inner_text())
    assert 0 < reported < 120
    expect(page.locator('[data-form="draw"]')).to_have_count(0)  # drawn once, kept
