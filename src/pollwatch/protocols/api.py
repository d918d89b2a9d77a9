"""The protocol-copy API: observers submit copies and photos; who may see them reads them.

Observers authenticate with their device token (Bearer), staff with their web session (CSRF on
POST, second factor). Parsing and authorisation only: ``submission.submit_copy`` and
``photos.store_photo`` decide and write; ``accreditation.sharing`` decides who sees what.
"""

# No `from __future__ import annotations` here: ninja resolves the File[...] annotation of the
# upload operation when it is registered, and string annotations break that.
import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Router, Status, UploadedFile

from pollwatch.accounts.api_auth import api_auth
from pollwatch.accounts.roles import is_observer
from pollwatch.accreditation.eligibility import station_and_standing
from pollwatch.accreditation.sharing import can_see_exif, visible_copies
from pollwatch.protocols.models import Photo, ProtocolCopy
from pollwatch.protocols.photos import (
    THUMBNAIL_SIZE,
    public_image_bytes,
    store_photo,
    thumbnail_bytes,
)
from pollwatch.protocols.schemas import (
    CopyIn,
    CopyOut,
    DeviceKeyIn,
    DeviceKeyOut,
    PhotoOut,
    ProblemOut,
    RefusalOut,
    SubmissionOut,
)
from pollwatch.protocols.signatures import observer_keys, register_device_key, revoke_device_key
from pollwatch.protocols.submission import (
    CopyInput,
    Problem,
    RefusalKind,
    SubmissionRefused,
    submit_copy,
)
from pollwatch.registry.models import Election, PollingStation

router = Router(tags=["protocol copies"], auth=api_auth)

_STATUS = {RefusalKind.INVALID: 422, RefusalKind.FORBIDDEN: 403, RefusalKind.CONFLICT: 409}
REFUSALS = {403: RefusalOut, 404: RefusalOut, 409: RefusalOut, 422: RefusalOut}


def _refusal(refused: SubmissionRefused) -> Status[Any]:
    return Status(_STATUS[refused.kind], _refusal_out(refused.message, refused.problems))


def _refusal_out(message: str, problems: tuple[Problem, ...] = ()) -> RefusalOut:
    listed = problems or (Problem(None, message),)
    return RefusalOut(detail=message, problems=[ProblemOut.build(problem) for problem in listed])


def _invalid(field: str, message: str) -> Status[Any]:
    return Status(422, _refusal_out(message, (Problem(field, message),)))


@router.post(
    "/protocol-copies",
    response={200: SubmissionOut, 201: SubmissionOut, **REFUSALS},
    summary="Submit a protocol copy",
)
def submit_protocol_copy(request: HttpRequest, body: CopyIn) -> Status[Any]:
    """Store an observer's copy of a station's count protocol and recheck the station.

    201: stored. 200: a retry of a copy already stored (same id, same body) — the stored copy.
    409: the id belongs to another submission. 422: bad input, each problem naming its field
    (`figures.<line>`, `station`, `photos[i]`, `supersedes`, `signature`, `device_key`); nothing
    is stored. 403: the user may not submit for this station now (not an accredited observer
    assigned to it within the assignment's window plus the election's grace period), or the
    device key is not theirs or is revoked. A missing signature where the election requires
    one, or any signature that does not verify, is a 422 naming `signature`. A copy whose
    arithmetic is wrong is stored: `feedback` says which control relations are broken.
    """
    at = timezone.now()
    # The station, its election and the user's standing there in one query; which one is
    # missing is asked only when one is.
    found = station_and_standing(request.user.pk, body.station, body.election, at)
    standing = None
    if found is None:
        election = Election.objects.filter(slug=body.election).first()
        if election is None:
            message = _("There is no election %(slug)s.") % {"slug": body.election}
            return _invalid("election", message)
        station = PollingStation.objects.filter(pk=body.station).first()
        if station is None:
            return _invalid(
                "station", _("There is no polling station with id %(id)d.") % {"id": body.station}
            )
    else:
        station, standing = found
        election = station.election
    submitted = CopyInput(
        copy_id=body.id,
        figures=body.figures,
        all_members_signed=body.all_members_signed,
        certified=body.certified,
        photo_sha256s=body.photos,
        supersedes=body.supersedes,
        device_key=None if body.device_key is None else str(body.device_key),
        signature=body.signature,
    )
    try:
        submission = submit_copy(
            request.user, election, station, submitted, at=at, standing=standing, group_commit=True
        )
    except SubmissionRefused as refused:
        return _refusal(refused)
    photos = sorted(set(body.photos))
    out = SubmissionOut.from_submission(submission, photos)
    return Status(201 if submission.created else 200, out)


def _visible(request: HttpRequest) -> QuerySet[ProtocolCopy]:
    copies = ProtocolCopy.objects.select_related("election", "station", "organisation")
    return visible_copies(request.user, copies)


@router.get(
    "/protocol-copies/{copy_id}",
    response={200: CopyOut, 404: RefusalOut},
    summary="Get a protocol copy",
)
def get_protocol_copy(request: HttpRequest, copy_id: uuid.UUID) -> Status[Any]:
    """One copy, to those its organisation shares it with (404 to everyone else, so that the
    id of another organisation's copy reveals nothing)."""
    copy = _visible(request).prefetch_related("photos").filter(pk=copy_id).first()
    if copy is None:
        return Status(
            404,
            _refusal_out(_("There is no protocol copy %(id)s that you may see.") % {"id": copy_id}),
        )
    return Status(200, CopyOut.build(copy))


@router.post(
    "/photos",
    response={201: PhotoOut, 403: RefusalOut, 422: RefusalOut},
    summary="Upload a photo of a protocol copy",
)
def upload_photo(request: HttpRequest, file: File[UploadedFile | None] = None) -> Status[Any]:
    """A JPEG, PNG or WebP of at most 15 MB, judged from its content; the same bytes give the
    same photo. Name it in a copy's `photos` by the returned `sha256`. Observers only."""
    if not is_observer(request.user):
        return Status(403, _refusal_out(_("Only observers upload photos of protocols.")))
    if file is None:
        # Optional in the signature so that this answer, like every other 422, names the field.
        message = _("No photo was sent; send the image as the multipart field 'file'.")
        return _invalid("file", message)
    try:
        photo = store_photo(user=request.user, data=file)
    except SubmissionRefused as refused:
        return _refusal(refused)
    return Status(201, photo)


_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def _image_responses(description: str, types: tuple[str, ...] = _IMAGE_TYPES) -> dict[str, Any]:
    """OpenAPI's 200 for an endpoint that answers with an image's bytes."""
    content = {kind: {"schema": {"type": "string", "format": "binary"}} for kind in types}
    return {"responses": {200: {"description": description, "content": content}}}


def _photo_seen(request: HttpRequest, sha256: str) -> tuple[Photo, bool] | Status[Any]:
    """The photo if the user may see it — it belongs to a copy they may see, or they uploaded
    it — and whether they may see its EXIF; else the 404 (which tells nothing more)."""
    photo = Photo.objects.filter(sha256=sha256).first()
    copies = list(_visible(request).filter(photos=photo)) if photo is not None else []
    own_upload = photo is not None and photo.uploaded_by_id == request.user.pk
    if photo is None or not (copies or own_upload):
        message = _("There is no photo %(sha)s that you may see.") % {"sha": sha256}
        return Status(404, _refusal_out(message))
    return photo, any(can_see_exif(request.user, copy) for copy in copies)


def _image(data: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.get(
    "/photos/{sha256}",
    response={404: RefusalOut},
    summary="Download a photo",
    openapi_extra=_image_responses(
        "The image. Its EXIF metadata only for those who may see it (analysts, administrators, "
        "the coordinators of the organisation whose copy it belongs to); everyone else gets it "
        "re-encoded without any metadata."
    ),
)
def download_photo(request: HttpRequest, sha256: str) -> HttpResponse | Status[Any]:
    """A photo belonging to a copy the user may see, or one they uploaded themselves."""
    seen = _photo_seen(request, sha256)
    if isinstance(seen, Status):
        return seen
    photo, with_exif = seen
    if with_exif:
        with photo.file.open("rb") as original:
            return _image(original.read(), photo.content_type)
    return _image(public_image_bytes(photo), photo.content_type)


@router.get(
    "/photos/{sha256}/thumbnail",
    response={404: RefusalOut},
    summary="Download a photo's thumbnail",
    openapi_extra=_image_responses(
        f"The photo at most {THUMBNAIL_SIZE[0]} pixels wide and {THUMBNAIL_SIZE[1]} high, "
        "upright, as WebP without any metadata; to whoever may download the photo.",
        ("image/webp",),
    ),
)
def download_thumbnail(request: HttpRequest, sha256: str) -> HttpResponse | Status[Any]:
    """A small copy of a photo, for pages that show many; the same rule as the photo's."""
    seen = _photo_seen(request, sha256)
    if isinstance(seen, Status):
        return seen
    return _image(thumbnail_bytes(seen[0]), "image/webp")


@router.post(
    "/device-keys",
    response={
        200: DeviceKeyOut,
        201: DeviceKeyOut,
        403: RefusalOut,
        409: RefusalOut,
        422: RefusalOut,
    },
    summary="Register a device key",
)
def register_key(request: HttpRequest, body: DeviceKeyIn) -> Status[Any]:
    """Register the observer's device's Ed25519 public key, to sign protocol copies with.

    201: registered. 200: already registered by this observer (the same key back). 422: not
    32 bytes of standard base64, or refused by the Ed25519 rule (non-canonical, small-order or
    not of prime order). 409: the key is another observer's or was revoked. Observers only."""
    try:
        key, created = register_device_key(
            user=request.user, public_key=body.public_key, name=body.name
        )
    except SubmissionRefused as refused:
        return _refusal(refused)
    return Status(201 if created else 200, DeviceKeyOut.build(key))


@router.get("/device-keys", response=list[DeviceKeyOut], summary="List my device keys")
def list_keys(request: HttpRequest) -> list[DeviceKeyOut]:
    """The signed-in observer's device keys, newest first, revoked ones included."""
    return [DeviceKeyOut.build(key) for key in observer_keys(request.user)]


@router.post(
    "/device-keys/{key_id}/revoke",
    response={200: DeviceKeyOut, 404: RefusalOut},
    summary="Revoke a device key",
)
def revoke_key(request: HttpRequest, key_id: int) -> Status[Any]:
    """Revoke one of the observer's own keys (a lost phone); copies it signed keep it."""
    key = revoke_device_key(user=request.user, key_id=key_id)
    if key is None:
        message = _("You have no device key %(id)d.") % {"id": key_id}
        return Status(404, _refusal_out(message))
    return Status(200, DeviceKeyOut.build(key))
