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
    order = {key: index for index, key in enumerate(spec.line_keys)}
    feedback = []
    for relation in spec.relations:
        keys = relation.parsed.line_keys
        missing = tuple(sorted((k for k in keys if k not in filled), key=order.__getitem__))
        if missing:
            feedback.append(
                RelationFeedback(relation, RelationState.INCOMPLETE, None, None, missing)
            )
            continue
        evaluation = relation.evaluate({key: filled[key] for key in keys})
        holds = bool(evaluation.holds[0])
        feedback.append(
            RelationFeedback(
                relation,
                RelationState.HOLDS if holds else RelationState.BROKEN,
                int(evaluation.left[0]),
                int(evaluation.right[0]),
                (),
            )
        )
    return tuple(feedback)
