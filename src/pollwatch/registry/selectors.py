"""Read queries behind the registry's pages.

Each one is an indexed lookup or reads a bounded number of rows, so the pages stay fast for a
million-station election: totals come from the counters the structure import keeps on
Commission, never from counting or summing stations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Length

from pollwatch.registry.models import Commission, Election, PollingStation

# How many parent levels one query joins. Real hierarchies are 3-5 deep (central → regional →
# territorial → precinct); a deeper one costs one more query per this many levels.
JOINED_PARENT_LEVELS = 6
_PARENT_CHAIN = "__".join(["parent"] * JOINED_PARENT_LEVELS)
_PARENT_FIELD = Commission._meta.get_field("parent")

# A station number is short; the search shows at most this many stations sharing one number.
MAX_SEARCH_RESULTS = 50


@dataclass(frozen=True)
class Totals:
    station_count: int
    registered_voters: int


def elections_with_totals() -> QuerySet[Election]:
    """Every election, annotated with `station_count` and `registered_voters`.

    The sums run over the top-level commissions only, whose counters already cover their
    whole subtree.
    """
    top_level = Q(commissions__parent__isnull=True)
    return Election.objects.annotate(
        station_count=Coalesce(Sum("commissions__station_count", filter=top_level), 0),
        registered_voters=Coalesce(Sum("commissions__registered_voters", filter=top_level), 0),
    )


def top_level_commissions(election: Election) -> list[Commission]:
    return list(Commission.objects.filter(election=election, parent=None).order_by("code"))


def totals(commissions: Iterable[Commission]) -> Totals:
    """The totals over disjoint subtrees, from their roots' counters."""
    station_count = registered_voters = 0
    for commission in commissions:
        station_count += commission.station_count
        registered_voters += commission.registered_voters
    return Totals(station_count, registered_voters)


def commissions_with_ancestors() -> QuerySet[Commission]:
    """Commissions fetched with their election and parents in the same query."""
    return Commission.objects.select_related("election", _PARENT_CHAIN)


def stations_with_commission_path() -> QuerySet[PollingStation]:
    """Stations fetched with their election and commission path in the same query."""
    return PollingStation.objects.select_related("election", f"commission__{_PARENT_CHAIN}")


def commission_path(commission: Commission) -> list[Commission]:
    """The commissions from the top level down to `commission`, inclusive.

    Free when the parents were joined (see `commissions_with_ancestors`); otherwise one query
    per JOINED_PARENT_LEVELS levels.
    """
    path = [commission]
    node = commission
    while node.parent_id is not None:
        if _PARENT_FIELD.is_cached(node):
            parent = node.parent
            assert parent is not None  # parent_id is set
        else:
            parent = Commission.objects.select_related(_PARENT_CHAIN).get(pk=node.parent_id)
        path.append(parent)
        node = parent
    path.reverse()
    return path


def child_commissions(commission: Commission) -> QuerySet[Commission]:
    children = Commission.objects.filter(election_id=commission.election_id, parent=commission)
    return children.order_by("code")


def stations_of(commission: Commission) -> QuerySet[PollingStation]:
    """The stations a commission runs directly (not those of its sub-commissions).

    In number order as people count (9 before 10): shorter numbers first. A commission runs a
    few hundred stations at most, so sorting them is cheap; the code keeps pages stable.
    """
    stations = PollingStation.objects.filter(commission=commission)
    return stations.order_by(Length("number"), "number", "code")


def stations_by_number(election: Election, number: str) -> list[PollingStation]:
    """Stations whose number is exactly `number`; numbers can repeat across regions."""
    return list(
        PollingStation.objects.filter(election=election, number=number)
        .select_related("commission__parent")
        .order_by("code")[:MAX_SEARCH_RESULTS]
    )
