"""In Chromium: a coordinator's first login enrols an authenticator app, the next one asks for
its code; an observer creates a device token and sees it once. No page breaks the CSP."""

from __future__ import annotations

import time
from base64 import b32decode
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import ConsoleMessage, Page, expect

from pollwatch.accounts.models import DeviceToken
from pollwatch.accounts.roles import Role
from tests.accounts.factories import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def csp_violations(page: Page) -> Iterator[list[str]]:
    """Console errors from the Content-Security-Policy; the test asserts there are none."""
    seen: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            seen.append(message.text)

    page.on("console", listen)
    yield seen


def _code(secret: str, steps_ahead: int = 0) -> str:
    key = b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()


def test_staff_enrol_then_verify_a_code_at_the_next_login(
    page: Page, live_server: Any, csp_violations: list[str]
) -> None:
    make_user("carla", Role.COORDINATOR)
    _log_in(page, live_server.url, "carla")

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    # Nothing else is reachable before the second factor.
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")

    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    time.sleep(1.1)  # a wrong code slows the next try by a second
    page.get_by_label("Code from your authenticator app").fill(_code(secret))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_text("Signed in as carla")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).not_to_have_text(
        "Set up two-factor authentication"
    )

    page.get_by_role("button", name="Log out").click()
    _log_in(page, live_server.url, "carla")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    # The code used to enrol is spent; the authenticator's next one works.
    page.get_by_label("Code from your authenticator app").fill(_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("Signed in as carla")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Two-factor authentication")
    assert csp_violations == []


def test_observer_creates_a_device_token_and_sees_it_once(
    page: Page, live_server: Any, csp_violations: list[str]
) -> None:
    make_user("olga", Role.OBSERVER)
    _log_in(page, live_server.url, "olga")
    expect(page.get_by_text("Signed in as olga")).to_be_visible()  # no second factor

    page.goto(f"{live_server.url}/account/devices/")
    page.get_by_label("Device name").fill("Olga's phone")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token").inner_text().strip()
    assert token.startswith(DeviceToken.objects.get().prefix)

    page.goto(f"{live_server.url}/account/devices/")  # the list again: the token is not shown
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    page.get_by_role("button", name="Revoke the token of Olga's phone").click()
    expect(page.get_by_text("Revoked")).to_be_visible()
    assert DeviceToken.objects.get().revoked_at is not None
    assert csp_violations == []
