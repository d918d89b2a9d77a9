"""Device signatures on protocol copies: registering device keys, and a copy's detached Ed25519
signature accepted or refused (each refusal storing nothing), over the API and the service."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pollwatch.accounts.device_tokens import issue_device_token
from pollwatch.accreditation.models import DeviceKey
from pollwatch.core.tlog.ed25519 import public_key_bytes
from pollwatch.ledger.integration import integrate_pending
from pollwatch.ledger.models import LogEntry
from pollwatch.protocols import canonical
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.protocols.signatures import SIGNED_PREFIX, signed_message
from pollwatch.protocols.submission import (
    CopyInput,
    PreparedCopy,
    Submission,
    prepare_copy,
    store_copies,
)
from tests.accounts.factories import login_verified
from tests.protocols.conftest import COUNT_DONE, Referendum, figures

KEYS = "/api/v1/device-keys"
COPIES = "/api/v1/protocol-copies"
L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = (1).to_bytes(32, "little")  # small order: a forgery under it verifies anything
P = 2**255 - 19


@pytest.fixture(autouse=True)
def _within_the_window(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setattr("pollwatch.protocols.submission.timezone.now", lambda: COUNT_DONE)
    with override_settings(DATA_DIR=tmp_path, POLLWATCH_LOG_HOST="log.test"):
        yield


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def phone(user: User) -> Client:
    token = issue_device_token(user, "phone").token
    return Client(headers={"Authorization": f"Bearer {token}"})


def register(client: Client, private: Ed25519PrivateKey, name: str = "phone") -> Any:
    payload = {"public_key": b64(public_key_bytes(private)), "name": name}
    return client.post(KEYS, payload, content_type="application/json")


@pytest.fixture
def required(referendum: Referendum) -> Referendum:
    referendum.small.election.signatures_required = True
    referendum.small.election.save(update_fields=["signatures_required"])
    return referendum


@pytest.fixture
def device(referendum: Referendum) -> tuple[Client, Ed25519PrivateKey, int]:
    client = phone(referendum.observer_user)
    private = Ed25519PrivateKey.generate()
    response = register(client, private)
    assert response.status_code == 201, response.content
    return client, private, response.json()["id"]


def copy_payload(referendum: Referendum, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "election": referendum.small.election.slug,
        "station": referendum.station.pk,
        "figures": figures(),
        "all_members_signed": True,
        "certified": True,
    }
    payload.update(changes)
    return payload


def body_of(referendum: Referendum, payload: dict[str, Any]) -> dict[str, Any]:
    return canonical.copy_body(
        election_slug=referendum.small.election.slug,
        station_code=referendum.station.code,
        figures=payload["figures"],
        all_members_signed=payload["all_members_signed"],
        certified=payload["certified"],
        photo_sha256s=payload.get("photos", []),
        supersedes=None,
    )


def sign(referendum: Referendum, payload: dict[str, Any], private: Ed25519PrivateKey) -> str:
    message = signed_message(uuid.UUID(payload["id"]), body_of(referendum, payload))
    return b64(private.sign(message))


def post(client: Client, payload: dict[str, Any]) -> Any:
    return client.post(COPIES, payload, content_type="application/json")


def refused(response: Any, status: int, field: str, words: str) -> None:
    assert response.status_code == status, response.content
    problem = response.json()["problems"][0]
    assert problem["field"] == field
    assert words in problem["message"], problem["message"]
    assert ProtocolCopy.objects.count() == 0
    assert LogEntry.objects.count() == 0


# --- The signed message ------------------------------------------------------------------


def test_the_signed_message_is_the_prefix_the_id_and_the_canonical_body(
    referendum: Referendum,
) -> None:
    payload = copy_payload(referendum, id="0a1b2c3d-0000-4000-8000-00000000abcd")
    message = signed_message(uuid.UUID(payload["id"]), body_of(referendum, payload))
    prefix, copy_id, body = message.split(b"\n", 2)
    assert prefix + b"\n" == SIGNED_PREFIX == b"pollwatch/protocol-copy/v1\n"
    assert copy_id == b"0a1b2c3d-0000-4000-8000-00000000abcd"
    assert body.startswith(b'{"all_members_signed":true,"certified":true,"election":')
    assert json.loads(body)["figures"] == figures()
    assert canonical.body_sha256(body_of(referendum, payload)) == hashlib.sha256(body).hexdigest()


# --- Device keys -------------------------------------------------------------------------


def test_an_observer_registers_a_key_and_a_retry_gets_it_back(referendum: Referendum) -> None:
    client = phone(referendum.observer_user)
    private = Ed25519PrivateKey.generate()
    first = register(client, private, "my phone")
    assert first.status_code == 201
    again = register(client, private, "my phone")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    key = DeviceKey.objects.get()
    assert bytes(key.public_key) == public_key_bytes(private)
    assert key.observer == referendum.observer and key.name == "my phone"
    listed = client.get(KEYS).json()
    assert [k["id"] for k in listed] == [key.pk]
    assert listed[0]["public_key"] == b64(public_key_bytes(private))


@pytest.mark.parametrize(
    ("public_key", "words"),
    [
        ("not base64!", "not valid base64"),
        (b64(bytes(31)), "31 bytes"),
        (b64(bytes(33)), "33 bytes"),
        (b64(IDENTITY), "small-order point"),
        (b64((P + 1).to_bytes(32, "little")), "not canonically encoded"),
        (base64.b64encode(bytes(range(32))).decode().rstrip("="), "not valid base64"),
        # The character before "=" carries two padding bits: setting one spells the same bytes.
        (b64(bytes(32))[:-2] + "B=", "not canonical base64"),
    ],
)
def test_a_bad_key_is_refused_naming_why(
    referendum: Referendum, public_key: str, words: str
) -> None:
    client = phone(referendum.observer_user)
    response = client.post(
        KEYS, {"public_key": public_key, "name": "x"}, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert response.json()["problems"][0]["field"] == "public_key"
    assert words in response.json()["detail"]
    assert not DeviceKey.objects.exists()


def test_a_key_without_a_name_is_refused(referendum: Referendum) -> None:
    response = register(phone(referendum.observer_user), Ed25519PrivateKey.generate(), " ")
    assert response.status_code == 422 and response.json()["problems"][0]["field"] == "name"


def test_another_observers_key_cannot_be_registered_again(referendum: Referendum) -> None:
    private = Ed25519PrivateKey.generate()
    assert register(phone(referendum.other_observer_user), private).status_code == 201
    response = register(phone(referendum.observer_user), private)
    assert response.status_code == 409
    assert DeviceKey.objects.get().observer == referendum.other_observer


@pytest.mark.parametrize("who", ["coordinator", "analyst", "data_clerk", "administrator"])
def test_only_observers_register_keys(referendum: Referendum, who: str) -> None:
    client = Client()
    login_verified(client, getattr(referendum, who))
    response = register(client, Ed25519PrivateKey.generate())
    assert response.status_code == 403
    assert client.get(KEYS).json() == []
    assert not DeviceKey.objects.exists()


def test_anonymous_gets_401(referendum: Referendum) -> None:
    assert register(Client(), Ed25519PrivateKey.generate()).status_code == 401
    assert Client().get(KEYS).status_code == 401


def test_an_observer_revokes_their_own_key_only(
    referendum: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    client, _private, key_id = device
    other = phone(referendum.other_observer_user)
    assert other.post(f"{KEYS}/{key_id}/revoke").status_code == 404
    assert other.get(KEYS).json() == []
    assert DeviceKey.objects.get().revoked_at is None
    response = client.post(f"{KEYS}/{key_id}/revoke")
    assert response.status_code == 200 and response.json()["revoked_at"]
    revoked_at = DeviceKey.objects.get().revoked_at
    assert (
        client.post(f"{KEYS}/{key_id}/revoke").json()["revoked_at"]
        == (response.json()["revoked_at"])
    )
    assert DeviceKey.objects.get().revoked_at == revoked_at


# --- Signed copies -----------------------------------------------------------------------


def test_a_signed_copy_is_accepted_stored_and_logged_with_its_signature(
    required: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    client, private, key_id = device
    payload = copy_payload(required)
    signature = sign(required, payload, private)
    response = post(client, {**payload, "device_key": str(key_id), "signature": signature})
    assert response.status_code == 201, response.content
    assert response.json()["device_key"] == key_id
    as_number = copy_payload(required)  # the key's id as a JSON number works too
    numbered = {**as_number, "device_key": key_id, "signature": sign(required, as_number, private)}
    assert post(client, numbered).status_code == 201
    assert response.json()["signature"] == signature
    copy = ProtocolCopy.objects.get(pk=payload["id"])
    assert copy.device_key_id == key_id and b64(bytes(copy.signature)) == signature
    record = json.loads(bytes(LogEntry.objects.get(source_pk=payload["id"]).canonical))
    assert record["device_signature"] == {
        "public_key": b64(public_key_bytes(private)),
        "signature": signature,
    }
    # Anyone can check it from the log record alone.
    body = {k: record[k] for k in body_of(required, payload)}
    private.public_key().verify(
        base64.b64decode(signature), signed_message(uuid.UUID(record["id"]), body)
    )
    # The retry (same id, body, signature) gets the stored copy back.
    retry = post(client, {**payload, "device_key": str(key_id), "signature": signature})
    assert retry.status_code == 200
    integrate_pending()
    out = StringIO()
    try:
        call_command("verify", "database", "--election", "test-referendum", stdout=out)
    except CommandError as error:  # pragma: no cover - the failure message
        raise AssertionError(out.getvalue()) from error
    assert out.getvalue().startswith("valid:")


def test_the_device_key_may_be_named_by_its_public_key(
    required: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    client, private, _key_id = device
    payload = copy_payload(required)
    raw = b64(public_key_bytes(private))
    response = post(
        client, {**payload, "device_key": raw, "signature": sign(required, payload, private)}
    )
    assert response.status_code == 201, response.content


def test_a_missing_signature_is_refused_where_required(required: Referendum) -> None:
    refused(
        post(phone(required.observer_user), copy_payload(required)),
        422,
        "signature",
        "requires every copy to be signed",
    )


def test_an_unsigned_copy_is_accepted_where_not_required(referendum: Referendum) -> None:
    response = post(phone(referendum.observer_user), copy_payload(referendum))
    assert response.status_code == 201 and response.json()["signature"] is None
    assert "device_signature" not in json.loads(bytes(LogEntry.objects.get().canonical))


@pytest.mark.parametrize("required_here", [True, False])
def test_an_invalid_signature_is_refused_whether_required_or_not(
    referendum: Referendum, device: tuple[Client, Ed25519PrivateKey, int], required_here: bool
) -> None:
    referendum.small.election.signatures_required = required_here
    referendum.small.election.save(update_fields=["signatures_required"])
    client, private, key_id = device
    payload = copy_payload(referendum)
    other_body = copy_payload(referendum, id=payload["id"], figures=figures(yes=501))
    signature = sign(referendum, other_body, private)
    refused(
        post(client, {**payload, "device_key": str(key_id), "signature": signature}),
        422,
        "signature",
        "does not verify",
    )


def test_a_signature_for_another_copy_id_is_refused(
    required: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    client, private, key_id = device
    payload = copy_payload(required)
    signature = sign(required, {**payload, "id": str(uuid.uuid4())}, private)
    refused(
        post(client, {**payload, "device_key": str(key_id), "signature": signature}),
        422,
        "signature",
        "does not verify",
    )


def test_a_signature_by_another_key_is_refused(
    required: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    client, _private, key_id = device
    payload = copy_payload(required)
    signature = sign(required, payload, Ed25519PrivateKey.generate())
    refused(
        post(client, {**payload, "device_key": str(key_id), "signature": signature}),
        422,
        "signature",
        "does not verify",
    )


def test_an_unregistered_or_someone_elses_key_is_forbidden(
    required: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    _client, private, key_id = device
    colleague = phone(required.colleague_user)  # assigned to the station, the key is not theirs
    payload = copy_payload(required)
    signature = sign(required, payload, private)
    refused(
        post(colleague, {**payload, "device_key": str(key_id), "signature": signature}),
        403,
        "device_key",
        "not registered to you",
    )
    stranger = Ed25519PrivateKey.generate()
    refused(
        post(
            colleague,
            {
                **payload,
                "device_key": b64(public_key_bytes(stranger)),
                "signature": sign(required, payload, stranger),
            },
        ),
        403,
        "device_key",
        "not registered to you",
    )


def test_a_revoked_key_is_forbidden(
    required: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    client, private, key_id = device
    DeviceKey.objects.filter(pk=key_id).update(revoked_at=timezone.now())
    payload = copy_payload(required)
    refused(
        post(
            client,
            {**payload, "device_key": str(key_id), "signature": sign(required, payload, private)},
        ),
        403,
        "device_key",
        "was revoked",
    )


@pytest.mark.parametrize(
    ("mangle", "field", "words"),
    [
        (lambda s: "%%%" + s[3:], "signature", "not valid base64"),
        (lambda s: s.rstrip("="), "signature", "not valid base64"),
        (lambda s: b64(base64.b64decode(s)[:63]), "signature", "63 bytes"),
        (lambda s: b64(base64.b64decode(s) + b"\0"), "signature", "65 bytes"),
    ],
)
def test_a_malformed_signature_is_refused(
    required: Referendum,
    device: tuple[Client, Ed25519PrivateKey, int],
    mangle: Any,
    field: str,
    words: str,
) -> None:
    client, private, key_id = device
    payload = copy_payload(required)
    signature = mangle(sign(required, payload, private))
    refused(
        post(client, {**payload, "device_key": str(key_id), "signature": signature}),
        422,
        field,
        words,
    )


def test_half_a_signature_is_refused(
    required: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    client, private, key_id = device
    payload = copy_payload(required)
    refused(post(client, {**payload, "device_key": str(key_id)}), 422, "signature", "missing")
    refused(
        post(client, {**payload, "signature": sign(required, payload, private)}),
        422,
        "device_key",
        "needs the device key",
    )
    refused(
        post(
            client, {**payload, "device_key": "AAAA", "signature": sign(required, payload, private)}
        ),
        422,
        "device_key",
        "3 bytes",
    )


def test_a_non_canonical_s_is_refused(
    required: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    """The shared rule: S >= L is malleated, never accepted (the same signature plus L)."""
    client, private, key_id = device
    payload = copy_payload(required)
    raw = base64.b64decode(sign(required, payload, private))
    s = int.from_bytes(raw[32:], "little")
    malleated = raw[:32] + (s + L).to_bytes(32, "little")
    refused(
        post(client, {**payload, "device_key": str(key_id), "signature": b64(malleated)}),
        422,
        "signature",
        "does not verify",
    )


def test_a_forgery_under_a_small_order_key_never_gets_in(required: Referendum) -> None:
    """The identity key verifies (R = identity, S = 0) for every message in `cryptography`
    alone; the rule refuses the key when it is registered, so no copy can name it."""
    client = phone(required.observer_user)
    response = client.post(
        KEYS, {"public_key": b64(IDENTITY), "name": "x"}, content_type="application/json"
    )
    assert response.status_code == 422
    payload = copy_payload(required)
    refused(
        post(
            client, {**payload, "device_key": b64(IDENTITY), "signature": b64(IDENTITY + bytes(32))}
        ),
        403,
        "device_key",
        "not registered to you",
    )


@pytest.mark.parametrize("key", [str(2**63), "9" * 40])
def test_a_key_id_beyond_any_row_is_not_registered(required: Referendum, key: str) -> None:
    payload = copy_payload(required)
    client = phone(required.observer_user)
    signature = b64(bytes(64))
    response = post(client, {**payload, "device_key": key, "signature": signature})
    refused(response, 403, "device_key", "not registered to you")


def test_storing_a_signed_copy_reads_its_key_no_more(
    required: Referendum, device: tuple[Client, Ed25519PrivateKey, int]
) -> None:
    _, private, key_id = device
    payload = copy_payload(required)
    ready = prepare_copy(
        required.observer_user,
        required.small.election,
        required.station,
        CopyInput(
            copy_id=uuid.UUID(payload["id"]),
            figures=payload["figures"],
            all_members_signed=True,
            certified=True,
            device_key=str(key_id),
            signature=sign(required, payload, private),
        ),
    )
    assert isinstance(ready, PreparedCopy)
    with CaptureQueriesContext(connection) as queries:
        (stored,) = store_copies([ready])
    assert isinstance(stored, Submission) and stored.created
    assert not [q["sql"] for q in queries if DeviceKey._meta.db_table in q["sql"]]
    record = json.loads(bytes(LogEntry.objects.get(source_pk=payload["id"]).canonical))
    assert record["device_signature"]["public_key"] == b64(public_key_bytes(private))
