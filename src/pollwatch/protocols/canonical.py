"""The canonical form of a protocol-copy submission (RFC 8785 JSON).

One body serves two purposes: its SHA-256 recognises a retry (same client id, same body) and
refuses a different body under the same id; and, with the copy's id, organisation and time of
receipt, it is the record sealed in the transparency log. Photos appear by SHA-256 only, never
their bytes; the observer as a person does not appear (personal data stays out of a public log).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import rfc8785

from pollwatch.core.tlog.note import b64encode
from pollwatch.ledger.kinds import utc_iso
from pollwatch.protocols.models import ProtocolCopy

RECORD_KIND = "protocol-copy"


def copy_body(
    *,
    election_slug: str,
    station_code: str,
    figures: Mapping[str, int],
    all_members_signed: bool,
    certified: bool,
    photo_sha256s: Sequence[str],
    supersedes: UUID | None,
) -> dict[str, Any]:
    """What the observer submitted, in JSON-ready values; photos sorted (a set, not a list)."""
    return {
        "election": election_slug,
        "station": station_code,
        "figures": dict(figures),
        "all_members_signed": all_members_signed,
        "certified": certified,
        "photos": sorted(set(photo_sha256s)),
        "supersedes": str(supersedes) if supersedes is not None else None,
    }


def canonical_bytes(value: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(value)


def body_sha256(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def copy_record(copy: ProtocolCopy, photo_sha256s: Sequence[str] | None = None) -> dict[str, Any]:
    """The log record of a stored copy: its body plus id, organisation and time of receipt.

    Built from the row alone (``pollwatch verify database`` rebuilds it to compare with the
    leaf); ``photo_sha256s`` saves reading the photos back when the caller has just set them.
    """
    if photo_sha256s is None:
        photo_sha256s = [photo.sha256 for photo in copy.photos.all()]
    body = copy_body(
        election_slug=copy.election.slug,
        station_code=copy.station.code,
        figures=copy.figures,
        all_members_signed=copy.all_members_signed,
        certified=copy.certified,
        photo_sha256s=photo_sha256s,
        supersedes=copy.supersedes_id,
    )
    record = {
        "kind": RECORD_KIND,
        "id": str(copy.id),
        **body,
        "organisation": copy.organisation.code,
        "received_at": utc_iso(copy.received_at),
    }
    key = copy.device_key if copy.device_key_id is not None else None
    if key is not None and copy.signature is not None:
        # Anyone can check the device's signature from the log alone (docs/signatures.md).
        record["device_signature"] = {
            "public_key": b64encode(bytes(key.public_key)),
            "signature": b64encode(bytes(copy.signature)),
        }
    return record
