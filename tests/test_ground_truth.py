"""End to end on a synthetic election: the findings pollwatch records equal the ground truth.

`pollwatch synth` injects discrepancies and writes the findings they imply
(ground_truth.json); the election then goes through the importers a clerk uses — structure,
organisations, observers, assignments, official station results and commission totals,
protocol copies, a later publication that silently changed a few figures — and
`pollwatch crosscheck`. Every injected discrepancy must be found, with
its values, and nothing else flagged.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from pollwatch.core.crosscheck import FindingKind
from pollwatch.core.synth import SILENT_CHANGE, read_ground_truth
from pollwatch.demo.election import load_synthetic_election
from pollwatch.demo.ground_truth import recorded_findings
from pollwatch.findings.models import Finding

STATIONS = 10_000


@pytest.mark.django_db(transaction=True)
def test_recorded_findings_equal_the_injected_ground_truth(tmp_path: Path) -> None:
    call_command("synth", stations=STATIONS, seed=7, out=str(tmp_path), verbosity=0)
    election = load_synthetic_election(tmp_path)

    expected = read_ground_truth(tmp_path / "ground_truth.json")
    recorded = recorded_findings(election)
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
    assert recorded_findings(election) == expected
    assert not Finding.objects.filter(election=election, present=False).exists()
