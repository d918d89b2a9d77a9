"""The protocol-copy API over HTTP: statuses, errors by field, nothing stored on refusal, and
who may do what, for every role."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import ExifTags, Image

from pollwatch.accounts.device_tokens import issue_device_token
from pollwatch.protocols.models import Photo, ProtocolCopy
from pollwatch.protocols.photos import MAX_PHOTO_BYTES
from tests.accounts.factories import login_verified
from tests.protocols.conftest import COUNT_DONE, Referendum, figures
from tests.web.factories import build_small_election

COPIES = "/api/v1/protocol-copies"
PHOTOS = "/api/v1/photos"
STAFF = ("coordinator", "other_coordinator", "analyst", "data_clerk", "administrator")


@pytest.fixture(autouse=True)
def _within_the_window(monkeypatch: pytest.MonkeyPatch, media_root: Path) -> None:
    """The API stamps submissions with the clock: make it an hour after the count."""
    monkeypatch.setattr("pollwatch.protocols.submission.timezone.now", lambda: COUNT_DONE)


def as_observer(user: User) -> Client:
    """An observer's phone: the device token, no session."""
    token = issue_device_token(user, "phone").token
    return Client(headers={"Authorization": f"Bearer {token}"})


def as_staff(user: User) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def client_for(referendum: Referendum, who: str) -> Client:
    if who == "anonymous":
        return Client()
    user = getattr(referendum, who)
    return as_staff(user) if who in STAFF else as_observer(user)


def body(referendum: Referendum, **changes: Any) -> dict[str, Any]:
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


def post(client: Client, payload: dict[str, Any]) -> Any:
    return client.post(COPIES, payload, content_type="application/json")


def refused(client: Client, payload: dict[str, Any], status: int) -> dict[str, Any]:
    copies, photos = ProtocolCopy.objects.count(), ProtocolCopy.photos.through.objects.count()
    response = post(client, payload)
    assert response.status_code == status, response.content
    assert ProtocolCopy.objects.count() == copies
    assert ProtocolCopy.photos.through.objects.count() == photos
    result: dict[str, Any] = response.json()
    return result


def jpeg(colour: tuple[int, int, int] = (200, 30, 30), *, with_exif: bool = True) -> bytes:
    exif = Image.Exif()
    if with_exif:
        exif[ExifTags.Base.Make] = "PhoneMaker"
    output = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(output, format="JPEG", exif=exif)
    return output.getvalue()


def upload(client: Client, data: bytes, name: str = "photo.jpg") -> Any:
    return client.post(PHOTOS, {"file": SimpleUploadedFile(name, data, "image/jpeg")})


# -- submitting -------------------------------------------------------------------------------


def test_an_observer_submits_a_copy(referendum: Referendum) -> None:
    client = as_observer(referendum.observer_user)
    payload = body(referendum, figures=figures(yes=520))
    response = post(client, payload)
    assert response.status_code == 201, response.content
    data = response.json()
    copy = ProtocolCopy.objects.get()
    assert data["id"] == payload["id"] == str(copy.pk)
    assert data["election"] == "test-referendum"
    assert (data["station"], data["station_code"]) == (referendum.station.pk, "0101101")
    assert data["organisation"] == "golos-kz"
    assert data["figures"] == figures(yes=520)
    assert data["supersedes"] is None and data["superseded_by"] is None
    assert data["body_sha256"] == copy.body_sha256
    # Wrong arithmetic is stored; the feedback says where and by how much.
    broken = [item for item in data["feedback"] if item["state"] == "broken"]
    assert [(b["expression"], b["delta"]) for b in broken] == [
        ("ballots_in_boxes == invalid + not_counted + yes + no", -20)
    ]
    assert broken[0]["description"]["en"].startswith("Every ballot in the boxes")


def test_a_retry_is_200_and_another_body_409(referendum: Referendum) -> None:
    client = as_observer(referendum.observer_user)
    payload = body(referendum)
    first = post(client, payload)
    assert first.status_code == 201
    again = post(client, payload)
    assert again.status_code == 200
    assert again.json()["received_at"] == first.json()["received_at"]
    conflict = refused(client, {**payload, "certified": False}, 409)
    assert conflict["problems"][0]["field"] == "id"
    assert ProtocolCopy.objects.get().certified is True


def test_a_correction_over_the_api(referendum: Referendum) -> None:
    client = as_observer(referendum.observer_user)
    first = post(client, body(referendum, figures=figures(yes=520))).json()
    second = post(client, body(referendum, supersedes=first["id"]))
    assert second.status_code == 201 and second.json()["supersedes"] == first["id"]
    shown = client.get(f"{COPIES}/{first['id']}").json()
    assert shown["superseded_by"] == second.json()["id"]
    assert ProtocolCopy.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"figures": figures(yes=None)}, "figures.yes", "is missing"),
        ({"figures": figures(yes=-3)}, "figures.yes", "cannot be negative"),
        ({"figures": figures(yes=2.5)}, "figures.yes", "expected a whole number"),
        ({"figures": figures(yes="500")}, "figures.yes", "expected a whole number"),
        ({"figures": figures(yes=10**12)}, "figures.yes", "more than 12000"),
        ({"figures": {**figures(), "spoiled": 1}}, "figures.spoiled", "Unknown protocol line"),
        ({"election": "no-such-election"}, "election", "no election no-such-election"),
        ({"station": 999_999}, "station", "no polling station with id 999999"),
        ({"photos": ["b" * 64]}, "photos[0]", "No uploaded photo"),
        ({"photos": ["not-a-sha"]}, "photos[0]", "not a photo reference"),
        ({"supersedes": str(uuid.uuid4())}, "supersedes", "no protocol copy"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    referendum: Referendum, change: dict[str, Any], field: str, words: str
) -> None:
    data = refused(as_observer(referendum.observer_user), body(referendum, **change), 422)
    assert data["problems"][0]["field"] == field
    assert words in data["detail"]


def test_a_station_of_another_election_is_422(referendum: Referendum) -> None:
    elsewhere = build_small_election("another").station_101
    data = refused(
        as_observer(referendum.observer_user), body(referendum, station=elsewhere.pk), 422
    )
    assert data["problems"][0]["field"] == "station"


@pytest.mark.parametrize(
    "change",
    [
        {"figures": None},
        {"certified": "yes"},
        {"all_members_signed": 1},
        {"id": "not-a-uuid"},
        {"station": "one-oh-one"},
    ],
)
def test_a_malformed_body_is_422(referendum: Referendum, change: dict[str, Any]) -> None:
    data = refused(as_observer(referendum.observer_user), body(referendum, **change), 422)
    # Ninja's own validation error: where in the body, and what was expected.
    assert data["detail"][0]["loc"][:2] == ["body", "body"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("observer_user", 201),
        ("other_observer_user", 201),
        ("unassigned_user", 403),
        ("coordinator", 403),
        ("analyst", 403),
        ("data_clerk", 403),
        ("administrator", 403),
        ("anonymous", 401),
    ],
)
def test_who_may_submit(referendum: Referendum, who: str, status: int) -> None:
    client = client_for(referendum, who)
    if status == 201:
        assert post(client, body(referendum)).status_code == 201
    else:
        refused(client, body(referendum), status)


def test_staff_session_without_the_second_factor_is_401(referendum: Referendum) -> None:
    client = Client()
    client.force_login(referendum.analyst)
    refused(client, body(referendum), 401)


def test_a_session_post_without_the_csrf_token_is_403(referendum: Referendum) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(referendum.observer_user)  # an observer on the web, not a device
    refused(client, body(referendum), 403)


# -- reading copies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "own_copy", "other_copy"),
    [
        # The own organisation shares with the mission only; the other shares with nobody.
        ("observer_user", 200, 404),
        ("colleague_user", 200, 404),
        ("unassigned_user", 200, 404),
        ("other_observer_user", 404, 200),
        ("coordinator", 200, 404),
        ("other_coordinator", 404, 200),
        ("analyst", 200, 404),
        ("administrator", 200, 404),
        ("data_clerk", 404, 404),
        ("anonymous", 401, 401),
    ],
)
def test_who_may_read_a_copy(
    referendum: Referendum, who: str, own_copy: int, other_copy: int
) -> None:
    ours = post(as_observer(referendum.observer_user), body(referendum)).json()["id"]
    theirs = post(as_observer(referendum.other_observer_user), body(referendum)).json()["id"]
    client = client_for(referendum, who)
    for copy_id, expected in [(ours, own_copy), (theirs, other_copy)]:
        response = client.get(f"{COPIES}/{copy_id}")
        assert response.status_code == expected, (who, copy_id)
        if expected == 200:
            assert response.json()["id"] == copy_id
            assert response.json()["figures"] == figures()


def test_an_unknown_copy_is_404(referendum: Referendum) -> None:
    response = as_staff(referendum.analyst).get(f"{COPIES}/{uuid.uuid4()}")
    assert response.status_code == 404


# -- photos -----------------------------------------------------------------------------------


def test_an_observer_uploads_a_photo_and_names_it_in_a_copy(referendum: Referendum) -> None:
    client = as_observer(referendum.observer_user)
    response = upload(client, jpeg(), name="scan.pdf")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["content_type"] == "image/jpeg" and (data["width"], data["height"]) == (32, 24)
    assert upload(client, jpeg()).json()["sha256"] == data["sha256"]  # the same photo
    assert Photo.objects.count() == 1
    submitted = post(client, body(referendum, photos=[data["sha256"]]))
    assert submitted.status_code == 201 and submitted.json()["photos"] == [data["sha256"]]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"GIF89a not really", "not a JPEG, PNG or WebP"),
        (jpeg()[:300], "damaged or incomplete"),
        (b"\xff\xd8" + bytes(MAX_PHOTO_BYTES), "larger than 15 MB"),
    ],
    ids=["not-an-image", "truncated", "too-large"],
)
def test_a_bad_photo_is_422_and_not_stored(
    referendum: Referendum, media_root: Path, data: bytes, words: str
) -> None:
    response = upload(as_observer(referendum.observer_user), data)
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "photos"
    assert words in response.json()["detail"]
    assert Photo.objects.count() == 0
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_a_photo_upload_without_a_file_is_422(referendum: Referendum) -> None:
    response = as_observer(referendum.observer_user).post(PHOTOS, {})
    assert response.status_code == 422
    assert response.json()["problems"] == [{"field": "file", "message": response.json()["detail"]}]
    assert "multipart field 'file'" in response.json()["detail"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("observer_user", 201),
        ("unassigned_user", 201),
        ("coordinator", 403),
        ("analyst", 403),
        ("data_clerk", 403),
        ("administrator", 403),
        ("anonymous", 401),
    ],
)
def test_who_may_upload_a_photo(referendum: Referendum, who: str, status: int) -> None:
    assert upload(client_for(referendum, who), jpeg()).status_code == status
    assert Photo.objects.count() == (1 if status == 201 else 0)


def exif_of(content: bytes) -> dict[int, Any]:
    with Image.open(io.BytesIO(content)) as image:
        return dict(image.getexif())


@pytest.mark.parametrize(
    ("who", "status", "with_exif"),
    [
        ("observer_user", 200, False),  # the uploader: the image, but EXIF is not for observers
        ("colleague_user", 200, False),
        ("other_observer_user", 404, None),
        ("coordinator", 200, True),  # their organisation's copy
        ("other_coordinator", 404, None),
        ("analyst", 200, True),
        ("administrator", 200, True),
        ("data_clerk", 404, None),
        ("anonymous", 401, None),
    ],
)
def test_who_may_download_a_photo_and_see_its_exif(
    referendum: Referendum, who: str, status: int, with_exif: bool | None
) -> None:
    observer = as_observer(referendum.observer_user)
    sha = upload(observer, jpeg()).json()["sha256"]
    assert post(observer, body(referendum, photos=[sha])).status_code == 201
    response = client_for(referendum, who).get(f"{PHOTOS}/{sha}")
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "image/jpeg"
        has_make = ExifTags.Base.Make in exif_of(response.content)
        assert has_make is with_exif


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("observer_user", 200),
        ("colleague_user", 200),
        ("other_observer_user", 404),
        ("coordinator", 200),
        ("other_coordinator", 404),
        ("analyst", 200),
        ("administrator", 200),
        ("data_clerk", 404),
        ("anonymous", 401),
    ],
)
def test_who_may_download_a_thumbnail_as_they_may_the_photo(
    referendum: Referendum, who: str, status: int
) -> None:
    observer = as_observer(referendum.observer_user)
    sha = upload(observer, jpeg()).json()["sha256"]
    assert post(observer, body(referendum, photos=[sha])).status_code == 201
    response = client_for(referendum, who).get(f"{PHOTOS}/{sha}/thumbnail")
    assert response.status_code == status
    if status == 200:  # for everyone without metadata: a thumbnail is for looking
        assert response["Content-Type"] == "image/webp"
        assert exif_of(response.content) == {}


def test_an_uploaded_photo_not_yet_in_a_copy_is_seen_by_its_uploader_only(
    referendum: Referendum,
) -> None:
    sha = upload(as_observer(referendum.observer_user), jpeg()).json()["sha256"]
    mine = as_observer(referendum.observer_user).get(f"{PHOTOS}/{sha}")
    assert mine.status_code == 200 and exif_of(mine.content) == {}
    assert as_observer(referendum.colleague_user).get(f"{PHOTOS}/{sha}").status_code == 404
    assert as_staff(referendum.analyst).get(f"{PHOTOS}/{sha}").status_code == 404
    assert as_staff(referendum.analyst).get(f"{PHOTOS}/{'c' * 64}").status_code == 404
    thumbnail = f"{PHOTOS}/{sha}/thumbnail"
    assert as_observer(referendum.colleague_user).get(thumbnail).status_code == 404
    assert as_observer(referendum.observer_user).get(thumbnail).status_code == 200


# -- documentation ----------------------------------------------------------------------------


def test_the_endpoints_are_in_the_openapi_document(referendum: Referendum) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    paths = document["paths"]
    post_copy = paths["/api/v1/protocol-copies"]["post"]
    assert set(post_copy["responses"]) >= {"200", "201", "403", "409", "422"}
    assert "multipart/form-data" in paths["/api/v1/photos"]["post"]["requestBody"]["content"]
    assert "image/webp" in paths["/api/v1/photos/{sha256}"]["get"]["responses"]["200"]["content"]
    assert "figures" in document["components"]["schemas"]["CopyIn"]["properties"]
