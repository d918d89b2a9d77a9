"""Shared fixtures: reference data, a real Chromium for browser tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# ../shared/data beside the project root, unless POLLWATCH_SHARED_DATA says where it is.
SHARED_DATA = Path(
    os.environ.get("POLLWATCH_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
CHROMIUM = Path(os.environ.get("POLLWATCH_CHROMIUM", "/usr/bin/chromium"))

# Playwright's sync API runs an event loop; Django's async-safety check would refuse the ORM
# calls the browser tests make in the same thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _require_in_ci(reason: str) -> None:
    """Skip with `reason`, except in CI, where every test must run."""
    if os.environ.get("POLLWATCH_CI") == "1":
        pytest.fail(f"{reason} (mandatory in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the project: real election data and conformance vectors."""
    if not SHARED_DATA.is_dir():
        _require_in_ci(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        _require_in_ci(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object, live_server: object) -> Iterator[object]:
    """A fresh browser page; `live_server.url` is where the app is served."""
    context = browser.new_context(locale="en-US")  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest, settings: Any) -> None:
    """MD5 instead of Argon2, except in tests marked ``real_password_hashing``.

    Argon2 is slow by design (0.3 s a hash here); tests make accounts by the dozen, and only
    the tests of hashing itself need the real thing.
    """
    if request.node.get_closest_marker("real_password_hashing"):
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language.

    A test-client request to a /ru/ or /kk/ page activates that language in the test's thread
    and Django leaves it active, so later tests would read commands' output in Russian.
    """
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()
