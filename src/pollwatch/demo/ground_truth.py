"""An election's recorded findings in the terms of a synthetic election's ground truth
(``core.synth.FindingRecord``), to compare the two: codes for places, the copy's UUID."""

from __future__ import annotations

from pollwatch.core.synth import FindingRecord
from pollwatch.findings.models import Finding
from pollwatch.registry.models import Election


def recorded_findings(election: Election) -> list[FindingRecord]:
    """The election's present findings, sorted as ``core.synth.expected_findings`` sorts."""
    findings = Finding.objects.filter(election=election, present=True).select_related(
        "station", "commission"
    )
    return sorted(
        (
            FindingRecord(
                kind=finding.kind,
                station=finding.station.code if finding.station else None,
                commission=finding.commission.code if finding.commission else None,
                copy=finding.detail.get("copy"),
                lines=tuple(finding.lines),
                relation=finding.relation,
                left=finding.left_value,
                right=finding.right_value,
                copies=finding.detail.get("copies", 0),
                organisations=finding.detail.get("organisations", 0),
            )
            for finding in findings.iterator(chunk_size=10_000)
        ),
        key=lambda record: record.sort_key,
    )
