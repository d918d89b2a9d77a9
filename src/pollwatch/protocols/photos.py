"""Photos of protocols: checked from their content, stored once per content, shown stripped.

An upload is accepted only if Pillow recognises it from its bytes as a JPEG, PNG or WebP (the
file name and the declared type are the client's word, not evidence), decodes it completely (a
truncated upload would otherwise be stored and fail only when someone needs it), it is at most
``MAX_PHOTO_BYTES``, and its pixel count stays under Pillow's decompression-bomb limit (a small
file that inflates to gigabytes must not take the server down; Pillow only warns below twice
its limit, so the warning is an error here).

Photos are stored through Django's default storage under ``photos/ab/cd/<sha256>.<ext>``: the
same bytes are one Photo however often and by whomever they are uploaded. The EXIF metadata is
kept for analysts (camera, time, place: provenance); anything shown to others goes through
``public_image_bytes``, which re-encodes the pixels without any metadata.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from typing import IO, Any, Protocol

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from pollwatch.protocols.models import Photo
from pollwatch.protocols.submission import SubmissionRefused

MAX_PHOTO_BYTES = 15 * 1024 * 1024
# A thumbnail's bounding box: a narrow column on a phone, at twice its pixels for sharpness.
THUMBNAIL_SIZE = (320, 320)
_CHUNK = 1024 * 1024
# Pillow's format name -> (content type, file extension).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# Longest EXIF value kept as text; maker notes and thumbnails are binary blobs of no use here.
_MAX_EXIF_VALUE = 1000


class PhotoRefused(SubmissionRefused):
    """An upload that is not stored, with why; raised with the field ``photos``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="photos")


class Chunked(Protocol):
    def chunks(self, chunk_size: int | None = None) -> Any: ...


def store_photo(
    *, user: AbstractBaseUser | AnonymousUser | None, data: bytes | IO[bytes] | Chunked
) -> Photo:
    """Check and store one photo; the same bytes return the Photo already stored.

    ``data`` is the bytes, a binary file, or a Django upload; at most ``MAX_PHOTO_BYTES`` + 1
    bytes of it are ever read. Raises PhotoRefused, storing nothing, if it is not acceptable.
    """
    content = _read_bounded(data)
    sha256 = hashlib.sha256(content).hexdigest()
    stored = Photo.objects.filter(sha256=sha256).first()
    if stored is not None:
        return stored
    image_format, width, height, exif = _inspect(content)
    content_type, extension = FORMATS[image_format]
    name = f"photos/{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"
    if not default_storage.exists(name):
        # The name is the content's hash, so a file already there (an earlier attempt whose
        # row was not committed) holds these very bytes.
        saved = default_storage.save(name, ContentFile(content))
        if saved != name:
            # Saved at the same moment by another upload of these bytes; keep theirs.
            default_storage.delete(saved)
    uploader = user.pk if user is not None and user.is_authenticated else None
    try:
        with transaction.atomic():
            return Photo.objects.create(
                sha256=sha256,
                content_type=content_type,
                size=len(content),
                width=width,
                height=height,
                exif=exif,
                file=name,
                uploaded_by_id=uploader,
                uploaded_at=timezone.now(),
            )
    except IntegrityError:
        # The same bytes uploaded at the same moment by someone else: theirs is ours.
        return Photo.objects.get(sha256=sha256)


def _read_bounded(data: bytes | IO[bytes] | Chunked) -> bytes:
    too_large = PhotoRefused(
        _("The photo is larger than %(limit)d MB; send a smaller photo.")
        % {"limit": MAX_PHOTO_BYTES // (1024 * 1024)}
    )
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data) > MAX_PHOTO_BYTES:
            raise too_large
        return bytes(data)
    if hasattr(data, "chunks"):  # a Django upload, perhaps spooled to disk
        chunks = data.chunks(_CHUNK)
    else:
        file = data
        chunks = iter(lambda: file.read(_CHUNK), b"")
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk[: MAX_PHOTO_BYTES + 1 - len(buffer)]
        if len(buffer) > MAX_PHOTO_BYTES:
            raise too_large
    return bytes(buffer)


def _inspect(content: bytes) -> tuple[str, int, int, dict[str, Any]]:
    """Format, size and EXIF of an acceptable image, or PhotoRefused saying what is wrong."""
    not_an_image = PhotoRefused(
        _("The file is not a JPEG, PNG or WebP image (judged from its content, not its name).")
    )
    if not content:
        raise PhotoRefused(_("The photo is empty."))
    too_many_pixels = PhotoRefused(
        _("The image has more than %(limit)d pixels; send a photo of ordinary size.")
        % {"limit": Image.MAX_IMAGE_PIXELS}
    )
    try:
        with Image.open(io.BytesIO(content), formats=list(FORMATS)) as image:
            # Pillow only warns up to twice its limit; the limit is the limit. (Checked here
            # rather than by turning the warning into an error: warning filters are global
            # to the process, and requests run in threads.)
            if image.width * image.height > (Image.MAX_IMAGE_PIXELS or 0):
                raise too_many_pixels
            image.verify()  # checksums and structure, without decoding
        with Image.open(io.BytesIO(content), formats=list(FORMATS)) as image:
            image_format = image.format or ""
            width, height = image.size
            exif = exif_as_json(image.getexif())
            image.load()  # every pixel: a truncated file fails here
    except UnidentifiedImageError:
        raise not_an_image from None
    except Image.DecompressionBombError:
        raise too_many_pixels from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # Pillow reports a damaged or truncated file with any of these.
        raise PhotoRefused(
            _("The image is damaged or incomplete (%(reason)s); send it again.") % {"reason": error}
        ) from None
    if image_format not in FORMATS:
        raise not_an_image
    return image_format, width, height, exif


def exif_as_json(exif: Image.Exif) -> dict[str, Any]:
    """EXIF tags by name, with the Exif and GPS sub-directories, as JSON-safe values."""
    result: dict[str, Any] = {}
    for tag, value in exif.items():
        if tag in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):
            continue
        result[ExifTags.TAGS.get(tag, str(tag))] = _json_safe(value)
    sub_directories = [
        (ExifTags.IFD.Exif, ExifTags.TAGS, "Exif"),
        (ExifTags.IFD.GPSInfo, ExifTags.GPSTAGS, "GPS"),
    ]
    for ifd, names, label in sub_directories:
        try:
            entries = exif.get_ifd(ifd)
        except (KeyError, ValueError, TypeError, OSError):
            continue  # a damaged sub-directory: keep the rest
        if entries:
            result[label] = {names.get(tag, str(tag)): _json_safe(v) for tag, v in entries.items()}
    return result


def _json_safe(value: object) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")[:_MAX_EXIF_VALUE]  # PostgreSQL's JSON has no NUL
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, bytes):
        if len(value) > _MAX_EXIF_VALUE:
            return None
        return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple | list):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    try:  # IFDRational and other numbers
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return str(value)[:_MAX_EXIF_VALUE]
    return number if number == number and abs(number) != float("inf") else None


def public_image_bytes(photo: Photo) -> bytes:
    """The photo re-encoded in its format with no metadata at all (EXIF, XMP, comments, ICC).

    The EXIF orientation is applied to the pixels first, so the photo still shows upright.
    Re-encoding a large photo takes a good fraction of a second, so the result is kept beside
    the original (``public/`` + its name) and served from there afterwards.
    """
    return _kept(f"public/{photo.file.name}", lambda: _without_metadata(photo))


def thumbnail_bytes(photo: Photo) -> bytes:
    """A small WebP of the photo for pages that show many (``THUMBNAIL_SIZE`` at most, upright,
    no metadata), kept beside the original (``thumbnails/`` + its name) once made.

    A protocol photo runs to megabytes; a comparison page with a dozen of them on a phone
    should not download them all to show them an inch wide. WebP keeps a PNG's transparency."""
    return _kept(f"thumbnails/{photo.file.name}.webp", lambda: _thumbnail(photo))


def _kept(name: str, make: Callable[[], bytes]) -> bytes:
    """The bytes kept in storage under ``name``; made by ``make`` and kept, the first time."""
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as kept:
            data: bytes = kept.read()
            return data
    data = make()
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:  # made at the same moment by another request: theirs is the same
        default_storage.delete(saved)
    return data


def _thumbnail(photo: Photo) -> bytes:
    with photo.file.open("rb") as stored, Image.open(stored, formats=list(FORMATS)) as image:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail(THUMBNAIL_SIZE)  # keeps the aspect ratio; never enlarges
        small = upright.convert("RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB")
    output = io.BytesIO()
    small.save(output, format="WEBP", quality=80)  # saves no metadata unless given some
    return output.getvalue()


def _without_metadata(photo: Photo) -> bytes:
    with photo.file.open("rb") as stored, Image.open(stored, formats=list(FORMATS)) as image:
        image_format = image.format or "JPEG"
        upright = ImageOps.exif_transpose(image)
        clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
        if upright.mode == "P":
            clean.putpalette(upright.getpalette() or [])
    output = io.BytesIO()
    options: dict[str, Any] = {"quality": 90} if image_format == "JPEG" else {}
    if "transparency" in upright.info and image_format == "PNG":
        options["transparency"] = upright.info["transparency"]
    clean.save(output, format=image_format, **options)
    return output.getvalue()
