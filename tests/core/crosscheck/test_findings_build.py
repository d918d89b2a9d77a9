"""Findings.build: scalars repeated, arrays copied, the columns not given filled in."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.core.crosscheck import FindingKind, Findings, FingerprintNames

NAMES = FingerprintNames(
    line_keys=("a", "b"),
    relation_texts=("a == b",),
    station_ids=np.array([10, 11, 12], dtype=np.int64),
    commission_ids=np.array([1], dtype=np.int64),
    copy_ids=np.zeros(0, dtype=np.int64),
)


def test_scalars_repeat_arrays_are_copied_and_the_rest_is_filled_in() -> None:
    station = np.array([0, 2], dtype=np.intp)
    left = np.array([5, 7], dtype=np.int64)
    built = Findings.build(
        FindingKind.COPIES_DISAGREE, NAMES, 2, station=station, line=1, left=left, right=3
    )
    left[0] = 99  # the finding keeps its own values
    assert built.station.tolist() == [0, 2] and built.station.dtype == np.int64
    assert built.line.tolist() == [1, 1]
    assert (built.left.tolist(), built.right.tolist(), built.delta.tolist()) == (
        [5, 7],
        [3, 3],
        [2, 4],
    )
    assert built.copy.tolist() == built.commission.tolist() == [-1, -1]
    assert built.copies.tolist() == [0, 0]
    assert built.fingerprint.tolist() == [
        "copies-disagree|station:10|line:b",
        "copies-disagree|station:12|line:b",
    ]


def test_nothing_found_is_empty_columns_that_join_others() -> None:
    none = Findings.build(FindingKind.MISSING_COPY, NAMES, 0, station=np.zeros(0, np.intp))
    assert len(none) == 0 and none.fingerprint.tolist() == []
    some = Findings.build(FindingKind.MISSING_COPY, NAMES, 1, station=2)
    joined = Findings.concatenate([none, some, none], NAMES)
    assert joined.station.tolist() == [2] and joined.kind.tolist() == [8]
    assert joined.left.dtype == np.int64 and joined.kind.dtype == np.uint8


def test_unknown_and_derived_columns_are_refused() -> None:
    for count in (0, 1):
        with pytest.raises(TypeError, match="unknown finding columns: place, delta"):
            Findings.build(FindingKind.MISSING_COPY, NAMES, count, place=1, delta=0)


def test_fingerprints_name_station_commission_copy_or_no_place() -> None:
    names = FingerprintNames(
        line_keys=("a", "b"),
        relation_texts=("a == b",),
        station_ids=np.zeros(0, dtype=np.int64),  # no station: -1 must not read an id
        commission_ids=np.array([1, 2], dtype=np.int64),
        copy_ids=np.array([70, 71], dtype=np.int64),
    )
    parts = [
        Findings.build(FindingKind.TOTAL_DIFFERS_FROM_CHILDREN, names, 1, commission=1, line=0),
        Findings.build(FindingKind.MISSING_COPY, names, 1),
        Findings.build(FindingKind.RELATION_BROKEN_ON_COPY, names, 1, copy=1, relation=0),
    ]
    assert Findings.concatenate(parts, names).fingerprint.tolist() == [
        "total-differs-from-children|commission:2|line:a",
        "missing-copy||-",
        "relation-broken-on-copy|/copy:71|relation:a == b",
    ]
