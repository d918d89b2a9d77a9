"""Group commit: the copies a process receives at the same moment are stored together.

On election night many observers submit at once. Each submission's own work — parsing,
eligibility, the signature — runs in its request's thread; storing it means a transaction that
locks its station, inserts the copy, rechecks the station's findings and appends to the log.
Done one by one, those statements are most of a submission's cost. Here, the first thread to
arrive while no transaction is running becomes the leader: it takes every copy waiting (up to
``LIMIT``, of one election) and stores them in one transaction (``store_copies``), while the
threads arriving meanwhile wait for the next one. Each thread answers only once its own copy is
committed, so a 201 still means stored, findings updated and logged: nothing is acknowledged
that could be lost. With one submission at a time this is exactly one transaction per copy; the
busier the process, the larger the groups and the cheaper each copy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pollwatch.protocols.refusals import SubmissionRefused
from pollwatch.protocols.submission import PreparedCopy, Submission, store_copies

# Copies per transaction at most: enough to share the statements, few enough that the
# stations they lock hold nobody else up for long.
LIMIT = 32


@dataclass(eq=False)
class _Waiting:
    copy: PreparedCopy
    outcome: Submission | SubmissionRefused | None = None  # set once done, unless an error
    error: BaseException | None = None
    done: bool = False


Outcome = Submission | SubmissionRefused
StoreCopies = Callable[[Sequence[PreparedCopy]], list[Outcome]]


class GroupCommit:
    """Stores the copies handed to ``store`` by concurrent threads in shared transactions."""

    def __init__(self, store_copies: StoreCopies = store_copies, limit: int = LIMIT) -> None:
        self._store_copies = store_copies
        self._limit = limit
        self._changed = threading.Condition()
        self._queue: list[_Waiting] = []
        self._storing = False

    def store(self, copy: PreparedCopy) -> Outcome:
        waiting = _Waiting(copy)
        with self._changed:
            self._queue.append(waiting)
        while True:
            with self._changed:
                while not waiting.done and self._storing:
                    self._changed.wait()
                if waiting.done:
                    break
                self._storing = True
                group = self._take()
            try:
                self._store(group)
            finally:
                with self._changed:
                    self._storing = False
                    self._changed.notify_all()
        if waiting.error is not None:
            raise waiting.error
        assert waiting.outcome is not None
        return waiting.outcome

    def _take(self) -> list[_Waiting]:
        """The oldest waiting copies of the oldest waiting copy's election."""
        election = self._queue[0].copy.election.pk
        group = [w for w in self._queue if w.copy.election.pk == election][: self._limit]
        taken = set(map(id, group))
        self._queue = [w for w in self._queue if id(w) not in taken]
        return group

    def _store(self, group: list[_Waiting]) -> None:
        try:
            outcomes = self._store_copies([waiting.copy for waiting in group])
        except BaseException as error:  # each of the group's requests answers with it, none hangs
            for waiting in group:
                waiting.error = error
                waiting.done = True
            if not isinstance(error, Exception):
                raise  # the process is stopping: the leader's thread stops too
            return
        for waiting, outcome in zip(group, outcomes, strict=True):
            waiting.outcome = outcome
            waiting.done = True


_PROCESS = GroupCommit()


def store_together(copy: PreparedCopy) -> Outcome:
    """Store ``copy`` in the transaction this process's concurrent submissions share."""
    return _PROCESS.store(copy)
