"""Signed submissions and receipts in a real Chromium: a device key generated in the browser
and registered, a copy signed on the device and accepted where signatures are required, and
the stored copy's page checking its receipt itself — verified after the integrator has run,
failed when the proof or the row was tampered with."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from playwright.sync_api import Page, Route, expect

from pollwatch.accreditation.models import DeviceKey
from pollwatch.core.tlog.ed25519 import load_public_key, verify
from pollwatch.ledger.integration import integrate_pending
from pollwatch.protocols import canonical
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.protocols.receipts import receipt_state
from pollwatch.protocols.signatures import signed_message
from tests.protocols.conftest import Referendum, figures, submit
from tests.protocols.page_fixtures import (
    open_assignments_now,
)
from tests.protocols.test_browser import sign_in, type_figures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULT = "[data-receipt-result]"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """The log's key and tiles in a temporary directory (the live server shares settings)."""
    with override_settings(DATA_DIR=tmp_path, POLLWATCH_LOG_HOST="log.test"):
        yield tmp_path


@pytest.fixture(autouse=True)
def no_console_errors(page: Page) -> Iterator[None]:
    """A Content-Security-Policy violation, a failed request or script shows up here (a
    pending receipt is asked for by its state, which answers 200)."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    yield
    assert errors == []


def form_url(live_server: Any, referendum: Referendum) -> str:
    return f"{live_server.url}/elections/test-referendum/stations/{referendum.station.pk}/protocol/"


def register_key(page: Page, live_server: Any, name: str = "test phone") -> None:
    page.goto(f"{live_server.url}/observe/device-keys/")
    page.get_by_label("Name of this device").fill(name)
    page.get_by_role("button", name="Generate and register a key").click()
    expect(page.get_by_role("status")).to_contain_text(f"Device key {name} registered.")
    expect(page.locator("[data-this-device]")).to_be_visible()


def test_a_copy_signed_on_the_device_is_accepted_and_its_receipt_verified(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    election = referendum.small.election
    election.signatures_required = True
    election.save(update_fields=["signatures_required"])
    open_assignments_now()
    sign_in(page, live_server, referendum.observer_user)
    register_key(page, live_server)
    key = DeviceKey.objects.get()
    assert key.observer == referendum.observer
    load_public_key(bytes(key.public_key))  # the rule's checks pass on the browser's key

    page.goto(form_url(live_server, referendum))
    type_figures(page, figures())
    page.get_by_label("Signed by all commission members").check()
    page.get_by_role("button", name="Submit the protocol copy").click()
    expect(page.get_by_role("status")).to_contain_text("Your protocol copy has been received.")

    copy = ProtocolCopy.objects.select_related("election", "station").get()
    assert copy.device_key_id == key.pk
    body = canonical.copy_body(
        election_slug="test-referendum",
        station_code=copy.station.code,
        figures=copy.figures,
        all_members_signed=True,
        certified=False,
        photo_sha256s=[],
        supersedes=None,
    )
    assert verify(
        load_public_key(bytes(key.public_key)),
        signed_message(copy.pk, body),
        bytes(copy.signature),
    )
    expect(page.locator('[data-copy="signed-by"]')).to_contain_text("test phone")
    expect(page.locator(RESULT)).to_have_attribute("data-state", "pending")

    integrate_pending()  # the integrator, run once; the page asks again every second
    expect(page.locator(RESULT)).to_have_attribute("data-state", "verified", timeout=20_000)
    expect(page.locator(RESULT)).to_contain_text("Verified on this device")
    expect(page.locator('[data-receipt="index"]')).to_have_text("0")
    expect(page.locator('[data-receipt="size"]')).to_have_text("1")


def test_a_required_signature_without_a_key_on_this_device_stops_the_form(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    election = referendum.small.election
    election.signatures_required = True
    election.save(update_fields=["signatures_required"])
    open_assignments_now()
    sign_in(page, live_server, referendum.observer_user)
    page.goto(form_url(live_server, referendum))
    type_figures(page, figures())
    page.get_by_role("button", name="Submit the protocol copy").click()
    expect(page.locator("#signing-status")).to_contain_text(
        "This election requires signed copies, and this device has no registered key."
    )
    assert ProtocolCopy.objects.count() == 0


def two_logged_copies(referendum: Referendum) -> ProtocolCopy:
    """The observer's copy and a colleague's, both in the log (a proof of one hash)."""
    mine = submit(referendum).copy
    submit(referendum, referendum.colleague_user)
    integrate_pending()
    return mine


def test_a_tampered_proof_fails_on_this_device(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    mine = two_logged_copies(referendum)

    def tamper(route: Route) -> None:
        response = route.fetch()
        lines = response.text().split("\n")
        assert lines[1] == "index 0"
        flipped = bytearray(base64.b64decode(lines[2]))
        flipped[0] ^= 1
        lines[2] = base64.b64encode(bytes(flipped)).decode()
        route.fulfill(response=response, body="\n".join(lines))

    page.route("**/log/test-referendum/receipt/*", tamper)
    sign_in(page, live_server, referendum.observer_user)
    page.goto(f"{live_server.url}/elections/test-referendum/protocol-copies/{mine.pk}/")
    expect(page.locator(RESULT)).to_have_attribute("data-state", "failed", timeout=20_000)
    expect(page.locator(RESULT)).to_contain_text(
        "Verification failed: the proof does not lead to the checkpoint's root hash"
    )


def test_a_row_changed_behind_the_logs_back_fails_on_this_device(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    mine = two_logged_copies(referendum)
    ProtocolCopy.objects.filter(pk=mine.pk).update(figures=figures(yes=600, no=105))
    sign_in(page, live_server, referendum.observer_user)
    page.goto(f"{live_server.url}/elections/test-referendum/protocol-copies/{mine.pk}/")
    expect(page.locator(RESULT)).to_have_attribute("data-state", "failed", timeout=20_000)
    expect(page.locator(RESULT)).to_contain_text("does not lead to the checkpoint's root hash")


def test_an_untouched_copy_is_verified_at_once(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    mine = two_logged_copies(referendum)
    sign_in(page, live_server, referendum.observer_user)
    page.goto(f"{live_server.url}/elections/test-referendum/protocol-copies/{mine.pk}/")
    expect(page.locator(RESULT)).to_have_attribute("data-state", "verified", timeout=20_000)
    expect(page.locator('[data-receipt="size"]')).to_have_text("2")
    expect(page.locator('[data-receipt="latest"]')).to_contain_text("The log has only grown since")
    expect(page.locator('[data-receipt="latest"]')).to_contain_text("Entries now: 2")


def test_an_older_receipt_is_checked_against_the_grown_log(
    page: Page, live_server: Any, referendum: Referendum
) -> None:
    """A receipt kept from when the log had one entry: included there, and the latest
    checkpoint (two entries) proven consistent with it (the page's consistency check)."""
    mine = submit(referendum).copy
    integrate_pending()
    entry = receipt_state(mine)
    assert entry is not None
    older = Client().get(f"/log/test-referendum/receipt/{entry.entry_id}").content
    submit(referendum, referendum.colleague_user)
    integrate_pending()
    page.route(
        "**/log/test-referendum/receipt/*",
        lambda route: route.fulfill(status=200, body=older, content_type="text/plain"),
    )
    sign_in(page, live_server, referendum.observer_user)
    page.goto(f"{live_server.url}/elections/test-referendum/protocol-copies/{mine.pk}/")
    expect(page.locator(RESULT)).to_have_attribute("data-state", "verified", timeout=20_000)
    expect(page.locator('[data-receipt="size"]')).to_have_text("1")
    expect(page.locator('[data-receipt="latest"]')).to_contain_text("Entries now: 2")
