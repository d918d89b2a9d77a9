"""Write a forensics report's figures into a directory, each as PNG and SVG."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from matplotlib.figure import Figure

from pollwatch.core.forensics import ForensicsReport, StationResults
from pollwatch.core.forensics.figures import (
    distributions_figure,
    fingerprint_figure,
    integer_percentages_figure,
    klimek_figure,
    render,
    shpilkin_figure,
)
from pollwatch.core.forensics.klimek import KlimekFit


def report_figures(
    results: StationResults, report: ForensicsReport, klimek: KlimekFit | None
) -> dict[str, Figure]:
    """File stem → figure."""
    figures = {
        "fingerprint": fingerprint_figure(report.fingerprint["stations"]),
        "fingerprint-voters": fingerprint_figure(report.fingerprint["voters"]),
        "shpilkin": shpilkin_figure(report.shpilkin),
        "integer-percentages": integer_percentages_figure(results, report.integer_percentages),
        "turnout-and-share": distributions_figure(
            report.turnout["stations"], report.leader_share["stations"]
        ),
    }
    if klimek is not None:
        figures["klimek"] = klimek_figure(klimek)
    return figures


def write_figures(directory: Path, figures: dict[str, Figure]) -> list[str]:
    """Write every figure as <stem>.png and <stem>.svg; the paths written, in order."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for stem, figure in figures.items():
            rendered = render(figure)
            for suffix, data in ((".png", rendered.png), (".svg", rendered.svg)):
                path = directory / f"{stem}{suffix}"
                path.write_bytes(data)
                written.append(str(path))
    except OSError as error:
        raise CommandError(
            _("%(dir)s: cannot write the figures (%(error)s)")
            % {"dir": directory, "error": error.strerror or error}
        ) from None
    return written
