"""Computed findings as plain records, and their conversion from the cross-check's columns.

Pure Python and NumPy, no Django: the conversion is tested without a database, and anything
else that detects discrepancies (silent changes, statistical anomalies) produces the same
records for ``recording.record_findings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pollwatch.core.crosscheck import FindingKind, Findings
from pollwatch.core.crosscheck.inputs import Int64Array
from pollwatch.core.protocol import ProtocolTemplateSpec, Severity

# The kinds the cross-check produces: a whole-election cross-check resolves only these.
CROSSCHECK_KINDS = frozenset(kind.slug for kind in FindingKind)

# Severity of the kinds that are not a broken control relation (those take the relation's).
# A missing piece is a warning: observers may simply not have reached the station yet.
KIND_SEVERITY: Mapping[FindingKind, Severity] = {
    FindingKind.COPIES_DISAGREE: "error",
    FindingKind.COPY_DIFFERS_FROM_OFFICIAL: "error",
    FindingKind.CONSENSUS_DIFFERS_FROM_OFFICIAL: "error",
    FindingKind.TOTAL_DIFFERS_FROM_CHILDREN: "error",
    FindingKind.MISSING_OFFICIAL_RESULT: "warning",
    FindingKind.MISSING_COPY: "warning",
}


class ConversionError(ValueError):
    """Findings that do not belong to the template they are converted with."""


@dataclass(frozen=True, slots=True)
class ComputedFinding:
    """One finding as a detector computed it: identity, place, lines and values, no status.

    ``lines`` are line keys (for a broken relation, every line its expression names);
    ``left``/``right``/``delta`` are the values on each side as ``Findings`` defines them per
    kind; ``detail`` holds what only some kinds have (the copy's id, counts of copies and
    organisations), as JSON-ready values.
    """

    fingerprint: str
    kind: str
    severity: Severity
    station_id: int | None
    commission_id: int | None
    lines: tuple[str, ...]
    relation: str = ""
    left: int = 0
    right: int = 0
    delta: int = 0
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def magnitude(self) -> int:
        """The size of the difference, by which the findings queue sorts."""
        return abs(self.delta)


def from_crosscheck(findings: Findings, template: ProtocolTemplateSpec) -> list[ComputedFinding]:
    """The cross-check's findings as records, with database ids for stations and copies.

    The ids come from ``findings.names``: build the Hierarchy with the stations' and
    commissions' primary keys and the Copies with the copies' primary keys, so that the ids
    here, and the fingerprints, are the database's and stay stable between runs.
    """
    names = findings.names
    relation_texts = tuple(relation.expression for relation in template.relations)
    if names.line_keys != template.line_keys or names.relation_texts != relation_texts:
        raise ConversionError(
            f"findings were computed with lines {names.line_keys} and relations "
            f"{names.relation_texts}; template {template.key!r} has lines "
            f"{template.line_keys} and relations {relation_texts}"
        )
    relation_lines = [relation.parsed.line_keys for relation in template.relations]
    relation_severity = [relation.severity for relation in template.relations]
    line_keys = template.line_keys
    slugs = {kind.value: kind.slug for kind in FindingKind}
    columns = zip(
        findings.fingerprint.tolist(),
        findings.kind.tolist(),
        _ids(names.station_ids, findings.station),
        _ids(names.commission_ids, findings.commission),
        _ids(names.copy_ids, findings.copy),
        findings.relation.tolist(),
        findings.line.tolist(),
        findings.left.tolist(),
        findings.right.tolist(),
        findings.delta.tolist(),
        findings.copies.tolist(),
        findings.organisations.tolist(),
        strict=True,
    )
    records = []
    for (
        fingerprint,
        kind,
        station,
        commission,
        copy,
        relation,
        line,
        left,
        right,
        delta,
        copies,
        organisations,
    ) in columns:
        detail: dict[str, int] = {}
        if copy >= 0:
            detail["copy"] = copy
        if copies > 0:
            detail["copies"] = copies
        if organisations > 0:
            detail["organisations"] = organisations
        on_relation = relation >= 0
        records.append(
            ComputedFinding(
                fingerprint=fingerprint,
                kind=slugs[kind],
                severity=(
                    relation_severity[relation] if on_relation else KIND_SEVERITY[FindingKind(kind)]
                ),
                station_id=station if station >= 0 else None,
                commission_id=commission if commission >= 0 else None,
                lines=relation_lines[relation] if on_relation else _line(line_keys, line),
                relation=relation_texts[relation] if on_relation else "",
                left=left,
                right=right,
                delta=delta,
                detail=detail,
            )
        )
    return records


def _ids(ids: Int64Array, index: Int64Array) -> list[int]:
    """The id at each index, -1 where the index is -1 (not applicable)."""
    if ids.size == 0:
        return [-1] * index.size
    return np.where(index >= 0, ids[np.maximum(index, 0)], -1).tolist()


def _line(line_keys: tuple[str, ...], line: int) -> tuple[str, ...]:
    return (line_keys[line],) if line >= 0 else ()
