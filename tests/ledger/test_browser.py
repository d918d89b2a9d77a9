"""The public log page in a real Chromium: the checkpoint, the key, the witnesses, the way to
verify, and the signed checkpoint behind its link."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from pollwatch.core.tlog.cosignature import CosignatureSigner, cosign
from pollwatch.ledger.appending import append_to_log
from pollwatch.ledger.integration import integrate_pending
from pollwatch.ledger.keys import log_verifier
from pollwatch.ledger.models import LogState
from tests.web.factories import SmallElection, build_small_election

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small() -> SmallElection:
    # The live server's thread must see committed rows.
    return build_small_election()


def test_the_log_page_shows_the_checkpoint_and_witnesses(
    page: Page, live_server: Any, small: SmallElection, settings: Any
) -> None:
    witness = CosignatureSigner("witness.example.org", bytes([4]) * 32)
    vkey = witness.verifier().key_string()
    settings.POLLWATCH_LOG_WITNESSES = [f"http://127.0.0.1:9/add-checkpoint {vkey}"]
    for n in range(42):
        append_to_log(small.election, "note", {"n": n})
    integrate_pending()
    state = LogState.objects.get()
    # The witness's cosignature, as the log publishes it once the witness answered.
    LogState.objects.update(checkpoint=cosign(state.checkpoint.encode(), witness).decode())

    page.goto(f"{live_server.url}/elections/{small.election.slug}/log/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Transparency log")
    expect(page.locator("#verifier-key")).to_have_text(log_verifier(state.origin).key_string())
    expect(page.get_by_text("Cosigned this checkpoint at")).to_be_visible()
    expect(page.get_by_text(vkey)).to_be_visible()
    expect(
        page.get_by_text(f"pollwatch verify database --election {small.election.slug}")
    ).to_be_visible()
    assert page.locator("h1").count() == 1

    page.get_by_role("link", name="Signed checkpoint (text)").click()
    assert page.locator("body").inner_text().startswith(f"{state.origin}\n42\n")


def test_the_log_page_in_russian_before_any_checkpoint(
    page: Page, live_server: Any, small: SmallElection
) -> None:
    page.goto(f"{live_server.url}/ru/elections/{small.election.slug}/log/")
    assert page.locator("h1").count() == 1
    assert page.locator("html").get_attribute("lang") == "ru"
