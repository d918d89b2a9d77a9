"""Line-by-line comparisons: copy against copy, copies and consensus against official figures."""

from __future__ import annotations

import numpy as np

from pollwatch.core.crosscheck.consensus import Consensus
from pollwatch.core.crosscheck.findings import FindingKind, Findings, FingerprintNames
from pollwatch.core.crosscheck.inputs import Copies, Figures, IndexArray
from pollwatch.core.crosscheck.layout import CopyLayout


def copies_disagree(consensus: Consensus, names: FingerprintNames) -> Findings:
    """One finding per station and line on which two copies differ (highest vs lowest)."""
    at, line = np.nonzero(consensus.disagree)
    return Findings.build(
        FindingKind.COPIES_DISAGREE,
        names,
        at.size,
        station=consensus.station[at],
        line=line,
        left=consensus.highest[at, line],
        right=consensus.lowest[at, line],
        copies=consensus.copies[at, line],
        organisations=consensus.organisations[at, line],
    )


def copies_against_official(
    copies: Copies,
    layout: CopyLayout,
    official: Figures,
    official_row: IndexArray,
    names: FingerprintNames,
) -> Findings:
    """One finding per copy and line whose value differs from the station's official figure.

    Each copy is a signed document in its own right, so each gets its own finding;
    ``official_row`` gives each station's row in ``official`` (-1: none published). Identical
    copies of a regular station are compared once (``CopyLayout.representatives``).
    """
    representatives = layout.representatives
    row = official_row[layout.station[representatives.position]]
    published = np.flatnonzero(row >= 0)
    theirs = official.take(row[published])
    ours = representatives.figures
    if published.size != ours.rows:
        ours = ours.take(published)
    differs = ours.values != theirs.values
    if ours.has_blanks or theirs.has_blanks:
        differs &= ~ours.missing & ~theirs.missing
    at, line = np.nonzero(differs)
    owner, copy = layout.expand(published[at])
    at, line = at[owner], line[owner]
    order = np.lexsort((line, copy))
    copy, at, line = copy[order], at[order], line[order]
    return Findings.build(
        FindingKind.COPY_DIFFERS_FROM_OFFICIAL,
        names,
        copy.size,
        station=copies.station[copy],
        copy=copy,
        line=line,
        left=ours.values[at, line],
        right=theirs.values[at, line],
        copies=1,
        organisations=1,
    )


def consensus_against_official(
    consensus: Consensus, official: Figures, official_row: IndexArray, names: FingerprintNames
) -> Findings:
    """One finding per station and line where the observers' consensus differs from official."""
    row = official_row[consensus.station]
    published = np.flatnonzero(row >= 0)
    theirs = official.take(row[published])
    agreed = consensus.agreed[published]
    ours = consensus.value[published]
    differs = agreed & ~theirs.missing & (ours != theirs.values)
    at, line = np.nonzero(differs)
    where = published[at]
    return Findings.build(
        FindingKind.CONSENSUS_DIFFERS_FROM_OFFICIAL,
        names,
        at.size,
        station=consensus.station[where],
        line=line,
        left=ours[at, line],
        right=theirs.values[at, line],
        copies=consensus.copies[where, line],
        organisations=consensus.support[where, line],
    )
