"""Matplotlib figures of the forensic statistics, rendered off-screen (Agg) to PNG and SVG.

No pyplot: each figure is a standalone `matplotlib.figure.Figure` on an Agg canvas, so rendering
is thread-safe in a web process and leaves no global state behind. The data behind every figure
is the result object it is drawn from (`Fingerprint`, `Histogram`, `ShpilkinEstimate`, …), as
columns in `tables`.
SVG output is reproducible: no date in the metadata and a fixed hash salt for element ids.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from pollwatch.core.forensics.distributions import Fingerprint, Histogram
from pollwatch.core.forensics.integer_percentages import IntegerPercentageTest
from pollwatch.core.forensics.klimek import KlimekFit
from pollwatch.core.forensics.shpilkin import ShpilkinEstimate
from pollwatch.core.forensics.stations import StationResults
from pollwatch.core.forensics.tables import percentage_histograms

DPI = 100


@dataclass(frozen=True)
class RenderedFigure:
    png: bytes
    svg: bytes


def render(figure: Figure) -> RenderedFigure:
    FigureCanvasAgg(figure)
    png, svg = io.BytesIO(), io.BytesIO()
    with mpl.rc_context({"svg.hashsalt": "pollwatch"}):
        figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
        figure.savefig(svg, format="svg", metadata={"Date": None})
    return RenderedFigure(png=png.getvalue(), svg=svg.getvalue())


def fingerprint_figure(fingerprint: Fingerprint, title: str = "") -> Figure:
    figure = Figure(figsize=(6, 5))
    axes = figure.add_subplot()
    counts = np.where(fingerprint.counts > 0, fingerprint.counts, np.nan)
    image = axes.pcolormesh(
        100 * fingerprint.turnout_edges,
        100 * fingerprint.share_edges,
        counts.T,
        norm=LogNorm() if np.nanmax(counts, initial=0) > 0 else None,
        cmap="viridis",
        rasterized=True,  # ten thousand cells would make a megabyte of SVG paths
    )
    figure.colorbar(image, ax=axes, label=fingerprint.weighting)
    axes.set_xlabel("Turnout, %")
    axes.set_ylabel("Leader's share, %")
    axes.set_title(title or f"Election fingerprint (weighted by {fingerprint.weighting})")
    return figure


def distributions_figure(turnout: Histogram, share: Histogram, title: str = "") -> Figure:
    figure = Figure(figsize=(8, 4))
    axes = figure.add_subplot()
    for histogram, label in ((turnout, "turnout"), (share, "leader's share")):
        axes.stairs(histogram.counts, 100 * histogram.edges, label=label)
    axes.set_xlabel("%")
    axes.set_ylabel(turnout.weighting)
    axes.legend()
    axes.set_title(title or "Turnout and leader's share")
    return figure


def integer_percentages_figure(results: StationResults, test: IntegerPercentageTest) -> Figure:
    """Included stations by turnout and by share in 0.1 % bins: spikes at integers."""
    figure = Figure(figsize=(8, 5))
    edges, by_turnout, by_share = percentage_histograms(results, test)
    for row, (counts, label, count) in enumerate(
        (
            (by_turnout, "turnout", test.turnout),
            (by_share, "leader's share", test.leader_share),
        )
    ):
        axes = figure.add_subplot(2, 1, row + 1)
        axes.stairs(counts, edges, linewidth=0.6)
        axes.set_ylabel("stations")
        axes.set_title(
            f"{label}: {count.observed:,} near an integer, expected {count.expected:,.0f}"
            f" ± {count.sd:,.0f}",
            fontsize="medium",
        )
    axes.set_xlabel("%")
    figure.tight_layout()
    return figure


def shpilkin_figure(estimate: ShpilkinEstimate) -> Figure:
    figure = Figure(figsize=(8, 4))
    axes = figure.add_subplot()
    edges = 100 * estimate.edges
    axes.stairs(estimate.leader_votes, edges, label="leader")
    axes.stairs(estimate.other_votes, edges, label="others and invalid")
    axes.stairs(estimate.expected_leader_votes, edges, label="leader, expected", linestyle="--")
    axes.axvline(100 * estimate.peak_turnout, color="grey", linewidth=0.8)
    axes.set_xlabel("Turnout, %")
    axes.set_ylabel("votes")
    axes.legend()
    axes.set_title(
        f"Peak {100 * estimate.peak_turnout:.1f} %, leader {100 * estimate.peak_share:.1f} %;"
        f" excess {estimate.excess:,.0f} votes",
        fontsize="medium",
    )
    return figure


def klimek_figure(fit: KlimekFit) -> Figure:
    figure = Figure(figsize=(12, 4))
    edges = 100 * fit.edges
    panels = (
        (fit.observed, "observed"),
        (fit.fitted, f"model: f_i = {fit.incremental:.2f}, f_e = {fit.extreme:.2f}"),
        (fit.fair_only, "fair model (f_i = f_e = 0)"),
    )
    top = max(float(p.max()) for p, _ in panels) or 1.0
    for column, (histogram, title) in enumerate(panels):
        axes = figure.add_subplot(1, 3, column + 1)
        axes.pcolormesh(
            edges, edges, histogram.T, vmin=0.0, vmax=top, cmap="viridis", rasterized=True
        )
        axes.set_title(title, fontsize="medium")
        axes.set_xlabel("Turnout, %")
        if column == 0:
            axes.set_ylabel("Leader's share, %")
    figure.tight_layout()
    return figure
