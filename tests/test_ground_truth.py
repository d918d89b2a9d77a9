"""End to end on a synthetic election: the findings pollwatch records equal the ground truth.

`pollwatch synth` injects discrepancies and writes the findings they imply
(ground_truth.json); the election then goes through the importers a clerk uses — structure,
organisations, observers, assignments, official station results and commission totals,
protocol copies, a later publication that silently changed a few figures — and
`pollwatch crosscheck`. Every injected discrepancy must be found, with
its values, and nothing else flagged.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from pollwatch.core.crosscheck import FindingKind
from pollwatch.core.synth import SILENT_CHANGE, FindingRecord
from pollwatch.demo.election import load_synthetic_election
from pollwatch.findings.models import Finding
from pollwatch.registry.models import Election

STATIONS = 10_000


def expected_records(directory: Path) -> list[FindingRecord]:
    truth = json.loads((directory / "ground_truth.json").read_text(encoding="utf-8"))
    return sorted(
        (
            FindingRecord(
                kind=f["kind"],
                station=f["station"],
                commission=f["commission"],
                copy=f["copy"],
                lines=tuple(f["lines"]),
                relation=f["relation"],
                left=f["left"],
                right=f["right"],
                copies=f["copies"],
                organisations=f["organisations"],
            )
            for f in truth["findings"]
        ),
        key=lambda record: record.sort_key,
    )


def recorded_records(election: Election) -> list[FindingRecord]:
    """The election's present findings in the ground truth's terms."""
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
            for finding in findings
        ),
        key=lambda record: record.sort_key,
    )


@pytest.mark.django_db(transaction=True)
def test_recorded_findings_equal_the_injected_ground_truth(tmp_path: Path) -> None:
    call_command("synth", stations=STATIONS, seed=7, out=str(tmp_path), verbosity=0)
    election = load_synthetic_election(tmp_path)

    expected = expected_records(tmp_path)
    recorded = recorded_records(election)
    missing = [r for r in expected if r not in set(recorded)]
    extra = [r for r in recorded if r not in set(expected)]
    assert (missing[:5], extra[:5]) == ([], [])
    assert recorded == expected
    # Every kind the cross-check knows was injected, and silent changes between two
    # publications; each finding's delta is left − right.
    assert {r.kind for r in expected} == {kind.slug for kind in FindingKind} | {SILENT_CHANGE}
    kinds = Counter(r.kind for r in recorded)
    assert min(kinds.values()) >= 2
    assert all(
        f.delta == f.left_value - f.right_value for f in Finding.objects.filter(election=election)
    )

    # Recomputing changes nothing: same findings, none new, none resolved.
    call_command("crosscheck", election=election.slug, no_progress=True, verbosity=0)
    assert recorded_records(election) == expected
    assert not Finding.objects.filter(election=election, present=False).exists()
