"""Limit/offset pagination that never walks a million stations for one page.

ninja's LimitOffsetPagination runs COUNT(*) over the whole filtered queryset on every page.
Over an election's stations that reads every row (a million in India) for each page of fifty.
Here the count is either a total the endpoint already knows (the commission totals kept by the
structure import) or an exact count that stops at COUNT_CAP rows: a client learns "more than
10,000" at the cost of reading at most 10,001 index entries, and narrow filters (one commission,
one station number) are always counted exactly.

OFFSET has the same trap: the database walks and discards every skipped row, so page 20,000 of
the stations costs a second. `offset` is therefore bounded by MAX_OFFSET; deeper pages are
reached by narrowing the filters or, for stations, by the `after` keyset filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.conf import settings as ninja_settings
from ninja.pagination import LimitOffsetPagination, PaginationBase
from pydantic import field_validator

COUNT_CAP = 10_000
MAX_OFFSET = 10_000


@dataclass(frozen=True)
class Listing:
    """What a paginated endpoint returns: the rows, and their number when it is known cheaply."""

    rows: QuerySet[Any]
    known_count: int | None = None

    def count(self, cap: int, offset: int, page: list[Any], limit: int) -> tuple[int, bool]:
        """(count, exact): exact up to `cap`; beyond it, (cap, False)."""
        if self.known_count is not None:
            return self.known_count, True
        # A short page that is not past the end is the last one: its end is the count.
        if len(page) < limit and (page or offset == 0):
            return offset + len(page), True
        # Kept in the page's order, the capped count walks the index the page walks. Unordered,
        # PostgreSQL may pick a sequential scan that reads the whole table when the matches
        # lie late in it (`after` at 100,000 stations: 23 ms instead of 6 ms, growing with size).
        counted = self.rows[: cap + 1].count()
        return (counted, True) if counted <= cap else (cap, False)


class CappedLimitOffsetPagination(PaginationBase):
    """`limit`/`offset` as ninja's LimitOffsetPagination, with a bounded `count`.

    Endpoints return a Listing (or a bare queryset, counted up to the cap). Sync views only.
    """

    class Input(LimitOffsetPagination.Input):
        """`limit` (bounded by NINJA_PAGINATION_MAX_LIMIT) and a bounded `offset`."""

        limit: int = Field(
            ninja_settings.PAGINATION_PER_PAGE,
            ge=1,
            le=ninja_settings.PAGINATION_MAX_LIMIT,
            description=f"Items per page, at most {ninja_settings.PAGINATION_MAX_LIMIT:,}.",
        )
        offset: int = Field(
            0, ge=0, description=f"Items to skip, at most {MAX_OFFSET:,} (see `after`)."
        )

        @field_validator("offset")
        @classmethod
        def _offset_is_shallow(cls, offset: int) -> int:
            if offset > MAX_OFFSET:
                raise ValueError(
                    f"offset is limited to {MAX_OFFSET:,}: narrow the filters, or page stations "
                    "with `after` (the last code of the previous page)"
                )
            return offset

    class Output(Schema):
        items: list[Any]
        count: int = Field(
            description=(
                f"Number of matching items; when `count_exact` is false, there are more than "
                f"{COUNT_CAP:,} and counting them all is not worth the cost."
            )
        )
        count_exact: bool = Field(description="Whether `count` is the exact number of matches.")

    def __init__(self, count_cap: int = COUNT_CAP, **kwargs: Any) -> None:
        self.count_cap = count_cap
        super().__init__(**kwargs)

    def paginate_queryset(
        self,
        queryset: Listing | QuerySet[Any],
        pagination: Any,
        request: HttpRequest,
        **params: Any,
    ) -> dict[str, Any]:
        listing = queryset if isinstance(queryset, Listing) else Listing(queryset)
        offset, limit = pagination.offset, pagination.limit
        page = list(listing.rows[offset : offset + limit])
        count, exact = listing.count(self.count_cap, offset, page, limit)
        return {"items": page, "count": count, "count_exact": exact}
