"""From the cross-check's columns to plain records: ids, severities, lines and details."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pollwatch.core.crosscheck import Hierarchy, crosscheck
from pollwatch.findings.computed import (
    CROSSCHECK_KINDS,
    ComputedFinding,
    ConversionError,
    from_crosscheck,
)
from pollwatch.findings.models import FindingKind
from tests.core.crosscheck.cases import GOOD, TINY, copies, official, with_lines

IN_BOXES = "in_boxes == invalid + sum(options)"
NOT_OVER_ISSUED = "in_boxes <= issued"
# Database ids: stations 501–504 under territorials 12 and 13, under the central commission 11.
HIERARCHY = Hierarchy(
    commission_parent=np.array([-1, 0, 0], dtype=np.intp),
    station_commission=np.array([1, 1, 2, 2], dtype=np.intp),
    station_ids=np.array([501, 502, 503, 504], dtype=np.int64),
    commission_ids=np.array([11, 12, 13], dtype=np.int64),
)


def _records() -> dict[str, ComputedFinding]:
    misread = with_lines(GOOD, yes=401)  # breaks the in-boxes relation on this copy
    rows = [(0, 1, GOOD), (0, 2, misread), (1, 1, GOOD), (2, 1, GOOD), (3, 1, GOOD)]
    published = {
        0: GOOD,
        1: with_lines(GOOD, invalid=10),  # breaks the in-boxes relation, officially
        2: with_lines(GOOD, in_boxes=601, invalid=11),  # more in the boxes than issued
    }  # station 3: nothing published
    result = crosscheck(
        TINY, HIERARCHY, copies(rows, ids=[9001, 9002, 9003, 9004, 9005]), official(published)
    )
    records = from_crosscheck(result.findings, TINY)
    assert [r.fingerprint for r in records] == result.findings.fingerprint.tolist()
    return {record.fingerprint: record for record in records}


def test_records_carry_database_ids_lines_and_severities() -> None:
    records = _records()
    assert records.pop(f"relation-broken-on-copy|station:501/copy:9002|relation:{IN_BOXES}") == (
        ComputedFinding(
            fingerprint=f"relation-broken-on-copy|station:501/copy:9002|relation:{IN_BOXES}",
            kind="relation-broken-on-copy",
            severity="error",
            station_id=501,
            commission_id=None,
            lines=("in_boxes", "invalid", "yes", "no"),
            relation=IN_BOXES,
            left=598,
            right=599,
            delta=-1,
            detail={"copy": 9002, "copies": 1, "organisations": 1},
        )
    )
    disagree = records.pop("copies-disagree|station:501|line:yes")
    assert (disagree.severity, disagree.lines, disagree.left, disagree.right) == (
        "error",
        ("yes",),
        401,
        400,
    )
    assert disagree.detail == {"copies": 2, "organisations": 2}
    differs = records.pop("copy-differs-from-official|station:501/copy:9002|line:yes")
    assert (differs.station_id, differs.delta, differs.magnitude) == (501, 1, 1)
    assert differs.detail["copy"] == 9002

    official_broken = records.pop(f"relation-broken-on-official|station:502|relation:{IN_BOXES}")
    assert (official_broken.severity, official_broken.delta, official_broken.detail) == (
        "error",
        -2,
        {},
    )
    assert records.pop("consensus-differs-from-official|station:502|line:invalid").delta == -2
    assert records.pop("copy-differs-from-official|station:502/copy:9003|line:invalid")

    warning = records.pop(f"relation-broken-on-official|station:503|relation:{NOT_OVER_ISSUED}")
    assert (warning.severity, warning.lines, warning.delta) == (
        "warning",
        ("in_boxes", "issued"),
        1,
    )
    for line in ("in_boxes", "invalid"):
        assert records.pop(f"consensus-differs-from-official|station:503|line:{line}")
        assert records.pop(f"copy-differs-from-official|station:503/copy:9004|line:{line}")

    missing = records.pop("missing-official-result|station:504|-")
    assert (missing.severity, missing.lines, missing.relation, missing.delta) == (
        "warning",
        (),
        "",
        0,
    )
    assert missing.detail == {"copies": 1, "organisations": 1}
    assert records == {}


def test_a_template_other_than_the_findings_one_is_refused() -> None:
    result = crosscheck(TINY, HIERARCHY, copies([(0, 1, GOOD)]), official({0: GOOD}))
    other = dataclasses.replace(TINY, relations=TINY.relations[:1])
    with pytest.raises(ConversionError, match="template 'tiny' has lines"):
        from_crosscheck(result.findings, other)


def test_every_core_kind_is_a_stored_kind() -> None:
    assert set(FindingKind.values) >= CROSSCHECK_KINDS
