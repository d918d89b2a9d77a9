"""Recomputing the cross-check's findings from the database: for a station, for several, or
for everything.

One path serves all three. It locks the scope (so that an older computation cannot overwrite a
newer one) unless its caller already holds the lock, reads the current copies and official
results in bulk (``inputs``), runs ``core.crosscheck`` and records the findings in the scope.
A station's recheck covers the kinds that live at a station — everything but commission totals
against their children, which depend on every station below and are the whole election's to
recompute.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterable
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction

from pollwatch.core.crosscheck import FindingKind, crosscheck
from pollwatch.core.protocol import ProtocolTemplateSpec
from pollwatch.findings.computed import CROSSCHECK_KINDS, ComputedFinding, from_crosscheck
from pollwatch.findings.inputs import load_inputs
from pollwatch.findings.recording import RecordingCounts, Scope, lock_scope, record_findings
from pollwatch.registry.models import Election, ProtocolTemplate
from pollwatch.registry.protocol_templates import spec_of

# The kinds a station's recheck recomputes: all but those placed at commissions only.
STATION_KINDS = CROSSCHECK_KINDS - {FindingKind.TOTAL_DIFFERS_FROM_CHILDREN.slug}

# Called with the name of each stage as it starts (for a progress bar).
Progress = Callable[[str], None]
STAGES = ("read", "check", "convert", "record")


def recheck_station(
    election: Election, station_id: int, *, locked: bool = False
) -> RecordingCounts:
    """Recompute one station's findings; see ``recheck_stations``."""
    return recheck_stations(election, [station_id], locked=locked)


def recheck_stations(
    election: Election, station_ids: Iterable[int], *, locked: bool = False
) -> RecordingCounts:
    """Recompute these stations' findings (submissions call this within their request).

    ``locked``: the caller already holds ``lock_scope`` on these stations in the transaction
    it calls from (a submission locks before it reads anything). The lock is not taken again,
    and no savepoint is made: a failure is the caller's transaction's to roll back. That
    spares a submission six statements on PostgreSQL (two locks, two savepoints and their
    releases).

    Raises RecordingError if a station is not in the election.
    """
    if locked and not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "recheck_stations(locked=True) needs the caller's transaction"
        )
    return _recheck(election, Scope.stations(station_ids, STATION_KINDS), None, locked=locked)


def recheck_election(election: Election, progress: Progress | None = None) -> RecordingCounts:
    """Recompute every cross-check finding of the election."""
    return _recheck(election, Scope.election(), progress)


def _recheck(
    election: Election, scope: Scope, progress: Progress | None, *, locked: bool = False
) -> RecordingCounts:
    report = progress or (lambda stage: None)
    template = template_spec(election.template)
    # A second connection reads in parallel only what this transaction cannot have changed.
    parallel = scope.station_ids is None and not connection.in_atomic_block
    # Whoever takes the lock makes the savepoint (when nested); the recording below relies on it.
    with transaction.atomic(savepoint=not locked):
        if not locked:
            lock_scope(election, scope)
        report("read")
        inputs = load_inputs(election, template, scope.station_ids, parallel=parallel)
        report("check")
        result = crosscheck(
            template,
            inputs.hierarchy,
            inputs.copies,
            inputs.official_stations,
            inputs.official_totals,
            inputs.copy_expected,
        )
        report("convert")
        computed = with_copy_ids(from_crosscheck(result.findings, template), inputs.copy_uuids)
        report("record")
        return record_findings(election, scope, computed, locked=True)


def with_copy_ids(
    computed: list[ComputedFinding], copy_uuids: npt.NDArray[np.void]
) -> list[ComputedFinding]:
    """Put the copies' primary keys (UUIDs) where the core had their row numbers.

    The core's fingerprints name copies by integer; a copy's stable name is its UUID, so a
    finding on a copy keeps its fingerprint however the rows are ordered next time.
    """
    named = []
    for finding in computed:
        row = finding.detail.get("copy")
        if row is None:
            named.append(finding)
            continue
        copy_id = str(uuid.UUID(bytes=bytes(copy_uuids[row])))
        named.append(
            dataclasses.replace(
                finding,
                fingerprint=finding.fingerprint.replace(f"/copy:{row}|", f"/copy:{copy_id}|", 1),
                detail={**finding.detail, "copy": copy_id},
            )
        )
    return named


def template_spec(template: ProtocolTemplate) -> ProtocolTemplateSpec:
    """The template's spec, parsed once per content (a submission should not re-parse it)."""
    fields = ("key", "name", "kind", "lines", "relations")
    return _spec(json.dumps({name: getattr(template, name) for name in fields}))


@lru_cache(maxsize=32)
def _spec(content: str) -> ProtocolTemplateSpec:
    return spec_of(ProtocolTemplate(**json.loads(content)))
