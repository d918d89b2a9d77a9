"""Official snapshots in the election's log: where a publication came from, when, which bytes.

The log then proves that the figures a finding compares against were the ones imported at that
time from a file with that SHA-256: a commission cannot later claim it published otherwise.
"""

from __future__ import annotations

from typing import Any

from pollwatch.ledger.kinds import register_kind, utc_iso
from pollwatch.official.models import OfficialSnapshot


def snapshot_record(snapshot: OfficialSnapshot) -> dict[str, Any]:
    return {
        "election": snapshot.election.slug,
        "source": snapshot.source,
        "sha256": snapshot.sha256,
        "imported_at": utc_iso(snapshot.imported_at),
        "station_rows": snapshot.station_rows,
        "commission_rows": snapshot.commission_rows,
    }


register_kind(
    "official-snapshot",
    model=OfficialSnapshot,
    record=snapshot_record,
    rows=lambda election: OfficialSnapshot.objects.filter(election=election),
)
