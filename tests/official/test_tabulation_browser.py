"""The tabulation page in Chromium: the answer, both outcomes, drill-down and back."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.official.elections import StoredElection, store_election

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _published_with_a_stuffed_region() -> StoredElection:
    stored = store_election(stations=12)
    official = {}
    for position, station in enumerate(stored.stations):
        figures = stored.figures(position)
        if station.commission.parent_id == stored.regions[0].pk:
            figures = stored.figures(position, yes=figures["yes"] + 3, no=figures["no"] - 3)
            stored.add_copy(position, 0)
        official[position] = figures
    stored.publish(official)
    return stored


def test_tabulation_page_official_beside_observed(page: Page, live_server: Any) -> None:
    stored = _published_with_a_stuffed_region()
    slug = stored.election.slug
    page.goto(f"{live_server.url}/elections/{slug}/tabulation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tabulation: Synthetic referendum")
    expect(page.get_by_role("heading", name="Would the outcome change?")).to_be_visible()
    answer = page.locator("[data-answer]")
    expect(answer).to_contain_text("with the observers' figures in place of the official ones")
    expect(page.locator('[data-side="official"]')).to_contain_text("Outcome from the official")
    expect(page.locator('[data-side="observed"]')).to_contain_text("Outcome with the observers'")

    table = page.locator("[data-tabulation]")
    first, second = stored.regions
    expect(table.locator(f'[data-row="{first.pk}"] [data-differs]')).to_have_count(2)
    expect(table.locator(f'[data-row="{second.pk}"] [data-differs]')).to_have_count(0)

    table.get_by_role("link", name=first.name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Tabulation: {first.name}")
    under = [t for t in stored.territorials if t.parent_id == first.pk]
    for territorial in under:
        expect(page.get_by_role("link", name=territorial.name, exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role(
        "link", name="Tabulation"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tabulation: Synthetic referendum")
