"""The registry's API shapes: what the read endpoints return and the filters they accept."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.db.models import Q
from ninja import Field, FilterLookup, FilterSchema, Schema
from pydantic import field_validator, model_validator

from pollwatch.registry.models import Commission, Election, ElectionKind, PollingStation
from pollwatch.registry.selectors import Totals

ROOT = "root"


class ErrorOut(Schema):
    detail: str = Field(description="What was wrong, naming the parameter or id.")


class BallotOptionOut(Schema):
    line_key: str = Field(description="The protocol line that carries this option's votes.")
    name: str
    position: int = Field(description="Position on the ballot, from 1.")


class TotalsOut(Schema):
    station_count: int
    registered_voters: int


class ElectionOut(Schema):
    slug: str
    name: str
    kind: ElectionKind
    date: datetime.date = Field(description="Election day.")
    time_zone: str
    languages: list[str] = Field(description="Languages of the election's documents.")
    # Read from an annotation (see api._elections), not a resolver: the detail schema is built
    # from this one's output, and resolvers would run again on that.
    template_key: str = Field(description="Key of the election's count-protocol template.")


class ElectionDetailOut(ElectionOut):
    options: list[BallotOptionOut] = Field(description="Ballot options in ballot order.")
    totals: TotalsOut = Field(description="Stations and registered voters of the whole election.")

    @classmethod
    def build(cls, election: Election, totals: Totals) -> ElectionDetailOut:
        return cls(
            **ElectionOut.from_orm(election).model_dump(),
            options=[BallotOptionOut.from_orm(option) for option in election.options.all()],
            totals=TotalsOut(
                station_count=totals.station_count, registered_voters=totals.registered_voters
            ),
        )


class CommissionRef(Schema):
    id: int
    code: str
    name: str
    level: str = Field(description="The tier in the election's words (region, territory, …).")
    depth: int = Field(description="0 at the top level.")


class CommissionOut(CommissionRef):
    parent_id: int | None = Field(description="Null for a top-level commission.")
    station_count: int = Field(description="Stations in this commission's whole subtree.")
    registered_voters: int = Field(description="Registered voters in the whole subtree.")


class CommissionDetailOut(CommissionOut):
    parents: list[CommissionRef] = Field(description="Ancestors, top level first.")

    @classmethod
    def build(cls, path: list[Commission]) -> CommissionDetailOut:
        """`path` runs from the top level down to the commission itself."""
        *parents, commission = path
        return cls(
            **CommissionOut.from_orm(commission).model_dump(),
            parents=[CommissionRef.from_orm(parent) for parent in parents],
        )


class StationOut(Schema):
    id: int
    code: str
    number: str
    commission_id: int = Field(description="The commission directly above this station.")
    registered_voters: int
    address: str
    latitude: float | None
    longitude: float | None


class StationDetailOut(StationOut):
    commissions: list[CommissionRef] = Field(
        description="The commissions above this station, top level first, ending with its own."
    )

    @classmethod
    def build(cls, station: PollingStation, path: list[Commission]) -> StationDetailOut:
        return cls(
            **StationOut.from_orm(station).model_dump(),
            commissions=[CommissionRef.from_orm(commission) for commission in path],
        )


class CommissionFilter(FilterSchema):
    parent: str | None = Field(
        None,
        description=f"Only the direct children of this commission id; `{ROOT}` for top level.",
    )
    level: str | None = Field(None, description="Only commissions of this level (exact).")
    q: Annotated[str | None, FilterLookup(["name__icontains", "code__icontains"])] = Field(
        None,
        description=(
            "Name or code contains this text, ignoring case (on SQLite, the case of Latin "
            "letters only: SQLite's LIKE folds ASCII)."
        ),
    )

    @field_validator("parent")
    @classmethod
    def _parent_is_id_or_root(cls, value: str | None) -> str | None:
        if value is None or value == ROOT or (value.isdigit() and int(value) > 0):
            return value
        raise ValueError(f"parent must be a commission id (a positive integer) or '{ROOT}'")

    def parent_id(self) -> int | None:
        """The parent commission's id, if the filter names one (not `root`)."""
        if self.parent is None or self.parent == ROOT:
            return None
        return int(self.parent)

    def filter_parent(self, value: str | None) -> Q:
        if value is None:
            return Q()
        return Q(parent__isnull=True) if value == ROOT else Q(parent_id=int(value))


class StationFilter(FilterSchema):
    commission: Annotated[int | None, FilterLookup("commission_id")] = Field(
        None, gt=0, description="Only stations directly under this commission id."
    )
    number: str | None = Field(None, description="Station number as printed (exact).")
    code: str | None = Field(None, description="Station code (exact).")
    # Keyset paging: OFFSET n walks n index entries, `after` seeks straight to the page.
    after: Annotated[str | None, FilterLookup("code__gt")] = Field(
        None,
        description=(
            "Only stations whose code sorts after this one. Pass the last code of a page to get "
            "the next: unlike a large `offset`, this costs the same on the last page as on the "
            "first."
        ),
    )
    min_registered: Annotated[int | None, FilterLookup("registered_voters__gte")] = Field(
        None, ge=0, description="At least this many registered voters."
    )
    max_registered: Annotated[int | None, FilterLookup("registered_voters__lte")] = Field(
        None, ge=0, description="At most this many registered voters."
    )

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Any:
        low, high = self.min_registered, self.max_registered
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_registered ({low}) is greater than max_registered ({high})")
        return self

    def is_empty(self) -> bool:
        return all(value is None for value in self.model_dump().values())
