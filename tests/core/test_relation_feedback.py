"""Control-relation feedback on one copy, complete or half typed in."""

from __future__ import annotations

import pytest

from pollwatch.core.expressions import ExpressionError
from pollwatch.core.relation_feedback import RelationState, relation_feedback
from tests.core.shipped_templates import shipped

SPEC = shipped("kz-referendum")
COMPLETE = {
    "registered": 1200,
    "ballots_received": 1200,
    "issued_in_station": 700,
    "issued_outside": 20,
    "cancelled": 480,
    "ballots_in_boxes": 720,
    "invalid": 10,
    "not_counted": 5,
    "yes": 500,
    "no": 205,
}


def test_a_complete_copy_whose_arithmetic_holds() -> None:
    feedback = relation_feedback(SPEC, COMPLETE)
    assert [f.relation for f in feedback] == list(SPEC.relations)
    assert all(f.state is RelationState.HOLDS and f.missing == () for f in feedback)
    assert (feedback[1].left, feedback[1].right, feedback[1].delta) == (720, 720, 0)


def test_a_broken_relation_reports_both_sides() -> None:
    feedback = relation_feedback(SPEC, {**COMPLETE, "no": 215})
    states = [f.state for f in feedback]
    holds, broken = RelationState.HOLDS, RelationState.BROKEN
    assert states == [holds, broken, holds, holds]
    assert (feedback[1].left, feedback[1].right, feedback[1].delta) == (720, 730, -10)


def test_a_half_typed_copy_names_the_lines_still_missing() -> None:
    partial = {"registered": 1200, "issued_in_station": 700, "issued_outside": 20, "yes": None}
    feedback = relation_feedback(SPEC, partial)
    assert [f.state for f in feedback] == [RelationState.INCOMPLETE] * 3 + [RelationState.HOLDS]
    assert feedback[0].missing == ("ballots_received", "cancelled")
    assert feedback[1].missing == ("ballots_in_boxes", "invalid", "not_counted", "yes", "no")
    assert feedback[0].delta is None
    assert feedback[2].missing == ("ballots_in_boxes",)
    assert (feedback[3].left, feedback[3].right) == (720, 1200)


def test_unknown_keys_are_ignored_and_non_integers_refused() -> None:
    assert relation_feedback(SPEC, {**COMPLETE, "spoiled": 3})[0].state is RelationState.HOLDS
    with pytest.raises(TypeError, match="'yes' is '5'"):
        relation_feedback(SPEC, {**COMPLETE, "yes": "5"})  # type: ignore[dict-item]


def test_figures_beyond_64_bits_are_taken_as_relation_evaluate_takes_them() -> None:
    # 2**63 is read as unsigned 64-bit and wraps; the relations not reading it are unaffected.
    feedback = relation_feedback(SPEC, {**COMPLETE, "registered": 2**63})
    assert [f.state for f in feedback][:3] == [RelationState.HOLDS] * 3
    assert (feedback[3].state, feedback[3].right) == (RelationState.BROKEN, -(2**63))
    # Larger ones are refused by the relation that reads them, once it is complete.
    half = {"registered": 2**70, "issued_in_station": 700}
    assert relation_feedback(SPEC, half)[3].state is RelationState.INCOMPLETE
    with pytest.raises(ExpressionError, match="registered"):
        relation_feedback(SPEC, {**COMPLETE, "registered": 2**70})
