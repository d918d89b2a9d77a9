"""store_photo, public_image_bytes and thumbnail_bytes: content sniffing, limits, content
addressing, EXIF."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from pollwatch.protocols.models import Photo
from pollwatch.protocols.photos import MAX_PHOTO_BYTES, PhotoRefused, store_photo, thumbnail_bytes
from pollwatch.protocols.photos import public_image_bytes as public

pytestmark = pytest.mark.django_db


def image_bytes(
    image_format: str = "JPEG", size: tuple[int, int] = (64, 48), **save: object
) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))  # left half blue
    output = io.BytesIO()
    image.save(output, format=image_format, **save)
    return output.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Model X"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.DateTime] = "2026:03:15 21:04:05"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (53.0, 17.0, 0.0)}
    )
    return exif


def refused(data: object) -> str:
    """Store, expect a refusal, and check that nothing was stored, row or file."""
    with pytest.raises(PhotoRefused) as caught:
        store_photo(user=None, data=data)  # type: ignore[arg-type]
    assert Photo.objects.count() == 0
    assert caught.value.field == "photos"
    return caught.value.message


@pytest.mark.parametrize(
    ("image_format", "content_type", "extension"),
    [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp")],
)
def test_an_image_is_stored_by_its_content(
    media_root: Path, image_format: str, content_type: str, extension: str
) -> None:
    data = image_bytes(image_format)
    user = User.objects.create_user("uploader")
    # The declared name and type are ignored: the bytes say what it is.
    upload = SimpleUploadedFile("protocol.gif", data, content_type="application/pdf")
    photo = store_photo(user=user, data=upload)
    sha = hashlib.sha256(data).hexdigest()
    assert (photo.sha256, photo.content_type, photo.size) == (sha, content_type, len(data))
    assert (photo.width, photo.height) == (64, 48)
    assert photo.uploaded_by == user
    assert photo.file.name == f"photos/{sha[:2]}/{sha[2:4]}/{sha}.{extension}"
    assert (media_root / photo.file.name).read_bytes() == data


def test_the_same_bytes_are_one_photo(media_root: Path) -> None:
    data = image_bytes()
    first = store_photo(user=None, data=data)
    second = store_photo(user=User.objects.create_user("someone"), data=io.BytesIO(data))
    assert first.pk == second.pk and Photo.objects.count() == 1
    assert len(list(media_root.rglob("*.jpg"))) == 1


def test_a_file_left_by_an_uncommitted_attempt_is_reused(media_root: Path) -> None:
    data = image_bytes()
    photo = store_photo(user=None, data=data)
    Photo.objects.all().delete()  # the row gone, the file still there
    again = store_photo(user=None, data=data)
    assert again.file.name == photo.file.name
    assert len(list(media_root.rglob("*.jpg"))) == 1


def test_exif_is_kept_as_json(media_root: Path) -> None:
    photo = store_photo(user=None, data=image_bytes(exif=camera_exif()))
    photo.refresh_from_db()
    assert photo.exif["Make"] == "PhoneMaker"
    assert photo.exif["DateTime"] == "2026:03:15 21:04:05"
    assert photo.exif["GPS"]["GPSLatitudeRef"] == "N"
    assert photo.exif["GPS"]["GPSLatitude"] == [53.0, 17.0, 0.0]
    json.dumps(photo.exif)  # plain JSON


def test_the_public_image_has_no_metadata_and_stands_upright(media_root: Path) -> None:
    # Orientation 6: the camera was turned; the pixels must be rotated when EXIF goes.
    photo = store_photo(user=None, data=image_bytes(exif=camera_exif(orientation=6)))
    with Image.open(io.BytesIO(public(photo))) as shown:
        assert shown.format == "JPEG"
        assert len(shown.getexif()) == 0
        assert "exif" not in shown.info
        assert shown.size == (48, 64)  # rotated
    with Image.open(photo.file.path) as original:
        assert original.getexif()[ExifTags.Base.Make] == "PhoneMaker"  # the original kept


def test_the_public_image_is_made_once_and_kept(media_root: Path) -> None:
    photo = store_photo(user=None, data=image_bytes(exif=camera_exif()))
    first = public(photo)
    kept = media_root / "public" / photo.file.name
    assert kept.read_bytes() == first
    kept.write_bytes(b"served from the kept copy")
    assert public(photo) == b"served from the kept copy"


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_the_public_image_keeps_its_format_without_exif(
    media_root: Path, image_format: str
) -> None:
    photo = store_photo(user=None, data=image_bytes(image_format, exif=camera_exif()))
    assert photo.exif["Make"] == "PhoneMaker"
    with Image.open(io.BytesIO(public(photo))) as shown:
        assert shown.format == image_format
        assert len(shown.getexif()) == 0
        assert shown.getpixel((1, 1))[:3] == (20, 20, 220) or image_format == "WEBP"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n1 0 obj << >> endobj\n",
        b"just some text, not a photo",
        image_bytes("GIF"),
        image_bytes("BMP"),
        image_bytes("TIFF"),
    ],
    ids=["pdf", "text", "gif", "bmp", "tiff"],
)
def test_what_is_not_a_jpeg_png_or_webp_is_refused(media_root: Path, data: bytes) -> None:
    assert "not a JPEG, PNG or WebP image" in refused(data)
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_an_empty_upload_is_refused(media_root: Path) -> None:
    assert "empty" in refused(b"")


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_image_is_refused(media_root: Path, image_format: str) -> None:
    data = image_bytes(image_format, size=(400, 300))
    assert "damaged or incomplete" in refused(data[: len(data) * 2 // 3])
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_a_corrupted_png_is_refused(media_root: Path) -> None:
    data = bytearray(image_bytes("PNG", size=(100, 100)))
    data[60] ^= 0xFF  # inside the first chunk: its CRC no longer matches
    assert "damaged or incomplete" in refused(bytes(data))


class CountingFile(io.RawIOBase):
    """An endless stream of JPEG-looking bytes that counts what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        buffer[:] = b"\xff" * len(buffer)
        self.read_bytes += len(buffer)
        return len(buffer)


def test_a_photo_over_15_mb_is_refused_without_reading_it_all(media_root: Path) -> None:
    stream = CountingFile()
    assert "larger than 15 MB" in refused(stream)
    assert MAX_PHOTO_BYTES < stream.read_bytes <= MAX_PHOTO_BYTES + 1024 * 1024
    assert "larger than 15 MB" in refused(b"\xff\xd8" + bytes(MAX_PHOTO_BYTES - 1))


def test_a_photo_of_exactly_15_mb_is_read(media_root: Path) -> None:
    # Padding after the JPEG's end marker: a valid image of exactly the limit.
    data = image_bytes()
    padded = data + bytes(MAX_PHOTO_BYTES - len(data))
    assert store_photo(user=None, data=io.BytesIO(padded)).size == MAX_PHOTO_BYTES


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused(media_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A small file whose pixels exceed the limit (lowered here to keep the test light).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    assert "more than 10000 pixels" in refused(image_bytes("PNG", size=(101, 100)))
    # Far over the limit, where Pillow itself raises rather than warns.
    assert "more than 10000 pixels" in refused(image_bytes("PNG", size=(1000, 1000)))
    assert store_photo(user=None, data=image_bytes("PNG", size=(100, 100))).width == 100


def test_a_thumbnail_is_a_small_upright_webp_without_metadata(media_root: Path) -> None:
    # Orientation 6: stored 1000 wide and 600 high, shown 600 wide and 1000 high.
    big = image_bytes(size=(1000, 600), exif=camera_exif(orientation=6))
    photo = store_photo(user=None, data=big)
    with Image.open(io.BytesIO(thumbnail_bytes(photo))) as small:
        assert small.format == "WEBP"
        assert small.size == (192, 320)  # within THUMBNAIL_SIZE, the aspect ratio kept
        assert len(small.getexif()) == 0 and "exif" not in small.info
        # upright: the photo's left half (blue) is now its top half
        assert small.convert("RGB").getpixel((96, 40))[2] > 150
        assert small.convert("RGB").getpixel((96, 280))[0] > 150


def test_a_small_photo_is_not_enlarged(media_root: Path) -> None:
    photo = store_photo(user=None, data=image_bytes(size=(64, 48)))
    with Image.open(io.BytesIO(thumbnail_bytes(photo))) as small:
        assert small.size == (64, 48)


def test_a_thumbnail_keeps_a_png_s_transparency(media_root: Path) -> None:
    image = Image.new("RGBA", (400, 200), (200, 30, 30, 255))
    image.paste((0, 0, 0, 0), (0, 0, 200, 200))  # left half transparent
    output = io.BytesIO()
    image.save(output, format="PNG")
    photo = store_photo(user=None, data=output.getvalue())
    with Image.open(io.BytesIO(thumbnail_bytes(photo))) as small:
        assert small.mode == "RGBA" and small.size == (320, 160)
        assert small.getpixel((40, 80))[3] == 0
        assert small.getpixel((280, 80))[3] == 255


def test_the_thumbnail_is_made_once_and_kept(media_root: Path) -> None:
    photo = store_photo(user=None, data=image_bytes(exif=camera_exif()))
    first = thumbnail_bytes(photo)
    kept = media_root / "thumbnails" / f"{photo.file.name}.webp"
    assert kept.read_bytes() == first
    kept.write_bytes(b"served from the kept copy")
    assert thumbnail_bytes(photo) == b"served from the kept copy"
