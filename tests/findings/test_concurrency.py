"""Two recordings of one station at once, on PostgreSQL: neither duplicates nor loses a finding.

Each recording is a complete account of the station's findings, so after both the stored
present findings must be exactly one of the two accounts — never a mixture — and every
fingerprint either one wrote must exist once. Without the scope lock the first round fails on
the unique constraint (both insert the shared fingerprints) and later rounds can mix.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from pollwatch.findings.computed import ComputedFinding
from pollwatch.findings.models import Finding
from pollwatch.findings.recording import Scope, record_findings
from tests.findings.conftest import at_station
from tests.web.factories import SmallElection

ROUNDS = 15


def _in_threads(*work: Callable[[], object]) -> list[BaseException]:
    """Run each callable in its own thread (and database connection), all starting together."""
    start = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(task: Callable[[], object]) -> None:
        try:
            start.wait()
            task()
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(task,)) for task in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_recordings_of_one_station_at_once(small: SmallElection) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has a single writer")
    station = small.station_101.pk
    other = [at_station(small.station_102.pk, "yes", 4)]
    record_findings(small.election, Scope.election(), other)
    lines = [f"line_{i}" for i in range(40)]

    def account(round_: int, first: bool) -> list[ComputedFinding]:
        # Both share half their lines; the values differ from round to round.
        chosen = lines[:30] if first else lines[10:]
        return [at_station(station, line, round_ + (1 if first else 2)) for line in chosen]

    for round_ in range(ROUNDS):
        a, b = account(round_, True), account(round_, False)
        errors = _in_threads(
            lambda a=a: record_findings(small.election, Scope.station(station), a),
            lambda b=b: record_findings(small.election, Scope.station(station), b),
        )
        assert errors == []
        rows = list(
            Finding.objects.filter(station_id=station).values_list(
                "fingerprint", "present", "delta"
            )
        )
        assert len(rows) == len({fingerprint for fingerprint, _, _ in rows}) == len(lines)
        present = {(fingerprint, delta) for fingerprint, is_present, delta in rows if is_present}
        assert present in (
            {(f.fingerprint, f.delta) for f in a},
            {(f.fingerprint, f.delta) for f in b},
        )
    # The other station's finding was never touched.
    assert Finding.objects.get(station_id=small.station_102.pk).present
