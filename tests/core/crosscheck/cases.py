"""Small hand-built inputs for cross-checking tests, written as Python lists (None = blank)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pollwatch.core.crosscheck import (
    Copies,
    CrossCheck,
    Figures,
    FindingKind,
    Findings,
    Hierarchy,
    OfficialResults,
)
from pollwatch.core.protocol import template_from_data

Row = Sequence[int | None]

# registered, issued, in_boxes, invalid, yes, no
TINY = template_from_data(
    {
        "key": "tiny",
        "name": "Tiny test protocol",
        "kind": "referendum",
        "lines": [
            {"key": "registered", "number": "1", "label": {"en": "Registered"}},
            {"key": "issued", "number": "2", "label": {"en": "Issued"}},
            {"key": "in_boxes", "number": "3", "label": {"en": "In boxes"}},
            {"key": "invalid", "number": "4", "label": {"en": "Invalid"}},
            {"key": "yes", "number": "5", "label": {"en": "Yes"}, "option": True},
            {"key": "no", "number": "6", "label": {"en": "No"}, "option": True},
        ],
        "relations": [
            {"expression": "in_boxes == invalid + sum(options)", "severity": "error"},
            {"expression": "issued <= registered", "severity": "error"},
            {"expression": "in_boxes <= issued", "severity": "warning"},
        ],
    },
    "tiny",
)
LINES = TINY.line_keys
GOOD: tuple[int, ...] = (1000, 600, 598, 8, 400, 190)  # every relation holds


def line(key: str) -> int:
    return LINES.index(key)


def with_lines(base: Row, **changes: int | None) -> Row:
    row = list(base)
    for key, value in changes.items():
        row[line(key)] = value
    return row


def figures(rows: Sequence[Row], lines: int = len(LINES)) -> Figures:
    values = np.array([[0 if v is None else v for v in row] for row in rows], dtype=np.int64)
    missing = np.array([[v is None for v in row] for row in rows], dtype=np.bool_)
    return Figures(values.reshape(len(rows), lines), missing.reshape(len(rows), lines))


def copies(rows: Sequence[tuple[int, int, Row]], ids: Sequence[int] | None = None) -> Copies:
    return Copies(
        station=np.array([station for station, _, _ in rows], dtype=np.intp),
        organisation=np.array([organisation for _, organisation, _ in rows], dtype=np.int64),
        figures=figures([row for _, _, row in rows]),
        ids=None if ids is None else np.array(ids, dtype=np.int64),
    )


def official(rows: Mapping[int, Row]) -> OfficialResults:
    places = sorted(rows)
    return OfficialResults(
        place=np.array(places, dtype=np.intp), figures=figures([rows[p] for p in places])
    )


def tree(parents: Sequence[int], station_commission: Sequence[int]) -> Hierarchy:
    return Hierarchy(
        commission_parent=np.array(parents, dtype=np.intp),
        station_commission=np.array(station_commission, dtype=np.intp),
    )


def table(findings: Findings) -> list[dict[str, Any]]:
    """Findings as dicts, for readable assertions."""
    columns = ("station", "commission", "copy", "relation", "line", "left", "right", "delta")
    counts = ("copies", "organisations")
    return [
        {
            "kind": FindingKind(int(findings.kind[i])),
            **{c: int(getattr(findings, c)[i]) for c in (*columns, *counts)},
        }
        for i in range(len(findings))
    ]


def of_kind(result: CrossCheck, kind: FindingKind) -> list[dict[str, Any]]:
    return table(result.findings.of_kind(kind))
