"""Protocol copies in the transparency log: the kind and its record builder (canonical.py)."""

from __future__ import annotations

from django.db.models import QuerySet

from pollwatch.ledger.kinds import register_kind
from pollwatch.protocols.canonical import RECORD_KIND, copy_record
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.registry.models import Election


def _rows(election: Election) -> QuerySet[ProtocolCopy]:
    return (
        ProtocolCopy.objects.filter(election=election)
        .select_related("election", "station", "organisation", "device_key")
        .prefetch_related("photos")
    )


register_kind(RECORD_KIND, model=ProtocolCopy, record=copy_record, rows=_rows)
