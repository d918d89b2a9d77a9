"""Sign-ins in a real Chromium: a coordinator creates an observer's sign-in, and the observer,
in a browser of their own, opens the link, chooses a password and lands on their page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from pollwatch.accounts.models import SigninLink
from tests.accreditation.conftest import People, observer_in
from tests.accreditation.test_browser import no_console_errors as no_console_errors
from tests.accreditation.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_creates_a_sign_in_and_the_observer_uses_it(
    page: Page, browser: Browser, live_server: Any, people: People, tmp_path: Path
) -> None:
    observer_in(people.own, "obs-2")
    sign_in(page, live_server, people.coordinator)
    page.goto(f"{live_server.url}/organisation/observers/")
    page.locator('[data-observer="obs-2"]').get_by_label("No account yet: create a sign-in").check()
    page.get_by_role("button", name="Create sign-ins for the ticked observers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in links")
    expect(page.get_by_test_id("signin-username")).to_have_text("golos-kz-obs-2")
    link = page.get_by_test_id("signin-link").get_attribute("href")
    assert link is not None and link.startswith(f"{live_server.url}/account/activate/pwl_")
    with page.expect_download() as download:
        page.get_by_test_id("signins-csv").click()
    saved = tmp_path / "links.csv"
    download.value.save_as(saved)
    assert link in saved.read_text()

    context = browser.new_context(locale="en-US")  # the observer's own phone: no session
    try:
        observer_page = context.new_page()
        observer_page.goto(link)
        expect(observer_page.get_by_role("heading", level=1)).to_have_text("Choose your password")
        observer_page.get_by_label("New password", exact=True).fill("a long unusual phrase 42")
        observer_page.get_by_label("New password confirmation").fill("a long unusual phrase 42")
        observer_page.get_by_role("button", name="Set password and sign in").click()
        expect(observer_page.get_by_role("heading", level=1)).to_have_text("My polling stations")
        assert observer_page.url == f"{live_server.url}/observe/"

        observer_page.goto(link)  # used: it does not work twice
        expect(observer_page.get_by_role("heading", level=1)).to_have_text(
            "This link does not work"
        )
    finally:
        context.close()
    assert SigninLink.objects.get().used_at is not None
