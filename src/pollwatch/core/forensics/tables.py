"""The data behind each figure, as columns (name → values) ready for CSV, XLSX or JSON.

A published figure should come with its numbers (DESIGN §6: open data beside every statistic),
so that anyone can redraw it or check it without pollwatch.
"""

from __future__ import annotations

import numpy as np

from pollwatch.core.forensics.distributions import Fingerprint, Histogram
from pollwatch.core.forensics.integer_percentages import IntegerPercentageTest
from pollwatch.core.forensics.shpilkin import ShpilkinEstimate
from pollwatch.core.forensics.stations import FloatArray, StationResults

Table = dict[str, list[float]]
FINE_BINS = 1000  # 0.1 % bins: integer percentages show as spikes


def histogram_table(histogram: Histogram) -> Table:
    return {
        "low": histogram.edges[:-1].tolist(),
        "high": histogram.edges[1:].tolist(),
        histogram.weighting: histogram.counts.tolist(),
    }


def fingerprint_table(fingerprint: Fingerprint) -> Table:
    """Long format, one row per non-empty cell."""
    i, j = np.nonzero(fingerprint.counts)
    return {
        "turnout_low": fingerprint.turnout_edges[i].tolist(),
        "turnout_high": fingerprint.turnout_edges[i + 1].tolist(),
        "share_low": fingerprint.share_edges[j].tolist(),
        "share_high": fingerprint.share_edges[j + 1].tolist(),
        fingerprint.weighting: fingerprint.counts[i, j].tolist(),
    }


def shpilkin_table(estimate: ShpilkinEstimate) -> Table:
    return {
        "turnout_low": estimate.edges[:-1].tolist(),
        "turnout_high": estimate.edges[1:].tolist(),
        "voters": estimate.voters.tolist(),
        "leader_votes": estimate.leader_votes.tolist(),
        "other_votes": estimate.other_votes.tolist(),
        "expected_leader_votes": estimate.expected_leader_votes.tolist(),
    }


def percentage_histograms(
    results: StationResults, test: IntegerPercentageTest, bins: int = FINE_BINS
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Edges (in %) and the included stations' counts by turnout and by leader share."""
    included = results.subset(test.included_mask)
    edges = np.linspace(0.0, 100.0, bins + 1)
    turnout, _ = np.histogram(100 * included.turnout(), bins=edges)
    share, _ = np.histogram(100 * included.leader_share(), bins=edges)
    return edges, turnout.astype(np.float64), share.astype(np.float64)


def integer_percentage_table(results: StationResults, test: IntegerPercentageTest) -> Table:
    edges, turnout, share = percentage_histograms(results, test)
    return {
        "percent_low": edges[:-1].tolist(),
        "percent_high": edges[1:].tolist(),
        "stations_by_turnout": turnout.tolist(),
        "stations_by_leader_share": share.tolist(),
    }
