"""A PVT plan for an election in the database: its design by the NDI formula, and its sample.

The frame is the registry (every polling station, stratified by region); the sample is drawn
once, with a recorded seed, and kept: observers are sent to its stations, so it must never
change under them. Every formula is core.pvt's; this module only reads the frame and writes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pollwatch.accounts.audit import record_action
from pollwatch.analysis.data_state import data_state
from pollwatch.analysis.election_figures import registry_frame
from pollwatch.analysis.models import PvtPlan, PvtSampleStation, PvtStratum
from pollwatch.analysis.pvt_sample import HEADER
from pollwatch.core.forensics.source import StationFigures
from pollwatch.core.protocol import TemplateError
from pollwatch.core.pvt import (
    HANDBOOK_Z,
    FrameError,
    SampleSizeError,
    SamplingFrame,
    ndi_sample_size,
    stations_for,
    stratified_sample,
)
from pollwatch.core.pvt.frame import MIN_PER_STRATUM
from pollwatch.registry.models import Election


class PlanError(ValueError):
    """A design or a draw that cannot be made; nothing was stored."""


@dataclass(frozen=True)
class Design:
    margin: float  # E, a fraction
    confidence: str  # "0.95" or "0.99"
    z: float
    share: float  # P, a fraction
    frame_stations: int
    frame_voters: int  # N
    voters_needed: float  # n, unrounded
    stations_needed: int  # n over the average registered voters per station, rounded up
    minimum_stations: int  # MIN_PER_STRATUM in every region: the least a draw accepts

    @property
    def suggested_size(self) -> int:
        return max(self.stations_needed, self.minimum_stations)


def sample_frame(election: Election) -> tuple[StationFigures, SamplingFrame]:
    """The registry as a frame, one stratum per region."""
    try:
        figures = registry_frame(election)
    except TemplateError as error:  # a template an administrator broke in the admin
        raise PlanError(str(error)) from None
    frame = SamplingFrame(
        station_ids=figures.rows.astype(np.int64),
        stratum=figures.region,
        registered=figures.registered,
        stratum_names=figures.region_names,
    )
    return figures, frame


@dataclass(frozen=True)
class FrameSummary:
    """What the design needs of the frame: a few numbers, not a million stations."""

    stations: int
    voters: int
    minimum_stations: int  # MIN_PER_STRATUM in every region: the least a draw accepts


def summary_of(frame: SamplingFrame) -> FrameSummary:
    return FrameSummary(
        stations=len(frame.station_ids),
        voters=int(frame.registered.sum()),
        minimum_stations=int(np.minimum(frame.stratum_sizes(), MIN_PER_STRATUM).sum()),
    )


def frame_summary(election: Election) -> FrameSummary:
    """The registry's summary, read once per data state (the design page is public)."""
    key = f"pollwatch:pvt-frame:{election.pk}:{data_state(election)}"
    summary: FrameSummary | None = cache.get(key)
    if summary is None:
        summary = summary_of(sample_frame(election)[1])
        cache.set(key, summary, 24 * 3600)
    return summary


def design(frame: FrameSummary, margin: float, confidence: str, share: float) -> Design:
    stations, voters = frame.stations, frame.voters
    if not stations or voters < 1:
        raise PlanError(_("The registry has no polling stations with registered voters yet."))
    if confidence not in HANDBOOK_Z:
        raise PlanError(
            _("Confidence level must be one of %(levels)s.") % {"levels": ", ".join(HANDBOOK_Z)}
        )
    z = HANDBOOK_Z[confidence]
    try:
        needed = ndi_sample_size(voters, margin, z, share)
        per_station = stations_for(needed, voters / stations)
    except SampleSizeError as error:
        raise PlanError(str(error)) from None
    return Design(
        margin=margin,
        confidence=confidence,
        z=z,
        share=share,
        frame_stations=stations,
        frame_voters=voters,
        voters_needed=needed,
        stations_needed=min(per_station, stations),
        minimum_stations=frame.minimum_stations,
    )


def draw_plan(
    election: Election,
    user: User,
    *,
    margin: float,
    confidence: str,
    share: float,
    seed: int,
    size: int | None = None,
) -> PvtPlan:
    """Draw the sample (``size`` stations, default the design's) and keep it with its design."""
    figures, frame = sample_frame(election)
    planned = design(summary_of(frame), margin, confidence, share)
    size = planned.suggested_size if size is None else size
    if PvtPlan.objects.filter(election=election).exists():
        raise PlanError(_("A sample has already been drawn for this election; it stays as drawn."))
    try:
        sample = stratified_sample(frame, size, seed)
    except FrameError as error:
        raise PlanError(str(error)) from None
    try:
        with transaction.atomic():
            plan = PvtPlan.objects.create(
                election=election,
                margin=margin,
                confidence=float(confidence),
                z=planned.z,
                share=share,
                voters_needed=planned.voters_needed,
                sample_size=len(sample.indices),
                seed=seed,
                frame_stations=planned.frame_stations,
                frame_voters=planned.frame_voters,
                drawn_at=timezone.now(),
                drawn_by=user,
            )
            strata = PvtStratum.objects.bulk_create(
                PvtStratum(
                    plan=plan,
                    position=k,
                    name=frame.stratum_names[k] if k < len(frame.stratum_names) else str(k),
                    population=int(sample.population[k]),
                    allocated=int(sample.allocated[k]),
                )
                for k in range(len(sample.population))
            )
            PvtSampleStation.objects.bulk_create(
                PvtSampleStation(
                    plan=plan,
                    station_id=int(figures.rows[i]),
                    stratum=strata[int(frame.stratum[i])],
                )
                for i in sample.indices.tolist()
            )
            record_action(user, "pvt_plan.draw", plan, None, plan_state(plan))
    except IntegrityError:  # drawn by someone else a moment ago
        raise PlanError(
            _("A sample has already been drawn for this election; it stays as drawn.")
        ) from None
    return plan


def plan_state(plan: PvtPlan) -> dict[str, object]:
    """What the audit log keeps of a plan: its design and how to redraw the same sample."""
    return {
        "election": plan.election.slug,
        "margin": plan.margin,
        "confidence": plan.confidence,
        "share": plan.share,
        "sample_size": plan.sample_size,
        "seed": plan.seed,
        "frame_stations": plan.frame_stations,
    }


def write_plan_csv(plan: PvtPlan, out: Any) -> None:
    """The plan's sample in `pvt_sample`'s CSV layout; a station's `row` is its id."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    rows = plan.stations.order_by("stratum__position", "station__code").values_list(
        "station__code", "stratum__name", "stratum__population", "station_id"
    )
    writer.writerows(rows.iterator())
