"""Why a submission (a protocol copy, a photo, a device key) was refused: its kind (the HTTP
status the API answers with) and every problem, each naming its field. Nothing was written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class RefusalKind(StrEnum):
    INVALID = "invalid"  # the submission itself is wrong (HTTP 422)
    FORBIDDEN = "forbidden"  # this user may not submit it (403)
    CONFLICT = "conflict"  # the id is taken by a different submission (409)


@dataclass(frozen=True)
class Problem:
    field: str | None  # "figures.yes", "station", "photos[0]", …; None: the whole submission
    message: str


class SubmissionRefused(Exception):
    """A submission that was not stored, and every reason why; nothing was written."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        kind: RefusalKind = RefusalKind.INVALID,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.kind = kind
        self.problems: tuple[Problem, ...] = tuple(problems) or (Problem(field, message),)

    @classmethod
    def listing(cls, problems: Sequence[Problem]) -> SubmissionRefused:
        first = problems[0]
        return cls(first.message, field=first.field, problems=problems)
