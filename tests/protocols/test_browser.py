"""The protocol pages in a real Chromium: live control-relation feedback while typing, a copy
with wrong arithmetic accepted with a warning, a correction, and the comparison's marked cells."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from pollwatch.protocols.models import ProtocolCopy
from tests.protocols.conftest import Referendum, figures, submit
from tests.protocols.page_fixtures import (
    open_assignments_now,
    publish_official,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOXES = "ballots_in_boxes == invalid + not_counted + yes + no"


@pytest.fixture(autouse=True)
def no_console_errors(page: Page) -> Iterator[None]:
    """A Content-Security-Policy violation or a failed htmx request shows up here."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    yield
    assert errors == []


def sign_in(page: Page, live_server: Any, user: object) -> None:
    """Give the browser a session of ``user`` (observers need no second factor)."""
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def open_form(page: Page, live_server: Any, referendum: Referendum) -> None:
    open_assignments_now()
    sign_in(page, live_server, referendum.observer_user)
    page.goto(
        f"{live_server.url}/elections/test-referendum/stations/{referendum.station.pk}/protocol/"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Protocol of polling station 101")


def type_figures(page: Page, values: dict[str, object]) -> None:
    for key, value in values.items():
        page.locator(f'input[name="line_{key}"]').fill(str(value))


def relation(page: Page, expression: str) -> Any:
    return page.locator(f'#relation-feedback [data-relation="{expression}"]')


def test_feedback_turns_from_broken_to_holds_while_typing(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    open_form(page, live_server, referendum)
    expect(relation(page, BOXES)).to_have_attribute("data-state", "incomplete")
    type_figures(
        page, {"ballots_in_boxes": 720, "invalid": 10, "not_counted": 5, "yes": 500, "no": 200}
    )
    expect(relation(page, BOXES)).to_have_attribute("data-state", "broken")
    expect(relation(page, BOXES)).to_contain_text("difference 5")
    expect(page.locator("[data-feedback-summary]")).to_contain_text("does not add up")

    page.locator('input[name="line_no"]').fill("205")
    expect(relation(page, BOXES)).to_have_attribute("data-state", "holds")
    expect(relation(page, BOXES)).to_contain_text("Holds")
    assert ProtocolCopy.objects.count() == 0  # feedback stores nothing


def test_wrong_arithmetic_is_submitted_with_a_warning(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    open_form(page, live_server, referendum)
    type_figures(page, figures(yes=510))
    page.get_by_label("Signed by all commission members").check()
    page.get_by_label("Certified with the commission's stamp").check()
    expect(relation(page, BOXES)).to_have_attribute("data-state", "broken")
    page.get_by_role("button", name="Submit the protocol copy").click()

    expect(page.get_by_role("status")).to_contain_text("Your protocol copy has been received.")
    expect(page.get_by_text("1 control relation does not add up.")).to_be_visible()
    copy = ProtocolCopy.objects.get()
    assert copy.figures["yes"] == 510 and copy.all_members_signed and copy.certified
    expect(page.locator('[data-copy="id"]')).to_have_text(str(copy.id))
    expect(page.locator('td[data-line="yes"]')).to_have_text("510")


def test_a_correction_supersedes_the_copy(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    open_form(page, live_server, referendum)
    type_figures(page, figures(yes=510))
    page.get_by_role("button", name="Submit the protocol copy").click()
    expect(page.get_by_role("link", name="Submit a correction")).to_be_visible()
    earlier = ProtocolCopy.objects.get()

    page.get_by_role("link", name="Submit a correction").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Correct your copy")
    yes = page.locator('input[name="line_yes"]')
    expect(yes).to_have_value("510")
    expect(relation(page, BOXES)).to_have_attribute("data-state", "broken")
    yes.fill("500")
    expect(relation(page, BOXES)).to_have_attribute("data-state", "holds")
    page.get_by_role("button", name="Submit the correction").click()

    expect(page.get_by_text("Every control relation holds.")).to_be_visible()
    correction = ProtocolCopy.objects.exclude(pk=earlier.pk).get()
    assert correction.supersedes_id == earlier.pk
    expect(page.get_by_role("link", name=str(earlier.id))).to_be_visible()  # "Corrects …"
    page.get_by_role("link", name=str(earlier.id)).click()
    expect(page.get_by_text("This copy has been corrected by a later one")).to_be_visible()
    expect(page.get_by_role("link", name="Submit a correction")).to_have_count(0)


def test_the_comparison_marks_the_cells_that_differ(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    submit(referendum)
    submit(referendum, referendum.colleague_user)
    publish_official(referendum.station, figures(yes=530, no=175))
    sign_in(page, live_server, referendum.observer_user)  # sees their organisation's copies
    page.goto(f"{live_server.url}/elections/test-referendum/stations/{referendum.station.pk}/")
    page.get_by_role("link", name="Compare this station's sources").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("every source side by side")

    no_cells = page.locator('tr[data-line="no"] td')
    expect(no_cells).to_have_count(4)  # two copies, official, consensus
    official = no_cells.nth(2)
    expect(official).to_contain_text("175")
    expect(official).to_contain_text("differs from observers' consensus")
    for copy_cell in (no_cells.nth(0), no_cells.nth(1)):
        expect(copy_cell).to_contain_text("205")
        expect(copy_cell).to_contain_text("differs from official")
    same = page.locator('tr[data-line="registered"] td').first
    expect(same).not_to_contain_text("differs")
    # The mark is visible, not only a colour: an outline and a ≠ beside the figure.
    outline = official.evaluate("cell => getComputedStyle(cell).outlineStyle")
    assert outline != "none"
    assert same.evaluate("cell => getComputedStyle(cell).outlineStyle") == "none"
    expect(official.locator(".differs-mark")).to_have_text("≠")


# Every input that a person fills in, without a <label> or an aria-label naming it.
_UNLABELLED_INPUTS = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden')
    .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
    .map(el => el.outerHTML)"""


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_pages_have_one_h1_labelled_inputs_and_the_right_lang(
    page: Page, live_server: Any, referendum: Referendum, language: str
) -> None:
    copy = submit(referendum).copy
    publish_official(referendum.station, figures())
    open_assignments_now()
    sign_in(page, live_server, referendum.observer_user)
    prefix = "" if language == "en" else f"/{language}"
    base = f"/elections/test-referendum/stations/{referendum.station.pk}"
    paths = [
        "/observe/",
        "/observe/?number=101",
        f"{base}/protocol/",
        f"{base}/protocol/?corrects={copy.id}",
        f"{base}/comparison/",
        f"/elections/test-referendum/protocol-copies/{copy.id}/",
    ]
    for path in paths:
        page.goto(f"{live_server.url}{prefix}{path}")
        assert page.locator("h1").count() == 1, path
        assert page.evaluate(_UNLABELLED_INPUTS) == [], path
        assert page.locator("html").get_attribute("lang") == language, path
    # The form's labels come from the template in the page's language.
    page.goto(f"{live_server.url}{prefix}{base}/protocol/")
    label = {"en": "Yes", "ru": "Да", "kk": "Иә"}[language]
    expect(page.locator('label[for="id_line_yes"]')).to_have_text(f"9. {label}")
