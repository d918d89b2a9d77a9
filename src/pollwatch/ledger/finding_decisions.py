"""Finding decisions in the log: each change of a finding's status, as a record.

The decider appears by user id only (no name: the log is public). Times are UTC ISO 8601, so
the record rebuilt from the stored row is the one logged whatever time zone the caller used.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from pollwatch.findings.models import FindingDecision
from pollwatch.ledger.kinds import Record, register_kind, utc_iso
from pollwatch.registry.models import Election

KIND = "finding-decision"


def finding_decision_record(decision: FindingDecision) -> Record:
    finding = decision.finding
    return {
        "kind": KIND,
        "id": decision.pk,
        "election": finding.election.slug,
        "finding": finding.fingerprint,
        "from": decision.from_status,
        "to": decision.to_status,
        "reason": decision.reason,
        "decided_by": decision.decided_by_id,
        "decided_at": utc_iso(decision.decided_at),
    }


def _rows(election: Election) -> models.QuerySet[Any]:
    return FindingDecision.objects.filter(finding__election=election).select_related(
        "finding__election"
    )


register_kind(KIND, model=FindingDecision, record=finding_decision_record, rows=_rows)
