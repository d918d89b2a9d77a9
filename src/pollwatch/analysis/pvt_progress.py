"""A PVT plan's progress and estimate: which sample stations reported, what they say.

A sample station has reported when the observers' copies agree on a whole protocol (the
observers' consensus, as `pvt estimate --election` reads it). The estimate is core.pvt's
stratified ratio estimator over the reported stations; the official result stands beside it
once one is published (``pvt_output.estimate_report``), and until then the estimate stands
alone. Computed once per data state and kept in Django's cache (per process): reading every
copy of a big election is not a per-request job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.core.cache import cache
from django.utils import timezone

from pollwatch.analysis import pvt_output
from pollwatch.analysis.data_state import data_state
from pollwatch.analysis.election_figures import (
    ElectionFiguresError,
    observed_station_figures,
    official_station_figures,
)
from pollwatch.analysis.forensics_reports import has_official_results
from pollwatch.analysis.models import PvtPlan
from pollwatch.core.protocol import TemplateError
from pollwatch.core.pvt import PvtEstimate, pvt_estimate

CACHE_SECONDS = 24 * 3600
REFRESH_SECONDS = 30


@dataclass(frozen=True)
class StratumProgress:
    name: str
    population: int  # N_h
    allocated: int  # n_h
    reported: int


@dataclass(frozen=True)
class EstimateRow:
    name: str
    estimate: float
    moe95: float
    moe99: float
    official: float | None
    difference: float | None
    within95: bool | None
    within99: bool | None


@dataclass(frozen=True)
class PvtProgress:
    strata: list[StratumProgress]
    sample: int
    reported: int
    strata_missing: int
    options: list[EstimateRow]  # empty until a station reports
    turnout: EstimateRow | None
    official_published: bool
    problem: str | None  # why there is no estimate although stations reported
    computed_at: datetime = field(default_factory=timezone.now)


def plan_progress(plan: PvtPlan) -> PvtProgress:
    """The plan's progress on the data as it is, or as it was at most REFRESH_SECONDS ago:
    on election night copies arrive every second, and each would otherwise mean a recount."""
    key = f"pollwatch:pvt:{plan.pk}:{plan.drawn_at.timestamp()}"
    state = data_state(plan.election)
    kept: tuple[str, PvtProgress] | None = cache.get(key)
    if kept is not None:
        kept_state, progress = kept
        age = (timezone.now() - progress.computed_at).total_seconds()
        if kept_state == state or age < REFRESH_SECONDS:
            return progress
    progress = _progress(plan)
    cache.set(key, (state, progress), CACHE_SECONDS)
    return progress


def _progress(plan: PvtPlan) -> PvtProgress:
    election = plan.election
    strata = list(plan.strata.order_by("position"))
    sample = dict(plan.stations.values_list("station_id", "stratum__position"))
    population = np.array([s.population for s in strata], dtype=np.int64)
    try:
        observed = observed_station_figures(election)
    except (ElectionFiguresError, TemplateError) as error:
        return _without_estimate(strata, sample, np.zeros(0, dtype=np.intp), str(error))
    reporting = np.flatnonzero(np.isin(observed.rows, np.fromiter(sample, dtype=np.int64)))
    reported = observed.take(reporting)
    stratum = np.array([sample[int(pk)] for pk in reported.rows.tolist()], dtype=np.intp)
    if not reported.stations:
        return _without_estimate(strata, sample, stratum, None)
    try:
        estimate = pvt_estimate(
            reported.options,
            reported.counted,
            reported.issued,
            reported.registered,
            stratum,
            population,
        )
    except ValueError as error:
        return _without_estimate(strata, sample, stratum, str(error))
    official = has_official_results(election)
    if official:
        report = pvt_output.estimate_report(
            estimate, official_station_figures(election), len(sample), len(strata)
        )
        data = pvt_output.report_json(report)
        options = [_row(o["name"], o) for o in data["options"]]
        turnout = _row("", data["turnout"])
    else:
        options, turnout = _estimate_alone(estimate, reported.option_names)
    return PvtProgress(
        strata=_strata(strata, stratum),
        sample=len(sample),
        reported=estimate.reported,
        strata_missing=estimate.strata_missing,
        options=options,
        turnout=turnout,
        official_published=official,
        problem=None,
    )


def _row(name: str, data: dict[str, Any]) -> EstimateRow:
    return EstimateRow(
        name=name,
        estimate=data["estimate"],
        moe95=data["moe95"],
        moe99=data["moe99"],
        official=data.get("official"),
        difference=data.get("difference"),
        within95=data.get("within95"),
        within99=data.get("within99"),
    )


def _estimate_alone(
    estimate: PvtEstimate, names: tuple[str, ...]
) -> tuple[list[EstimateRow], EstimateRow]:
    def alone(name: str, value: Any, moe95: Any, moe99: Any) -> EstimateRow:
        return EstimateRow(name, float(value), float(moe95), float(moe99), None, None, None, None)

    shares, turnout = estimate.shares, estimate.turnout
    options = [
        alone(name, shares.value[k], shares.moe95[k], shares.moe99[k])
        for k, name in enumerate(names)
    ]
    return options, alone("", turnout.value, turnout.moe95, turnout.moe99)


def _strata(strata: list[Any], stratum: np.ndarray) -> list[StratumProgress]:
    counts = np.bincount(stratum, minlength=len(strata))
    return [
        StratumProgress(s.name, s.population, s.allocated, int(counts[k]))
        for k, s in enumerate(strata)
    ]


def _without_estimate(
    strata: list[Any], sample: dict[int, int], stratum: np.ndarray, problem: str | None
) -> PvtProgress:
    return PvtProgress(
        strata=_strata(strata, stratum),
        sample=len(sample),
        reported=len(stratum),
        strata_missing=sum(1 for s in strata if s.allocated),
        options=[],
        turnout=None,
        official_published=False,
        problem=problem,
    )
