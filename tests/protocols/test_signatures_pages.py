"""The device keys page without a browser: registering a key the browser made, the error when
none was made (no Ed25519 or no JavaScript), revoking one's own key only, and who gets in; the
form's signature fields reaching the submission service."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import override_settings
from django.urls import reverse

from pollwatch.accreditation.models import DeviceKey
from pollwatch.core.tlog.ed25519 import public_key_bytes
from pollwatch.protocols import canonical
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.protocols.signatures import register_device_key, signed_message
from tests.protocols.conftest import Referendum, figures
from tests.protocols.page_fixtures import (
    form_data,
    open_assignments_now,
    signed_in,
)

PAGE = "/observe/device-keys/"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path) -> Iterator[None]:
    with override_settings(DATA_DIR=tmp_path, POLLWATCH_LOG_HOST="log.test"):
        yield


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_a_key_made_in_the_browser_is_registered_and_listed(referendum: Referendum) -> None:
    client = signed_in(referendum.observer_user)
    key = b64(public_key_bytes(Ed25519PrivateKey.generate()))
    response = client.post(PAGE, {"public_key": key, "name": "my phone"})
    assert response.status_code == 303 and response["Location"] == PAGE
    page = client.get(PAGE)
    assert "Device key my phone registered." in page.content.decode()
    assert f'data-public-key="{key}"' in page.content.decode()
    assert DeviceKey.objects.get().observer == referendum.observer


def test_no_key_made_says_why_and_stores_nothing(referendum: Referendum) -> None:
    response = signed_in(referendum.observer_user).post(PAGE, {"public_key": "", "name": "x"})
    assert response.status_code == 400
    assert "this browser cannot make Ed25519 keys, or JavaScript is off" in (
        response.content.decode()
    )
    assert not DeviceKey.objects.exists()


def test_a_refused_key_says_why(referendum: Referendum) -> None:
    identity = b64((1).to_bytes(32, "little"))
    response = signed_in(referendum.observer_user).post(PAGE, {"public_key": identity, "name": "x"})
    assert response.status_code == 400
    assert "small-order point" in response.content.decode()
    assert not DeviceKey.objects.exists()


def test_an_observer_revokes_only_their_own_key(referendum: Referendum) -> None:
    key, _ = register_device_key(
        user=referendum.observer_user,
        public_key=b64(public_key_bytes(Ed25519PrivateKey.generate())),
        name="old phone",
    )
    url = reverse("device_key_revoke", args=[key.pk])
    assert signed_in(referendum.other_observer_user).post(url).status_code == 404
    assert signed_in(referendum.coordinator).post(url).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    client = signed_in(referendum.observer_user)
    assert client.post(url).status_code == 303
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "data-revoked" in client.get(PAGE).content.decode()


@pytest.mark.parametrize("who", ["coordinator", "analyst", "data_clerk", "administrator"])
def test_staff_have_no_device_keys_page(referendum: Referendum, who: str) -> None:
    assert signed_in(getattr(referendum, who)).get(PAGE).status_code == 403


def test_the_form_passes_the_signature_to_the_submission(referendum: Referendum) -> None:
    election = referendum.small.election
    election.signatures_required = True
    election.save(update_fields=["signatures_required"])
    open_assignments_now()
    private = Ed25519PrivateKey.generate()
    key, _ = register_device_key(
        user=referendum.observer_user, public_key=b64(public_key_bytes(private)), name="phone"
    )
    client = signed_in(referendum.observer_user)
    url = reverse("protocol_form", args=[election.slug, referendum.station.pk])
    copy_id = uuid.uuid4()
    data = {**form_data(**figures()), "client_id": str(copy_id)}

    unsigned = client.post(url, data)
    assert unsigned.status_code == 200
    assert "requires every copy to be signed" in unsigned.content.decode()
    assert not ProtocolCopy.objects.exists()

    body = canonical.copy_body(
        election_slug=election.slug,
        station_code=referendum.station.code,
        figures=figures(),  # type: ignore[arg-type]
        all_members_signed=True,
        certified=True,
        photo_sha256s=[],
        supersedes=None,
    )
    signature = b64(private.sign(signed_message(copy_id, body)))
    signed = client.post(
        url, {**data, "device_key": b64(public_key_bytes(private)), "signature": signature}
    )
    assert signed.status_code == 303, signed.content.decode()
    assert ProtocolCopy.objects.get().device_key == key
