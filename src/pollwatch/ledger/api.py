"""The log in the JSON API: an election log's verifier key and current checkpoint. Public,
like the log itself."""

# No `from __future__ import annotations`: ninja resolves the annotations at registration.
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from pollwatch.core.tlog.note import b64encode
from pollwatch.ledger import serving
from pollwatch.registry.schemas import ErrorOut

router = Router(tags=["log"])


class WitnessOut(Schema):
    name: str
    url: str
    verifier_key: str
    cosigned_at: int | None


class LogOut(Schema):
    origin: str
    size: int
    root_hash: str
    root_hash_hex: str
    verifier_key: str
    checkpoint: str
    witnesses: list[WitnessOut]


@router.get(
    "/elections/{slug}/log",
    response={200: LogOut, 404: ErrorOut},
    summary="The election's transparency log",
)
def election_log(request: HttpRequest, slug: str) -> LogOut:
    """The log's verifier key (C2SP signed-note), its latest checkpoint (C2SP
    tlog-checkpoint, with witnesses' cosignatures), and the configured witnesses. 404: no such
    election, or its log has no checkpoint yet."""
    try:
        log = serving.published_log(slug)
    except serving.NotServed as error:
        raise HttpError(404, str(error)) from None
    summary = serving.summary(log)
    return LogOut(
        origin=summary.origin,
        size=summary.size,
        root_hash=b64encode(summary.root_hash),
        root_hash_hex=summary.root_hash.hex(),
        verifier_key=summary.verifier_key,
        checkpoint=summary.checkpoint,
        witnesses=[
            WitnessOut(
                name=w.name, url=w.url, verifier_key=w.verifier_key, cosigned_at=w.cosigned_at
            )
            for w in summary.witnesses
        ],
    )
