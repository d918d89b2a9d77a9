"""store_copies: several copies in one transaction give what storing them one by one gives —
each its own outcome (stored, retry, conflict, refused correction), the same findings, the same
log — and GroupCommit hands each thread its own outcome."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from pollwatch.findings.models import Finding
from pollwatch.findings.recheck import recheck_station
from pollwatch.ledger.models import LogEntry, PendingEntry
from pollwatch.protocols.group_commit import GroupCommit
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.protocols.submission import (
    CopyInput,
    PreparedCopy,
    RefusalKind,
    Submission,
    SubmissionRefused,
    prepare_copy,
    store_copies,
)
from tests.protocols.conftest import COUNT_DONE, Referendum, figures, submit


def prepared(
    referendum: Referendum,
    user: object = None,
    *,
    copy_id: uuid.UUID | None = None,
    station: object = None,
    values: dict[str, object] | None = None,
    supersedes: uuid.UUID | None = None,
) -> PreparedCopy:
    ready = prepare_copy(
        user or referendum.observer_user,  # type: ignore[arg-type]
        referendum.small.election,
        station or referendum.station,  # type: ignore[arg-type]
        CopyInput(
            copy_id=copy_id or uuid.uuid4(),
            figures=figures() if values is None else values,
            all_members_signed=True,
            certified=True,
            supersedes=supersedes,
        ),
        at=COUNT_DONE,
    )
    assert isinstance(ready, PreparedCopy)
    return ready


def _findings() -> set[tuple[object, ...]]:
    return set(
        Finding.objects.values_list("fingerprint", "present", "left_value", "right_value", "delta")
    )


def test_copies_at_several_stations_are_stored_in_one_go(referendum: Referendum) -> None:
    small = referendum.small
    batch = [
        prepared(referendum, values=figures(yes=520)),  # its arithmetic is wrong
        prepared(referendum, referendum.other_observer_user, values=figures(yes=501, no=204)),
        prepared(referendum, station=small.station_102),
    ]
    outcomes = store_copies(batch)
    assert all(isinstance(o, Submission) and o.created for o in outcomes)
    stored = ProtocolCopy.objects.in_bulk([item.copy_id for item in batch])
    assert [stored[item.copy_id].station_id for item in batch] == [
        small.station_101.pk,
        small.station_101.pk,
        small.station_102.pk,
    ]
    # Every copy is logged, in the order given, each entry pending integration.
    entries = LogEntry.objects.filter(kind="protocol-copy").order_by("pk")
    assert [e.source_pk for e in entries] == [str(item.copy_id) for item in batch]
    assert PendingEntry.objects.filter(entry__in=entries).count() == 3
    # The findings are those a recomputation of each station leaves: nothing left to change.
    at_101 = Finding.objects.filter(station=small.station_101, present=True)
    assert at_101.filter(kind="copies-disagree").exists()
    assert at_101.filter(kind="relation-broken-on-copy").exists()
    before = _findings()
    for station in (small.station_101, small.station_102):
        counts = recheck_station(small.election, station.pk)
        assert (counts.new, counts.updated, counts.reappeared, counts.resolved) == (0, 0, 0, 0)
    assert _findings() == before


def test_retries_and_conflicts_in_a_group_do_not_hold_up_the_others(
    referendum: Referendum,
) -> None:
    stored = submit(referendum).copy
    same_id = uuid.uuid4()
    batch = [
        prepared(referendum, copy_id=stored.pk),  # a retry of a stored copy
        prepared(referendum, copy_id=stored.pk, values=figures(yes=499, no=206)),  # a conflict
        prepared(referendum, copy_id=same_id),  # new …
        prepared(referendum, copy_id=same_id),  # … and its retry in the same group
        prepared(referendum, referendum.colleague_user, copy_id=same_id),  # another user's id
        prepared(referendum, station=referendum.small.station_102),  # new
    ]
    outcomes = store_copies(batch)
    assert isinstance(outcomes[0], Submission) and not outcomes[0].created
    assert outcomes[0].copy.pk == stored.pk
    assert isinstance(outcomes[1], SubmissionRefused)
    assert outcomes[1].kind == RefusalKind.CONFLICT and outcomes[1].field == "id"
    assert isinstance(outcomes[2], Submission) and outcomes[2].created
    assert isinstance(outcomes[3], Submission) and not outcomes[3].created
    assert outcomes[3].copy.pk == same_id
    assert isinstance(outcomes[4], SubmissionRefused)
    assert outcomes[4].kind == RefusalKind.CONFLICT
    assert isinstance(outcomes[5], Submission) and outcomes[5].created
    assert ProtocolCopy.objects.count() == 3
    assert LogEntry.objects.filter(kind="protocol-copy").count() == 3


def test_two_corrections_of_one_copy_in_a_group(referendum: Referendum) -> None:
    first = submit(referendum, values=figures(yes=520)).copy
    theirs = submit(referendum, referendum.colleague_user).copy  # type: ignore[arg-type]
    batch = [
        prepared(referendum, supersedes=first.pk),
        prepared(referendum, supersedes=first.pk),  # the copy is corrected by the one before
        prepared(referendum, supersedes=theirs.pk),  # not this observer's copy
        prepared(referendum),
    ]
    outcomes = store_copies(batch)
    assert isinstance(outcomes[0], Submission) and outcomes[0].created
    assert isinstance(outcomes[1], SubmissionRefused)
    assert "already been corrected" in outcomes[1].message
    assert isinstance(outcomes[2], SubmissionRefused)
    assert "another observer" in outcomes[2].message
    assert isinstance(outcomes[3], Submission) and outcomes[3].created
    first.refresh_from_db()
    assert first.superseded_by.pk == batch[0].copy_id
    assert ProtocolCopy.objects.count() == 4


def test_a_copy_and_its_correction_in_one_group(referendum: Referendum) -> None:
    first = prepared(referendum, values=figures(yes=520))
    correction = prepared(referendum, supersedes=first.copy_id)
    outcomes = store_copies([first, correction])
    assert all(isinstance(o, Submission) and o.created for o in outcomes)
    stored = ProtocolCopy.objects.get(pk=first.copy_id)
    assert stored.superseded_by.pk == correction.copy_id
    # Only the correction is current: the first copy's broken relation is not a finding.
    at_station = Finding.objects.filter(station=referendum.station, present=True)
    assert not at_station.filter(kind="relation-broken-on-copy").exists()


def test_copies_of_two_elections_are_not_stored_together(referendum: Referendum) -> None:
    from dataclasses import replace

    from tests.web.factories import build_small_election

    one = prepared(referendum)
    other = build_small_election(slug="other-election")
    with pytest.raises(ValueError, match="one election"):
        store_copies([one, replace(one, election=other.election)])
    assert ProtocolCopy.objects.count() == 0


@dataclass(frozen=True)
class _Copy:
    """What GroupCommit reads of a prepared copy: its id and its election."""

    copy_id: int
    election: object


@dataclass(frozen=True)
class _Election:
    pk: int


def _hand_over(group: GroupCommit, copies: list[_Copy]) -> dict[int, object]:
    """Each copy handed over by its own thread, all at once; each thread's answer or error."""
    answers: dict[int, object] = {}
    start = threading.Barrier(len(copies))

    def hand_over(copy: _Copy) -> None:
        start.wait()
        try:
            answers[copy.copy_id] = group.store(copy)  # type: ignore[arg-type]
        except Exception as error:  # the thread's answer, checked below
            answers[copy.copy_id] = error

    threads = [threading.Thread(target=hand_over, args=(copy,)) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread never got its answer"
    return answers


def test_group_commit_answers_each_thread_with_its_own_outcome() -> None:
    groups: list[list[int]] = []

    def store(copies: object) -> list[object]:
        batch = list(copies)  # type: ignore[call-overload]
        groups.append([copy.copy_id for copy in batch])
        assert len({copy.election.pk for copy in batch}) == 1, "one election per group"
        time.sleep(0.01)  # a transaction takes a while: others arrive meanwhile
        return [f"stored {copy.copy_id}" for copy in batch]

    elections = [_Election(1), _Election(2)]
    copies = [_Copy(number, elections[number % 2]) for number in range(40)]
    answers = _hand_over(GroupCommit(store, limit=8), copies)
    assert answers == {copy.copy_id: f"stored {copy.copy_id}" for copy in copies}
    stored = sorted(copy_id for group in groups for copy_id in group)
    assert stored == list(range(40))  # each copy stored once
    assert max(map(len, groups)) <= 8
    assert len(groups) < 40  # copies arriving together were stored together


def test_a_failed_group_answers_its_threads_with_the_error_and_the_rest_go_on() -> None:
    def store(copies: object) -> list[object]:
        batch = list(copies)  # type: ignore[call-overload]
        if any(copy.copy_id == 3 for copy in batch):
            raise RuntimeError("the database went away")
        return ["stored" for _ in batch]

    copies = [_Copy(number, _Election(1)) for number in range(12)]
    answers = _hand_over(GroupCommit(store, limit=1), copies)
    assert isinstance(answers.pop(3), RuntimeError)
    assert set(answers.values()) == {"stored"}


def _statements(batch: list[PreparedCopy]) -> list[str]:
    """The statements storing ``batch`` sends, in order; every copy must be stored."""
    texts: list[str] = []

    def kept(execute: Any, sql: str, *rest: Any) -> Any:
        texts.append(sql)
        return execute(sql, *rest)

    with connection.execute_wrapper(kept):
        outcomes = store_copies(batch)
    assert all(isinstance(outcome, Submission) and outcome.created for outcome in outcomes)
    return texts


def _texts(batch: list[PreparedCopy]) -> set[str]:
    """The statement texts storing ``batch`` sends, but the findings' writes (which depend on
    what the recheck finds) and the savepoints (named anew each time)."""
    skipped = ("UPDATE", "INSERT INTO findings", "SAVEPOINT", "RELEASE SAVEPOINT")
    return {text for text in _statements(batch) if not text.startswith(skipped)}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="on SQLite an IN list costs no preparing"
)
def test_a_groups_statements_do_not_vary_with_its_size(referendum: Referendum) -> None:
    # psycopg prepares a statement it has run five times; a text per group size never is.
    small = referendum.small
    store_copies([prepared(referendum)])  # once read, what is cached stays so
    two = [prepared(referendum), prepared(referendum, station=small.station_102)]
    three = [
        prepared(referendum, referendum.other_observer_user),
        prepared(referendum, referendum.colleague_user),
        prepared(referendum, station=small.station_102),
    ]
    assert _texts(two) == _texts(three)


def test_a_group_without_corrections_reads_no_copy_before_inserting(
    referendum: Referendum,
) -> None:
    # The insert skips the ids already stored; only a retry or a conflict reads the copy.
    sent = _statements(
        [prepared(referendum), prepared(referendum, station=referendum.small.station_102)]
    )
    insert = next(i for i, text in enumerate(sent) if text.startswith('INSERT INTO "protocols_'))
    assert not [text for text in sent[:insert] if "protocols_protocolcopy" in text]
    stored = submit(referendum).copy
    again = store_copies([prepared(referendum, copy_id=stored.pk), prepared(referendum)])
    assert isinstance(again[0], Submission) and not again[0].created
    assert again[0].copy.pk == stored.pk and again[0].copy.figures == stored.figures
    assert isinstance(again[1], Submission) and again[1].created
