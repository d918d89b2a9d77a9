"""Control relations on one protocol copy, possibly half typed in: feedback for the observer.

The form shows, while the observer types, which of the law's relations already hold, which are
broken and by how much, and which still wait for lines. The same function reports on a copy once
submitted, so the form and the API's response say the same thing. A broken relation is feedback,
never a refusal: what the paper says is evidence, arithmetic errors included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from pollwatch.core.expressions import Relation
from pollwatch.core.protocol import ControlRelation, ProtocolTemplateSpec


class RelationState(StrEnum):
    HOLDS = "holds"
    BROKEN = "broken"
    INCOMPLETE = "incomplete"  # some line the relation reads is not filled in yet


@dataclass(frozen=True)
class RelationFeedback:
    relation: ControlRelation
    state: RelationState
    left: int | None  # the value of each side, when every line it reads is filled in
    right: int | None
    missing: tuple[str, ...]  # the relation's lines not filled in yet, in template order

    @property
    def delta(self) -> int | None:
        """Left minus right, when both sides are known."""
        if self.left is None or self.right is None:
            return None
        return self.left - self.right


def relation_feedback(
    spec: ProtocolTemplateSpec, figures: Mapping[str, int | None]
) -> tuple[RelationFeedback, ...]:
    """Every control relation of ``spec`` on ``figures``, in the template's order.

    ``figures`` maps line keys to integers; an absent key or None is a line not filled in yet.
    Keys the template does not have are ignored here (validation names them elsewhere).
    """
    filled = {key: value for key, value in figures.items() if value is not None}
    for key, value in filled.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"figure for line {key!r} is {value!r}; expected an integer or None")
    together = _all_relations(spec, filled)
    feedback = []
    for index, relation in enumerate(spec.relations):
        missing = tuple(key for key in spec.relation_lines[index] if key not in filled)
        if missing:
            feedback.append(
                RelationFeedback(relation, RelationState.INCOMPLETE, None, None, missing)
            )
            continue
        holds, left, right = together[index] if together else _alone(relation.parsed, filled)
        state = RelationState.HOLDS if holds else RelationState.BROKEN
        feedback.append(RelationFeedback(relation, state, left, right, ()))
    return tuple(feedback)


Sides = tuple[bool, int, int]  # whether a relation holds, its left and right side


def _all_relations(spec: ProtocolTemplateSpec, filled: Mapping[str, int]) -> list[Sides]:
    """Every relation at once on the copy as one row; blank lines count as 0 (the relations
    reading them are incomplete, their values unused). Empty if a figure is beyond 64 bits."""
    try:
        row = np.array([[filled.get(key, 0) for key in spec.line_keys]], dtype=np.int64)
    except OverflowError:
        return []
    evaluation = spec.compiled_relations.evaluate(row)
    return list(
        zip(
            evaluation.holds[0].tolist(),
            evaluation.left[0].tolist(),
            evaluation.right[0].tolist(),
            strict=True,
        )
    )


def _alone(relation: Relation, filled: Mapping[str, int]) -> Sides:
    """One relation on its own figures, converted as ``Relation.evaluate`` converts them: it
    takes 2**63 … 2**64-1 (wrapping, as unsigned 64-bit input) and refuses larger ones."""
    evaluation = relation.evaluate({key: filled[key] for key in relation.line_keys})
    return bool(evaluation.holds[0]), int(evaluation.left[0]), int(evaluation.right[0])
