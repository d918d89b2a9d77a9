"""A cheap digest of everything an election's statistics depend on.

Reading it costs a few aggregate queries, never a scan of the figures: a report or an estimate
kept under one digest is still valid while the digest is unchanged, and any new snapshot,
protocol copy, assignment, station or template edit changes it.
"""

from __future__ import annotations

import hashlib
import json

from django.db.models import Count, Max

from pollwatch.accreditation.models import Assignment
from pollwatch.official.models import OfficialSnapshot
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.registry.models import Election, PollingStation


def data_state(election: Election) -> str:
    snapshots = OfficialSnapshot.objects.filter(election=election).aggregate(
        last=Max("pk"), count=Count("pk")
    )
    copies = ProtocolCopy.objects.filter(election=election).aggregate(
        last=Max("received_at"), count=Count("pk")
    )
    assignments = Assignment.objects.filter(station__election=election).aggregate(
        last=Max("pk"), count=Count("pk")
    )
    stations = PollingStation.objects.filter(election=election).aggregate(
        last=Max("pk"), count=Count("pk")
    )
    template = election.template
    parts = [
        snapshots, copies, assignments, stations,
        election.template_id, template.lines, template.statistics,
    ]  # fmt: skip
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
