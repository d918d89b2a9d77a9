"""From a synthetic election in the database to stored findings, through the core cross-check.

Discrepancies are injected into a small synthetic referendum; the cross-check finds them, the
conversion turns them into records, recording stores exactly those. New data then makes them
disappear: a station's own recording resolves its findings only, a whole-election recording
the rest, and the human status stays on the resolved rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from django.contrib.auth.models import User

from pollwatch.core.crosscheck import Copies, Figures, Hierarchy, OfficialResults, crosscheck
from pollwatch.core.protocol import parse_template
from pollwatch.core.synth import LINE_KEYS
from pollwatch.findings.computed import ComputedFinding, from_crosscheck
from pollwatch.findings.lifecycle import change_finding_status
from pollwatch.findings.models import Finding, FindingStatus
from pollwatch.findings.recording import RecordingCounts, Scope, record_findings
from pollwatch.registry.models import Election
from tests.core.crosscheck.russia import TEMPLATES
from tests.official.elections import store_election

pytestmark = pytest.mark.django_db

TEMPLATE = parse_template((TEMPLATES / "kz-referendum.toml").read_text(), "kz-referendum")
IN_BOXES = "ballots_in_boxes == invalid + not_counted + yes + no"
K = {key: i for i, key in enumerate(LINE_KEYS)}
STATIONS = 40
FALSIFIED, UNPUBLISHED, MISREAD = 3, 7, 11  # station positions
MOVED = 10  # official votes moved from No to Yes at the falsified station


@dataclass
class Stored:
    """The synthetic election as database rows and as the core's arrays (with database ids)."""

    election: Election
    hierarchy: Hierarchy
    honest: npt.NDArray[np.int64]

    @property
    def station_ids(self) -> npt.NDArray[np.int64]:
        return self.hierarchy.station_id()


def _store() -> Stored:
    stored = store_election(stations=STATIONS, organisations=0)
    commissions = [stored.central, *stored.regions, *stored.territorials]
    position = {commission.pk: i for i, commission in enumerate(commissions)}
    hierarchy = Hierarchy(
        commission_parent=np.array(
            [position.get(c.parent_id, -1) for c in commissions], dtype=np.intp
        ),
        station_commission=np.array(
            [position[station.commission_id] for station in stored.stations], dtype=np.intp
        ),
        station_ids=np.array([station.pk for station in stored.stations], dtype=np.int64),
        commission_ids=np.array([c.pk for c in commissions], dtype=np.int64),
    )
    return Stored(stored.election, hierarchy, stored.honest)


def _official(stored: Stored, *, falsified: bool) -> OfficialResults:
    figures = stored.honest.copy()
    if falsified:
        figures[FALSIFIED, K["yes"]] += MOVED
        figures[FALSIFIED, K["no"]] -= MOVED
    published = np.setdiff1d(np.arange(STATIONS), [UNPUBLISHED])
    return OfficialResults(published, Figures.complete(figures[published]))


def _copies(stored: Stored, *, misread: bool) -> Copies:
    """One organisation's copy at every station, and a second one at MISREAD, whose Yes is
    one too many unless the observer has since sent a corrected copy (a new id)."""
    second = stored.honest[MISREAD].copy()
    if misread:
        second[K["yes"]] += 1
    return Copies(
        station=np.array([*range(STATIONS), MISREAD], dtype=np.intp),
        organisation=np.array([1] * STATIONS + [2], dtype=np.int64),
        figures=Figures.complete(np.vstack([stored.honest, second])),
        ids=np.array([*range(1000, 1000 + STATIONS), 2000 if misread else 2001], dtype=np.int64),
    )


def _computed(stored: Stored, *, falsified: bool, misread: bool) -> list[ComputedFinding]:
    result = crosscheck(
        TEMPLATE,
        stored.hierarchy,
        _copies(stored, misread=misread),
        _official(stored, falsified=falsified),
    )
    return from_crosscheck(result.findings, TEMPLATE)


def _at_station(stored: Stored, position: int) -> list[ComputedFinding]:
    """What a submission at one station computes: that station alone, with stable ids."""
    station_id = int(stored.station_ids[position])
    copies = _copies(stored, misread=False)
    rows = np.flatnonzero(copies.station == position)
    result = crosscheck(
        TEMPLATE,
        Hierarchy(
            np.array([-1], dtype=np.intp),
            np.array([0], dtype=np.intp),
            station_ids=np.array([station_id], dtype=np.int64),
        ),
        Copies(
            np.zeros(rows.size, dtype=np.intp),
            copies.organisation[rows],
            copies.figures.take(rows),
            copies.copy_ids[rows],
        ),
        OfficialResults(np.array([0], dtype=np.intp), Figures.complete(stored.honest[[position]])),
    )
    return from_crosscheck(result.findings, TEMPLATE)


def _rows(stored: Stored) -> set[tuple[object, ...]]:
    """Present findings as (kind, station position, lines, delta, detail's copy)."""
    position = {int(pk): i for i, pk in enumerate(stored.station_ids.tolist())}
    return {
        (kind, position[station], tuple(lines), delta, detail.get("copy"))
        for kind, station, lines, delta, detail in Finding.objects.filter(
            election=stored.election, present=True
        ).values_list("kind", "station_id", "lines", "delta", "detail")
    }


INJECTED = {
    # The falsified station: its copy and the consensus differ from the official figures.
    ("copy-differs-from-official", FALSIFIED, ("yes",), -MOVED, 1000 + FALSIFIED),
    ("copy-differs-from-official", FALSIFIED, ("no",), MOVED, 1000 + FALSIFIED),
    ("consensus-differs-from-official", FALSIFIED, ("yes",), -MOVED, None),
    ("consensus-differs-from-official", FALSIFIED, ("no",), MOVED, None),
    ("missing-official-result", UNPUBLISHED, (), 0, None),
    # The misread copy breaks the ballots-in-boxes relation, disagrees with the other copy and
    # with the official Yes; one organisation of two is no majority, so no consensus finding.
    ("relation-broken-on-copy", MISREAD, TEMPLATE.relations[1].parsed.line_keys, -1, 2000),
    ("copies-disagree", MISREAD, ("yes",), 1, None),
    ("copy-differs-from-official", MISREAD, ("yes",), 1, 2000),
}


def _counts(**given: int) -> RecordingCounts:
    base = {"new": 0, "updated": 0, "unchanged": 0, "reappeared": 0, "resolved": 0}
    return RecordingCounts(**{**base, **given})


def test_injected_discrepancies_are_stored_then_resolved_by_new_data(analyst: User) -> None:
    assert TEMPLATE.relations[1].expression == IN_BOXES
    stored = _store()
    computed = _computed(stored, falsified=True, misread=True)
    counts = record_findings(stored.election, Scope.election(), computed)
    assert counts == _counts(new=len(INJECTED))
    assert _rows(stored) == INJECTED
    stored_fingerprints = Finding.objects.values_list("fingerprint", flat=True)
    assert set(stored_fingerprints) == {finding.fingerprint for finding in computed}
    # An analyst confirms the falsified Yes.
    falsified = Finding.objects.get(
        kind="consensus-differs-from-official",
        station_id=stored.station_ids[FALSIFIED],
        lines=["yes"],
    )
    change_finding_status(analyst, falsified, FindingStatus.UNDER_VERIFICATION)
    change_finding_status(analyst, falsified, FindingStatus.CONFIRMED)

    # The misread copy's observer sends a corrected copy: the station's own recording resolves
    # its three findings and leaves the falsified and unpublished stations alone.
    misread_id = int(stored.station_ids[MISREAD])
    counts = record_findings(
        stored.election, Scope.station(misread_id), _at_station(stored, MISREAD)
    )
    assert counts == _counts(resolved=3)
    assert _rows(stored) == {row for row in INJECTED if row[1] != MISREAD}

    # The commission republishes the falsified station's honest figures; the whole election is
    # recomputed: the falsified station's findings are resolved, the confirmed one keeps its
    # status, the unpublished station's finding is unchanged.
    counts = record_findings(
        stored.election, Scope.election(), _computed(stored, falsified=False, misread=False)
    )
    assert counts == _counts(unchanged=1, resolved=4)
    assert _rows(stored) == {("missing-official-result", UNPUBLISHED, (), 0, None)}
    falsified.refresh_from_db()
    assert (falsified.present, falsified.status) == (False, FindingStatus.CONFIRMED)
    assert falsified.resolved_at is not None
    assert Finding.objects.count() == len(INJECTED)  # nothing deleted

    # The old figures come back (a silent change the other way): the same rows are present again.
    counts = record_findings(stored.election, Scope.election(), computed)
    assert counts == _counts(unchanged=1, reappeared=len(INJECTED) - 1)
    assert _rows(stored) == INJECTED
    falsified.refresh_from_db()
    assert (falsified.present, falsified.status) == (True, FindingStatus.CONFIRMED)
    assert Finding.objects.count() == len(INJECTED)
