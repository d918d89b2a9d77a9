"""A stored copy's place in the transparency log, as its page shows it: the log entry, its
index and the checkpoint that covers it once the integrator has run, and the record's
canonical bytes rebuilt from the row, which the browser hashes (RFC 9162 leaf hash) to check
the receipt's inclusion proof itself (static/protocols/receipt.js).

The bytes are rebuilt from the row rather than read from the log entry: if the row was changed
behind the log's back, the page's own check fails.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from pollwatch.ledger.keys import log_verifier, new_origin
from pollwatch.ledger.models import LogEntry, LogIndex, LogState
from pollwatch.protocols import canonical
from pollwatch.protocols.models import ProtocolCopy


@dataclass(frozen=True)
class CopyReceipt:
    entry_id: int
    index: int | None  # None: not sequenced yet
    included: bool  # the latest checkpoint covers the entry
    tree_size: int | None
    root_hex: str | None
    record: str  # the canonical record (RFC 8785 JSON, ASCII-safe text)
    record_base64: str
    receipt_url: str
    state_url: str  # asked while pending, so that the receipt is fetched once it exists
    checkpoint_url: str  # the latest checkpoint, which must extend the receipt's
    consistency_url: str
    origin: str
    verifier_key: str  # the log's note verifier key, for the checkpoint's signature


@dataclass(frozen=True)
class ReceiptState:
    """Whether the log has a copy's entry in its latest checkpoint yet."""

    entry_id: int
    index: int | None  # None: not sequenced yet
    included: bool  # the latest checkpoint covers the entry
    state: LogState | None  # the log, once it has a checkpoint


def receipt_state(copy: ProtocolCopy) -> ReceiptState | None:
    """The copy's log entry and whether a checkpoint covers it; None for a copy never logged."""
    entry_id = (
        LogEntry.objects.filter(
            source_type=ContentType.objects.get_for_model(ProtocolCopy), source_pk=str(copy.pk)
        )
        .values_list("pk", flat=True)
        .first()
    )
    if entry_id is None:
        return None
    index = LogIndex.objects.filter(entry_id=entry_id).values_list("index", flat=True).first()
    state = LogState.objects.filter(election_id=copy.election_id).first()
    included = state is not None and index is not None and index < state.size
    return ReceiptState(entry_id, index, included, state if state and state.checkpoint else None)


def copy_receipt(copy: ProtocolCopy) -> CopyReceipt | None:
    """What the copy's page shows of its receipt; None for a copy never logged."""
    where = receipt_state(copy)
    if where is None:
        return None
    state = where.state
    # Before the integrator's first run there is no log yet: the origin it will give it.
    origin = state.origin if state is not None else new_origin(copy.election)
    data = canonical.canonical_bytes(canonical.copy_record(copy))
    slug = copy.election.slug
    return CopyReceipt(
        entry_id=where.entry_id,
        index=where.index,
        included=where.included,
        tree_size=state.size if state is not None else None,
        root_hex=bytes(state.root).hex() if state is not None else None,
        record=data.decode("utf-8"),
        record_base64=base64.b64encode(data).decode("ascii"),
        receipt_url=reverse("log_receipt", args=[slug, where.entry_id]),
        state_url=reverse("protocol_copy_receipt_state", args=[slug, copy.pk]),
        checkpoint_url=reverse("log_checkpoint", args=[slug]),
        consistency_url=reverse("log_consistency", args=[slug]),
        origin=origin,
        verifier_key=log_verifier(origin).key_string(),
    )
