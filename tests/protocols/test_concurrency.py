"""Election night on PostgreSQL: many observers submit for the same few stations at once.

Every submission must be stored exactly once, none may fail (no deadlock, no serialisation
error surfacing to the observer), retries racing each other must agree on one copy, and the
stations' findings must end exactly as a serial recomputation leaves them. Real threads with
their own database connections, all released together by a barrier — each storing its copies in
its own transactions, and (as the web API does) in the transactions the process's concurrent
submissions share (group_commit.py).
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection

from pollwatch.accounts.roles import Role
from pollwatch.findings.models import Finding
from pollwatch.findings.recheck import recheck_station
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.protocols.submission import Submission
from tests.accreditation.conftest import accredit, assign, observer_in, user_with_role
from tests.protocols.conftest import Referendum, figures, submit

OBSERVERS = 12
COPIES_EACH = 4


def _in_threads(*work: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    """Run each callable in its own thread (and database connection), all starting together."""
    start = threading.Barrier(len(work))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(task: Callable[[], object]) -> None:
        try:
            start.wait()
            results.append(task())
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(task,)) for task in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def _findings() -> set[tuple[object, ...]]:
    return set(
        Finding.objects.values_list(
            "fingerprint", "present", "left_value", "right_value", "delta", "status"
        )
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("group_commit", [False, True], ids=["own-transactions", "group-commit"])
def test_concurrent_submissions_at_the_same_stations(
    referendum: Referendum, group_commit: bool
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "concurrent writers need PostgreSQL's row locks; SQLite has a single writer, so "
            "there is no concurrency to test (run with POLLWATCH_DATABASE_URL=postgres://…)"
        )
    small = referendum.small
    stations = [small.station_101, small.station_102, small.almaty_101]
    organisations = [referendum.own, referendum.other]
    users = []
    for index in range(OBSERVERS):
        user = user_with_role(f"night-{index}", Role.OBSERVER, organisations[index % 2])
        observer = observer_in(organisations[index % 2], f"night-{index}", user)
        accredit(observer, small.election)
        for station in stations:
            assign(observer, station)
        users.append(user)

    rng = random.Random(20260315)
    plan: list[list[tuple[uuid.UUID, int, dict[str, object]]]] = []
    for _user in users:
        mine = []
        for _ in range(COPIES_EACH):
            station = rng.randrange(len(stations))
            slip = rng.choice([0, 0, 1, 5])  # some copies disagree with the others
            mine.append((uuid.uuid4(), station, figures(yes=500 + slip, no=205 - slip)))
        plan.append(mine)

    def observer_night(user_index: int) -> list[Submission]:
        return [
            submit(
                referendum,
                users[user_index],
                copy_id=copy_id,
                station=stations[station],
                values=values,
                group_commit=group_commit,
            )
            for copy_id, station, values in plan[user_index]
        ]

    # The same copy sent twice at the same moment (a phone retrying over a flaky network).
    retried = uuid.uuid4()

    def retry() -> Submission:
        return submit(referendum, copy_id=retried, station=stations[0], group_commit=group_commit)

    tasks: list[Callable[[], object]] = [(lambda i=i: observer_night(i)) for i in range(OBSERVERS)]
    results, errors = _in_threads(*tasks, retry, retry, retry)
    assert errors == []

    expected = {copy_id for mine in plan for copy_id, _, _ in mine} | {retried}
    stored = list(ProtocolCopy.objects.values_list("pk", "station_id", "figures"))
    assert len(stored) == len(expected) == OBSERVERS * COPIES_EACH + 1
    assert {pk for pk, _, _ in stored} == expected
    by_id = {pk: (station_id, values) for pk, station_id, values in stored}
    for mine in plan:
        for copy_id, station, values in mine:
            assert by_id[copy_id] == (stations[station].pk, values)
    retries = [r for r in results if isinstance(r, Submission)]
    assert sorted(r.created for r in retries) == [False, False, True]
    assert len({r.copy.pk for r in retries}) == 1

    # A serial recomputation of every station changes nothing: the findings are already what
    # a serial run leaves.
    before = _findings()
    assert any(fingerprint.startswith("copies-disagree") for fingerprint, *_ in before)
    for station in stations:
        counts = recheck_station(small.election, station.pk)
        assert (counts.new, counts.updated, counts.reappeared, counts.resolved) == (0, 0, 0, 0)
    assert _findings() == before
