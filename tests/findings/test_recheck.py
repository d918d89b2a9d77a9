"""Rechecking from the database: the findings a whole election and a single station yield.

Copies and official results are created through the ORM, discrepancies injected at known
stations; the recheck must find exactly those. A station's recheck must give the same
findings as that station's part of the election's recheck.
"""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.findings.models import Finding
from pollwatch.findings.recheck import STATION_KINDS, recheck_election, recheck_station
from pollwatch.findings.recording import RecordingError
from pollwatch.registry.models import Commission
from tests.official.elections import K, StoredElection, store_election

pytestmark = pytest.mark.django_db

IN_BOXES = ("ballots_in_boxes", "invalid", "not_counted", "yes", "no")
FALSIFIED, UNPUBLISHED, MISREAD, CORRECTED, UNOBSERVED, BROKEN = 3, 7, 11, 12, 15, 18


def _present() -> dict[str, tuple[int, int, int]]:
    return {
        f.fingerprint: (f.left_value, f.right_value, f.delta)
        for f in Finding.objects.filter(present=True)
    }


def _scenario(stored: StoredElection) -> None:
    """Copies at every station but UNOBSERVED; official results everywhere but UNPUBLISHED."""
    official = {}
    for position in range(len(stored.stations)):
        if position == UNPUBLISHED:
            continue
        official[position] = stored.figures(position)
    yes, no = official[FALSIFIED]["yes"], official[FALSIFIED]["no"]
    official[FALSIFIED] = stored.figures(FALSIFIED, yes=yes + 10, no=no - 10)
    official[BROKEN] = stored.figures(BROKEN, invalid=official[BROKEN]["invalid"] + 4)
    stored.publish(official, {_territorial(stored): _total(stored, official, registered=1)})
    for position in range(len(stored.stations)):
        if position == UNOBSERVED:
            stored.assign(position)
            continue
        stored.add_copy(position, 0)
    stored.add_copy(
        MISREAD, 1, stored.figures(MISREAD, yes=int(stored.honest[MISREAD, K["yes"]]) + 1)
    )
    wrong = stored.add_copy(
        CORRECTED, 1, stored.figures(CORRECTED, no=int(stored.honest[CORRECTED, K["no"]]) + 7)
    )
    stored.add_copy(CORRECTED, 1, supersedes=wrong)


def _territorial(stored: StoredElection) -> Commission:
    """A territorial commission whose stations all published."""
    unpublished = stored.stations[UNPUBLISHED].commission_id
    return next(t for t in stored.territorials if t.pk != unpublished)


def _total(
    stored: StoredElection, official: dict[int, dict[str, int]], registered: int
) -> dict[str, int]:
    """The sum of the territorial's published station figures, ``registered`` off."""
    under = [p for p, s in enumerate(stored.stations) if s.commission_id == _territorial(stored).pk]
    total = {key: sum(official[p][key] for p in under) for key in official[under[0]]}
    total["registered"] += registered
    return total


def test_election_recheck_finds_exactly_the_injected_discrepancies() -> None:
    stored = store_election()
    _scenario(stored)
    counts = recheck_election(stored.election)
    station = {position: s.pk for position, s in enumerate(stored.stations)}
    kinds = sorted(
        (f.kind, f.station_id, tuple(f.lines), f.left_value - f.right_value)
        for f in Finding.objects.filter(present=True, station__isnull=False)
    )
    misread_yes = int(stored.honest[MISREAD, K["yes"]])
    assert counts.new == len(Finding.objects.all())
    expected = [
        ("consensus-differs-from-official", station[FALSIFIED], ("no",), 10),
        ("consensus-differs-from-official", station[FALSIFIED], ("yes",), -10),
        ("consensus-differs-from-official", station[BROKEN], ("invalid",), -4),
        ("copies-disagree", station[MISREAD], ("yes",), 1),
        ("copy-differs-from-official", station[MISREAD], ("yes",), 1),
        ("copy-differs-from-official", station[FALSIFIED], ("no",), 10),
        ("copy-differs-from-official", station[FALSIFIED], ("yes",), -10),
        ("copy-differs-from-official", station[BROKEN], ("invalid",), -4),
        ("missing-copy", station[UNOBSERVED], (), 0),
        ("missing-official-result", station[UNPUBLISHED], (), 0),
        ("relation-broken-on-copy", station[MISREAD], IN_BOXES, -1),
        ("relation-broken-on-official", station[BROKEN], IN_BOXES, -4),
    ]  # fmt: skip
    assert misread_yes > 0
    assert kinds == sorted(expected)
    # The territorial total is one registered voter too many; the commissions above publish
    # nothing, so nothing else is compared.
    at_commissions = Finding.objects.filter(present=True, station__isnull=True)
    assert [(f.kind, f.commission_id, f.lines, f.delta) for f in at_commissions] == [
        ("total-differs-from-children", _territorial(stored).pk, ["registered"], 1)
    ]


def test_a_copy_finding_is_named_by_the_copy_uuid() -> None:
    stored = store_election()
    _scenario(stored)
    recheck_election(stored.election)
    finding = Finding.objects.get(kind="relation-broken-on-copy")
    misread = stored.stations[MISREAD].copies.get(organisation=stored.organisations[1])
    assert finding.detail["copy"] == str(misread.pk)
    assert f"/copy:{misread.pk}|" in finding.fingerprint


def test_rechecking_again_changes_nothing_and_a_correction_resolves() -> None:
    stored = store_election()
    _scenario(stored)
    recheck_election(stored.election)
    again = recheck_election(stored.election)
    assert (again.new, again.updated, again.resolved) == (0, 0, 0)
    wrong = stored.stations[MISREAD].copies.get(organisation=stored.organisations[1])
    stored.add_copy(MISREAD, 1, supersedes=wrong)
    counts = recheck_station(stored.election, stored.stations[MISREAD].pk)
    assert (counts.new, counts.resolved) == (0, 3)
    assert not Finding.objects.filter(present=True, station=stored.stations[MISREAD]).exists()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_station_recheck_equals_its_slice_of_the_election_recheck(seed: int) -> None:
    stored = store_election(stations=16, seed=seed)
    rng = np.random.default_rng(seed)
    official = {}
    for position in range(16):
        if rng.random() < 0.8:
            changes = {}
            if rng.random() < 0.3:
                line = str(rng.choice(["yes", "no", "invalid", "registered"]))
                changes[line] = int(stored.honest[position, K[line]]) + int(rng.integers(-5, 6))
            official[position] = stored.figures(position, **changes)
        for organisation in range(3):
            if rng.random() < 0.5:
                changes = {}
                if rng.random() < 0.3:
                    line = str(rng.choice(["yes", "no", "ballots_in_boxes"]))
                    changes[line] = int(stored.honest[position, K[line]]) + 1
                figures = stored.figures(position, **changes)
                if rng.random() < 0.1:
                    del figures["invalid"]
                stored.add_copy(position, organisation, figures)
        if rng.random() < 0.3:
            stored.assign(position)
    stored.publish(official)

    recheck_election(stored.election)
    whole = {
        fingerprint: values
        for fingerprint, values in _present().items()
        if fingerprint.split("|")[0] in STATION_KINDS and "|station:" in fingerprint
    }
    Finding.objects.all().delete()
    for station in stored.stations:
        recheck_station(stored.election, station.pk)
    assert _present() == whole
    assert whole  # the random election has findings to compare


def test_a_station_of_another_election_is_refused() -> None:
    stored = store_election(seed=1)
    other = store_election(seed=2)
    with pytest.raises(RecordingError, match="not in election"):
        recheck_station(stored.election, other.stations[0].pk)
    assert not Finding.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_parallel_read_finds_the_same() -> None:
    """Outside a transaction, PostgreSQL reads the copies on a second connection sharing the
    snapshot; the findings are the same as the serial read's."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the parallel read is PostgreSQL's")
    stored = store_election()
    _scenario(stored)
    assert not connection.in_atomic_block
    recheck_election(stored.election)  # parallel
    parallel = _present()
    Finding.objects.all().delete()
    with transaction.atomic():
        recheck_election(stored.election)  # serial
    assert _present() == parallel
    assert len(parallel) == 13
