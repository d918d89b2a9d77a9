"""Forensics reports of an election in the database: computed once per data state, then kept.

The whole suite with Klimek's fit takes up to a minute on a national election, far too long for
a request. So a page asks for the report of the current data state (``data_state``); if none
exists, one computation is claimed in the database (at most one per election and source at a
time, across every app process) and runs in a background thread, while the page shows the
latest finished report and says a newer one is on its way. Results are stored as JSON and the
figures rendered once as PNG and SVG, so serving them costs a row read.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pollwatch.accreditation.models import Assignment
from pollwatch.analysis.data_state import data_state
from pollwatch.analysis.election_figures import (
    ElectionFiguresError,
    observed_station_figures,
    official_station_figures,
)
from pollwatch.analysis.figure_files import report_figures
from pollwatch.analysis.forensics_output import ForensicsRun, report_json
from pollwatch.analysis.models import FiguresSource, ForensicsFigure, ForensicsReport
from pollwatch.core.forensics import ForensicsInputError, forensics_report
from pollwatch.core.forensics.figures import render
from pollwatch.core.forensics.klimek import fit
from pollwatch.core.forensics.observers import Difference, ObserverEffect, RegionDifferences
from pollwatch.official.models import OfficialResult
from pollwatch.registry.models import Election

logger = logging.getLogger(__name__)

Status = ForensicsReport.Status
SEED = 0  # bootstrap and simulations: the same data always gives the same report
# A computation still "computing" after this long died with its process: it may be redone.
ABANDONED_AFTER = timedelta(minutes=30)
# A report of older data is brought up to date at most this often.
REFRESH_INTERVAL = timedelta(minutes=5)
KEPT_REPORTS = 3  # per election and source: older ones (and their figures) are deleted
# The figures a report renders, in the order the page shows them.
FIGURES = (
    "fingerprint",
    "fingerprint-voters",
    "turnout-and-share",
    "integer-percentages",
    "shpilkin",
    "klimek",
)


def has_official_results(election: Election) -> bool:
    return OfficialResult.objects.filter(
        election=election, current=True, station__isnull=False
    ).exists()


def latest_report(election: Election, source: str) -> ForensicsReport | None:
    """The newest finished report (ready or failed), whatever data state it was computed on."""
    return (
        ForensicsReport.objects.filter(election=election, source=source)
        .exclude(status=Status.COMPUTING)
        .order_by("-finished_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class ReportRequest:
    """What a page shows: the latest finished report, whether it is the current data's, and
    whether a newer one is being computed or waits for the refresh interval."""

    shown: ForensicsReport | None
    current: bool  # `shown` was computed on the data as it is now
    computing: bool
    next_refresh: datetime | None  # when an outdated report will be recomputed, if waiting


def request_report(election: Election, source: str) -> ReportRequest:
    """The report of the data as it is now, claiming its computation if nobody computes it
    yet — one at a time per election and source, and at most once per REFRESH_INTERVAL: on
    election night copies arrive every second, and each would otherwise start a fit."""
    state = data_state(election)
    latest = latest_report(election, source)
    current = ForensicsReport.objects.filter(election=election, source=source, state=state).first()
    if current is not None and not _abandoned(current):
        computing = current.status == Status.COMPUTING
        return ReportRequest(latest if computing else current, not computing, computing, None)
    running = ForensicsReport.objects.filter(
        election=election, source=source, status=Status.COMPUTING
    ).first()
    if running is not None and not _abandoned(running):
        return ReportRequest(latest, False, True, None)
    if latest is not None and latest.finished_at is not None:
        next_refresh = latest.finished_at + REFRESH_INTERVAL
        if timezone.now() < next_refresh:
            return ReportRequest(latest, False, False, next_refresh)
    claimed = _claim(election, source, state)
    if claimed is not None:
        run_in_background(compute_report, claimed.pk)
        claimed.refresh_from_db()  # computed already, when run in this thread (tests)
        if claimed.status != Status.COMPUTING:
            return ReportRequest(claimed, True, False, None)
    return ReportRequest(latest, False, True, None)


def _abandoned(report: ForensicsReport) -> bool:
    return (
        report.status == Status.COMPUTING and timezone.now() - report.started_at > ABANDONED_AFTER
    )


def _claim(election: Election, source: str, state: str) -> ForensicsReport | None:
    try:
        with transaction.atomic():
            ForensicsReport.objects.filter(
                election=election,
                source=source,
                status=Status.COMPUTING,
                started_at__lt=timezone.now() - ABANDONED_AFTER,
            ).delete()
            ForensicsReport.objects.filter(election=election, source=source, state=state).delete()
            return ForensicsReport.objects.create(
                election=election,
                source=source,
                state=state,
                status=Status.COMPUTING,
                started_at=timezone.now(),
            )
    except IntegrityError:  # another process claimed it between our read and our write
        return None


def run_in_background(function: Callable[[int], None], report_id: int) -> None:
    """Run ``function(report_id)`` in a daemon thread with its own database connection."""

    def target() -> None:
        try:
            function(report_id)
        finally:
            connections.close_all()  # this thread's connections only

    threading.Thread(target=target, name=f"forensics-report-{report_id}", daemon=True).start()


def compute_report(report_id: int) -> None:
    """Compute a claimed report and store its results and figures (or why it failed)."""
    report = ForensicsReport.objects.select_related("election__template").get(pk=report_id)
    try:
        results, figures = _compute(report.election, report.source)
    except (ElectionFiguresError, ForensicsInputError, ValueError) as error:
        _finish(report, Status.FAILED, error=str(error))
    except Exception:
        logger.exception("forensics report %s failed", report_id)
        _finish(report, Status.FAILED, error=_("The computation failed; see the server's log."))
        raise
    else:
        with transaction.atomic():
            ForensicsFigure.objects.bulk_create(
                ForensicsFigure(report=report, name=name, png=png, svg=svg)
                for name, (png, svg) in figures.items()
            )
            _finish(report, Status.READY, results=results)
            _prune(report)


def _prune(report: ForensicsReport) -> None:
    """Keep the newest KEPT_REPORTS finished reports of the election and source (figures are
    hundreds of kilobytes, and election night makes a new state every few minutes)."""
    finished = ForensicsReport.objects.filter(
        election_id=report.election_id, source=report.source
    ).exclude(status=Status.COMPUTING)
    keep = finished.order_by("-finished_at", "-pk").values_list("pk", flat=True)[:KEPT_REPORTS]
    finished.exclude(pk__in=list(keep)).delete()


def _finish(
    report: ForensicsReport, status: str, results: dict[str, Any] | None = None, error: str = ""
) -> None:
    report.status = status
    report.results = results
    report.error = error
    report.finished_at = timezone.now()
    report.save(update_fields=["status", "results", "error", "finished_at"])


def _compute(
    election: Election, source: str
) -> tuple[dict[str, Any], dict[str, tuple[bytes, bytes]]]:
    if source == FiguresSource.OBSERVED:
        figures = observed_station_figures(election)
        observed = None  # every station here has observers: nothing to compare with
    else:
        figures = official_station_figures(election)
        observed = _with_assignment(election, figures.rows)
    if not figures.stations:
        raise ElectionFiguresError(_("No station has complete figures yet."))
    results = figures.results()
    report = forensics_report(results, observed, seed=SEED)
    klimek = fit(results, seed=SEED)
    run = ForensicsRun(report, figures.source, figures.stations, figures.leader, klimek, [])
    data = report_json(run)
    del data["observers_note"], data["figures"]
    data["observers"] = (
        None if report.observers is None else observers_json(report.observers, figures)
    )
    data["seed"] = SEED
    rendered = {
        name: render(figure) for name, figure in report_figures(results, report, klimek).items()
    }
    return _finite(data), {name: (r.png, r.svg) for name, r in rendered.items()}


def _with_assignment(election: Election, station_ids: np.ndarray) -> np.ndarray | None:
    """Per station: has an observer been assigned to it? None if nobody was assigned anywhere."""
    assigned = np.fromiter(
        Assignment.objects.filter(station__election=election)
        .values_list("station_id", flat=True)
        .distinct(),
        dtype=np.int64,
    )
    if not assigned.size:
        return None
    return np.isin(station_ids, assigned)


def observers_json(effect: ObserverEffect, figures: Any) -> dict[str, Any]:
    def difference(d: Difference) -> dict[str, Any]:
        return {
            "observed_mean": d.observed_mean,
            "unobserved_mean": d.unobserved_mean,
            "difference": d.difference,
            "se": d.se,
            "ci_low": d.ci_low,
            "ci_high": d.ci_high,
            "significant": d.significant,
        }

    def regions(turnout: RegionDifferences, share: RegionDifferences) -> list[dict[str, Any]]:
        return [
            {
                "region": name,
                "observed": int(turnout.observed[k]),
                "unobserved": int(turnout.unobserved[k]),
                "turnout_difference": float(turnout.difference[k]),
                "share_difference": float(share.difference[k]),
                "weight": float(turnout.weight[k]),
            }
            for k, name in enumerate(figures.region_names)
        ]

    return {
        "level": effect.level,
        "observed_stations": int(effect.turnout_by_region.observed.sum()),
        "unobserved_stations": int(effect.turnout_by_region.unobserved.sum()),
        "turnout": difference(effect.turnout),
        "leader_share": difference(effect.leader_share),
        "turnout_unstratified": difference(effect.turnout_unstratified),
        "leader_share_unstratified": difference(effect.leader_share_unstratified),
        "regions": regions(effect.turnout_by_region, effect.leader_share_by_region),
    }


def _finite(value: Any) -> Any:
    """JSON (and PostgreSQL's jsonb) has no NaN or infinity: an undefined statistic is null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
