"""Device signatures on protocol copies: observers' Ed25519 device keys, and the check of a
copy's detached signature before it is stored (docs/signatures.md).

The signed message is

    b"pollwatch/protocol-copy/v1\\n" + <copy id, lowercase UUID> + b"\\n" + <canonical body>

where the canonical body is the RFC 8785 JSON whose SHA-256 recognises a retry
(``canonical.copy_body``). The prefix keeps a device signature from ever being valid for any
other kind of message; the id binds it to one copy, so it cannot be replayed as a second copy.

Keys and signatures follow the one Ed25519 rule of ``pollwatch.core.tlog.ed25519``: a key is
checked (canonical, prime order) when it is registered and again when first loaded by this
process; a signature must be 64 bytes with S < L and verify cofactorless.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch import rows
from pollwatch.accreditation.models import DeviceKey, Observer
from pollwatch.core.tlog.ed25519 import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    load_public_key,
    verify,
)
from pollwatch.core.tlog.errors import KeyFormatError
from pollwatch.core.tlog.note import b64decode_strict, b64encode
from pollwatch.protocols import canonical
from pollwatch.protocols.refusals import RefusalKind, SubmissionRefused
from pollwatch.registry.models import Election

SIGNED_PREFIX = b"pollwatch/protocol-copy/v1\n"
MAX_NAME_LENGTH = 100

User = AbstractBaseUser | AnonymousUser


def signed_message(copy_id: UUID, body: Mapping[str, Any]) -> bytes:
    """The exact bytes a device signs for the copy ``copy_id`` with this body."""
    return SIGNED_PREFIX + str(copy_id).encode("ascii") + b"\n" + canonical.canonical_bytes(body)


_BIGINT_LIMIT = 2**63  # a key id beyond the column's range names no key


@functools.lru_cache(maxsize=4096)
def _registered_key(raw: bytes) -> Ed25519PublicKey:
    """A registered key, ready to verify with. It passed the rule's key checks
    (``load_public_key``) when ``register_device_key`` stored it, and a registered key never
    changes, so they are not repeated: in pure Python they cost 2.5 ms of CPU per key, paid by
    every observer's first submission in every worker process."""
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class _Base64Field:
    """A request field carrying base64 bytes, and the whole sentences that refuse it."""

    field: str
    size: int
    not_base64: Promise
    not_canonical: Promise
    wrong_size: Promise  # %(length)d and %(size)d


_PUBLIC_KEY = _Base64Field(
    "public_key",
    PUBLIC_KEY_SIZE,
    gettext_lazy(
        "The public key is not valid base64; expected standard padded base64 (RFC 4648 §4)."
    ),
    gettext_lazy(
        "The public key is not canonical base64; expected standard padded base64 (RFC 4648 §4)."
    ),
    gettext_lazy("The public key is %(length)d bytes; an Ed25519 public key is %(size)d bytes."),
)
_DEVICE_KEY = _Base64Field(
    "device_key",
    PUBLIC_KEY_SIZE,
    gettext_lazy(
        "The device key is not valid base64; expected standard padded base64 (RFC 4648 §4)."
    ),
    gettext_lazy(
        "The device key is not canonical base64; expected standard padded base64 (RFC 4648 §4)."
    ),
    gettext_lazy("The device key is %(length)d bytes; an Ed25519 public key is %(size)d bytes."),
)
_SIGNATURE = _Base64Field(
    "signature",
    SIGNATURE_SIZE,
    gettext_lazy(
        "The signature is not valid base64; expected standard padded base64 (RFC 4648 §4)."
    ),
    gettext_lazy(
        "The signature is not canonical base64; expected standard padded base64 (RFC 4648 §4)."
    ),
    gettext_lazy("The signature is %(length)d bytes; an Ed25519 signature is %(size)d bytes."),
)


def _decode(text: str, spec: _Base64Field) -> bytes:
    class Malformed(ValueError):
        pass

    try:
        raw = b64decode_strict(text, spec.field, Malformed)
    except Malformed:
        # The strict rule refused it; say whether it was base64 at all, or only spelt otherwise.
        try:
            base64.b64decode(text.encode("ascii"), validate=True)
            message = spec.not_canonical
        except (binascii.Error, UnicodeEncodeError, ValueError):
            message = spec.not_base64
        raise SubmissionRefused(str(message), field=spec.field) from None
    if len(raw) != spec.size:
        raise SubmissionRefused(
            str(spec.wrong_size) % {"length": len(raw), "size": spec.size}, field=spec.field
        )
    return raw


# --- Device keys ----------------------------------------------------------------------------


def _observer(user: User) -> Observer:
    observer = Observer.objects.filter(user_id=user.pk).first() if user.is_authenticated else None
    if observer is None:
        raise SubmissionRefused(
            _("Only observers register device keys."), kind=RefusalKind.FORBIDDEN
        )
    return observer


def observer_keys(user: User) -> QuerySet[DeviceKey]:
    """The user's own device keys, newest first (none for anyone but an observer)."""
    if not user.is_authenticated:
        return DeviceKey.objects.none()
    return DeviceKey.objects.filter(observer__user_id=user.pk).order_by("-created_at", "-pk")


def register_device_key(
    *, user: User, public_key: str, name: str, at: datetime.datetime | None = None
) -> tuple[DeviceKey, bool]:
    """Register an observer's device public key (standard base64 of the 32 raw bytes).

    Returns (key, created); registering one's own active key again returns it unchanged, so a
    retry is safe. A key that is malformed, refused by the Ed25519 rule, someone else's or
    revoked is refused (SubmissionRefused, nothing written)."""
    observer = _observer(user)
    label = name.strip()
    if not label or len(label) > MAX_NAME_LENGTH:
        raise SubmissionRefused(
            _("Name the device in 1 to %(max)d characters.") % {"max": MAX_NAME_LENGTH},
            field="name",
        )
    raw = _decode(public_key, _PUBLIC_KEY)
    try:
        load_public_key(raw)
    except KeyFormatError as error:
        raise SubmissionRefused(
            _("The public key is refused: %(reason)s.") % {"reason": error}, field="public_key"
        ) from None
    with transaction.atomic():
        existing = DeviceKey.objects.select_for_update().filter(public_key=raw).first()
        if existing is not None:
            if existing.observer_id != observer.pk or existing.revoked_at is not None:
                raise SubmissionRefused(
                    _(
                        "This public key is already registered and cannot be registered again; "
                        "generate a new key pair."
                    ),
                    field="public_key",
                    kind=RefusalKind.CONFLICT,
                )
            return existing, False
        key = DeviceKey.objects.create(
            observer=observer, public_key=raw, name=label, created_at=at or timezone.now()
        )
    return key, True


def revoke_device_key(
    *, user: User, key_id: int, at: datetime.datetime | None = None
) -> DeviceKey | None:
    """Revoke one of the user's own keys (again: no change); None if they have no such key.
    Copies it signed keep it; it signs nothing new."""
    with transaction.atomic():
        key = observer_keys(user).select_for_update().filter(pk=key_id).first()
        if key is not None and key.revoked_at is None:
            key.revoked_at = at or timezone.now()
            key.save(update_fields=["revoked_at"])
    return key


def key_base64(key: DeviceKey) -> str:
    return b64encode(bytes(key.public_key))


# --- Signed copies --------------------------------------------------------------------------


def _named_key(observer: Observer, device_key: str) -> DeviceKey:
    """The observer's key named by its id (decimal) or its raw public key (base64)."""
    # Hand-written: the ORM's query, ordered by the model's default, cost ~3 ms of CPU to
    # build per signed submission on a small server.
    key: DeviceKey | None
    if device_key.isascii() and device_key.isdigit():
        number = int(device_key)
        key = (
            rows.fetch_one(DeviceKey, "t.observer_id = %s AND t.id = %s", [observer.pk, number])
            if number < _BIGINT_LIMIT
            else None
        )
    else:
        raw = _decode(device_key, _DEVICE_KEY)
        key = rows.fetch_one(
            DeviceKey, "t.observer_id = %s AND t.public_key = %s", [observer.pk, raw]
        )
    if key is None:
        raise SubmissionRefused(
            _(
                "The device key %(key)s is not registered to you; register the device's public "
                "key first."
            )
            % {"key": device_key},
            field="device_key",
            kind=RefusalKind.FORBIDDEN,
        )
    if key.revoked_at is not None:
        raise SubmissionRefused(
            _("The device key %(name)s was revoked on %(date)s; it signs nothing new.")
            % {"name": key.name, "date": date_format(key.revoked_at, "DATETIME_FORMAT")},
            field="device_key",
            kind=RefusalKind.FORBIDDEN,
        )
    return key


def check_copy_signature(
    *,
    observer: Observer,
    election: Election,
    copy_id: UUID,
    body: Mapping[str, Any],
    device_key: str | None,
    signature: str | None,
) -> tuple[DeviceKey, bytes] | None:
    """The verified (key, signature) of a copy, None for an unsigned copy the election allows.

    Refuses (SubmissionRefused, 422 or 403 by kind) a missing signature where the election
    requires one; a key or signature that is malformed; a key that is not the observer's or is
    revoked; a signature that does not verify over ``signed_message(copy_id, body)``."""
    if not device_key and not signature:
        if election.signatures_required:
            raise SubmissionRefused(
                _(
                    "%(election)s requires every copy to be signed by a registered device key; "
                    "this submission carries no signature."
                )
                % {"election": election.name},
                field="signature",
            )
        return None
    if not device_key:
        raise SubmissionRefused(
            _("The signature needs the device key that made it (device_key)."),
            field="device_key",
        )
    if not signature:
        raise SubmissionRefused(
            _("The device key %(key)s is named but the signature is missing.")
            % {"key": device_key},
            field="signature",
        )
    raw_signature = _decode(signature, _SIGNATURE)
    key = _named_key(observer, device_key)
    if not verify(
        _registered_key(bytes(key.public_key)), signed_message(copy_id, body), raw_signature
    ):
        raise SubmissionRefused(
            _(
                "The signature does not verify with device key %(name)s over this submission "
                "(the signed bytes are described in docs/signatures.md); nothing was stored."
            )
            % {"name": key.name},
            field="signature",
        )
    return key, raw_signature
