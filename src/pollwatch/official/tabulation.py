"""Tabulation from the database: official totals beside the observers', and the outcome of each.

Per commission at every level, three sets of totals over its stations: the official figures;
the official figures with the observers' consensus put in wherever they have one (the
question users ask first — would the outcome change?); and the observers' consensus alone,
over the stations they reached. The election's outcome rule decides from the first two.

Computed in one pass over the whole election (``core``, vectorised) and kept per process until
a new snapshot, copy or rule appears, so that drilling down costs a lookup, not a recount.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

import numpy as np
import numpy.typing as npt
from django.db.models import Count, Max

from pollwatch.core.crosscheck import Figures, Hierarchy, consensus, figures_for_stations
from pollwatch.core.crosscheck.layout import lay_out
from pollwatch.core.outcome import OutcomeComparison, would_outcome_change
from pollwatch.core.protocol import ProtocolTemplateSpec
from pollwatch.core.tabulation import Tabulation, tabulate
from pollwatch.findings.inputs import load_inputs
from pollwatch.findings.recheck import template_spec
from pollwatch.official.models import OfficialSnapshot, OutcomeRuleSetting
from pollwatch.official.outcome_rules import ElectionRule, default_rule, parse_rule
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.registry.models import Election


@dataclass(frozen=True)
class Totals:
    """One place's totals, line by line (template order)."""

    official: list[int]
    observed: list[int]  # official with the observers' consensus in its place
    consensus: list[int]  # the observers' consensus alone
    consensus_stations: int  # stations under it with an observers' consensus (any line)
    stations: int

    @property
    def differs(self) -> list[bool]:
        return [a != b for a, b in zip(self.official, self.observed, strict=True)]


@dataclass(frozen=True)
class ElectionTabulation:
    template: ProtocolTemplateSpec
    hierarchy: Hierarchy
    rule: ElectionRule
    comparison: OutcomeComparison
    consensus: Tabulation
    consensus_stations: npt.NDArray[np.int64]  # per commission
    stations_under: npt.NDArray[np.int64]  # per commission
    published_stations: int
    observed_stations: int
    regions: npt.NDArray[np.intp]

    def commission_index(self, commission_id: int) -> int | None:
        ids = self.hierarchy.commission_id()
        position = int(np.searchsorted(ids, commission_id))
        return position if position < ids.size and ids[position] == commission_id else None

    def national(self) -> Totals:
        return Totals(
            official=self.comparison.official_tabulation.national.tolist(),
            observed=self.comparison.observed_tabulation.national.tolist(),
            consensus=self.consensus.national.tolist(),
            consensus_stations=self.observed_stations,
            stations=self.hierarchy.stations,
        )

    def of(self, index: int) -> Totals:
        return Totals(
            official=self.comparison.official_tabulation.totals[index].tolist(),
            observed=self.comparison.observed_tabulation.totals[index].tolist(),
            consensus=self.consensus.totals[index].tolist(),
            consensus_stations=int(self.consensus_stations[index]),
            stations=int(self.stations_under[index]),
        )

    def children(self, index: int | None) -> list[tuple[int, Totals]]:
        """(commission id, totals) of the commissions directly under ``index`` (None: tops)."""
        parent = self.hierarchy.commission_parent
        under = np.flatnonzero(parent == (-1 if index is None else index))
        ids = self.hierarchy.commission_id()
        return [(int(ids[i]), self.of(int(i))) for i in under]

    def region_ids(self) -> set[int]:
        ids = self.hierarchy.commission_id()
        return {int(ids[i]) for i in self.comparison.regions_that_change}


def election_rule(election: Election, template: ProtocolTemplateSpec) -> ElectionRule:
    setting = OutcomeRuleSetting.objects.filter(election=election).first()
    if setting is None:
        return default_rule(template)
    return parse_rule(setting.rule, template)


def tabulate_election(election: Election) -> ElectionTabulation:
    """The election's tabulation, recomputed only when its data changed."""
    state = _state(election)
    with _LOCK:
        cached = _CACHE.get(election.pk)
        if cached is not None and cached[0] == state:
            _CACHE.move_to_end(election.pk)
            return cached[1]
    result = _compute(election)
    with _LOCK:
        _CACHE[election.pk] = (state, result)
        while len(_CACHE) > _KEEP:
            _CACHE.popitem(last=False)
    return result


def _compute(election: Election) -> ElectionTabulation:
    template = template_spec(election.template)
    rule = election_rule(election, template)
    inputs = load_inputs(election, template)
    hierarchy = inputs.hierarchy
    stations = hierarchy.stations
    official = figures_for_stations(inputs.official_stations, stations)
    agreement = consensus(lay_out(inputs.copies))
    observed = agreement.figures(stations)
    regions = (
        hierarchy.level(rule.region_depth)
        if rule.region_depth is not None
        else np.zeros(0, dtype=np.intp)
    )
    comparison = would_outcome_change(
        rule.rule, hierarchy, template.line_keys, official, observed, regions
    )
    observed_any = np.zeros(stations, dtype=np.int64)
    observed_any[agreement.station[agreement.agreed.any(axis=1)]] = 1
    ones = np.ones((stations, 1), dtype=np.int64)
    counted = tabulate(hierarchy, Figures.complete(np.c_[observed_any, ones]), ("observed", "all"))
    return ElectionTabulation(
        template=template,
        hierarchy=hierarchy,
        rule=rule,
        comparison=comparison,
        consensus=tabulate(hierarchy, observed, template.line_keys),
        consensus_stations=counted.totals[:, 0],
        stations_under=counted.totals[:, 1],
        published_stations=int(inputs.official_stations.place.size),
        observed_stations=int(observed_any.sum()),
        regions=regions,
    )


def _state(election: Election) -> tuple[object, ...]:
    """What the tabulation depends on, read cheaply: a change in any recomputes it."""
    snapshots = OfficialSnapshot.objects.filter(election=election).aggregate(
        last=Max("pk"), count=Count("pk"), at=Max("imported_at")
    )
    copies = ProtocolCopy.objects.filter(election=election).aggregate(
        last=Max("received_at"), count=Count("pk")
    )
    rule = OutcomeRuleSetting.objects.filter(election=election).values_list("rule", flat=True)
    template = election.template
    return (
        snapshots["last"], snapshots["count"], snapshots["at"],
        copies["last"], copies["count"], list(rule),
        election.template_id, template.lines, template.relations,
    )  # fmt: skip


_KEEP = 4
_LOCK = Lock()
_CACHE: OrderedDict[int, tuple[tuple[object, ...], ElectionTabulation]] = OrderedDict()
