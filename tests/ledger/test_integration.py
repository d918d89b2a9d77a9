"""The integrator: contiguous indexes, tiles and bundles that verify as an exported log, a
signed checkpoint; recovery from the states a crash can leave; one integrator at a time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.db import connection

from pollwatch.core.tlog import MemoryTree, leaf_hash
from pollwatch.core.tlog.checkpoint import open_checkpoint
from pollwatch.core.tlog.tiles import tile_path
from pollwatch.core.tlog.verify_export import verify_log_directory
from pollwatch.ledger.appending import append_to_log
from pollwatch.ledger.errors import LedgerError
from pollwatch.ledger.files import LogFiles, log_directory
from pollwatch.ledger.integration import (
    ADVISORY_KEY,
    Published,
    integrate_pending,
    integrate_sequenced,
    integrator_lock,
    log_state,
    run,
    sequence,
    start_checks,
)
from pollwatch.ledger.keys import log_verifier
from pollwatch.ledger.models import LogCheckpoint, LogEntry, LogIndex, LogState, PendingEntry
from pollwatch.registry.models import Election
from tests.web.factories import SmallElection


def _append(election: Election, start: int, count: int) -> list[bytes]:
    entries = []
    for n in range(start, start + count):
        entry = append_to_log(election, "note", {"kind": "note", "n": n})
        entries.append(bytes(entry.canonical))
    return entries


def _verify_files(election: Election) -> int:
    state = LogState.objects.get(election=election)
    verified = verify_log_directory(log_directory(election), log_verifier(state.origin))
    return verified.checkpoint.size


@pytest.mark.django_db
@pytest.mark.parametrize("batch", [1, 100, 4096])
def test_entries_get_contiguous_indexes_and_the_files_verify(
    small: SmallElection, batch: int
) -> None:
    entries = _append(small.election, 0, 300)
    published = integrate_pending(batch)
    assert published[-1].size == 300
    indexes = list(LogIndex.objects.order_by("entry_id").values_list("index", flat=True))
    assert indexes == list(range(300))
    state = LogState.objects.get(election=small.election)
    assert (state.size, state.sequenced) == (300, 300)
    assert bytes(state.root) == MemoryTree([leaf_hash(e) for e in entries]).root()
    checkpoint, _ = open_checkpoint(state.checkpoint.encode(), log_verifier(state.origin))
    assert checkpoint.origin == f"log.test/{small.election.slug}"
    assert _verify_files(small.election) == 300
    assert not PendingEntry.objects.exists()
    assert LogCheckpoint.objects.order_by("size").last().size == 300  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_log_grows_across_passes_and_tile_boundaries(small: SmallElection) -> None:
    entries: list[bytes] = []
    for count in (1, 254, 1, 1, 300):  # sizes 1, 255, 256, 257, 557
        entries += _append(small.election, len(entries), count)
        integrate_pending(100)
        assert _verify_files(small.election) == len(entries)
    state = LogState.objects.get(election=small.election)
    assert bytes(state.root) == MemoryTree([leaf_hash(e) for e in entries]).root()
    files = LogFiles.of(small.election)
    # The narrower partial tiles stay for clients holding older checkpoints.
    assert files.path(tile_path(0, 0, 255)).exists() and files.path(tile_path(0, 0)).exists()


@pytest.mark.django_db
def test_nothing_pending_publishes_nothing(small: SmallElection) -> None:
    assert integrate_pending() == []
    assert not LogState.objects.exists()


@pytest.mark.django_db
def test_entries_sequenced_before_a_crash_are_integrated_once_in_that_order(
    small: SmallElection,
) -> None:
    entries = _append(small.election, 0, 10)
    assert sequence(small.election, 6) == 6  # then the integrator died
    _append(small.election, 10, 5)
    integrate_pending(4)
    order = list(LogEntry.objects.order_by("log_index__index").values_list("canonical", flat=True))
    assert [bytes(o) for o in order] == entries + [bytes(o) for o in order[10:]]
    assert LogState.objects.get().size == 15 == _verify_files(small.election)


@pytest.mark.django_db
def test_damaged_or_missing_tiles_are_rebuilt_from_the_database(small: SmallElection) -> None:
    _append(small.election, 0, 600)
    integrate_pending()
    directory = log_directory(small.election)
    (directory / tile_path(0, 1)).write_bytes(b"\x00" * 8192)
    shutil.rmtree(directory / "tile" / "entries")
    (directory / "checkpoint").unlink()
    assert start_checks() == [f"log.test/{small.election.slug}"]
    assert _verify_files(small.election) == 600
    assert start_checks() == []  # now they match
    _append(small.election, 600, 3)
    shutil.rmtree(directory / "tile" / "0")  # the next batch notices too
    integrate_pending()
    assert _verify_files(small.election) == 603


@pytest.mark.django_db
def test_a_changed_entry_in_the_database_stops_the_rebuild(small: SmallElection) -> None:
    _append(small.election, 0, 5)
    integrate_pending()
    LogEntry.objects.filter(log_index__index=2).update(canonical=b'{"kind":"note","n":99}')
    shutil.rmtree(log_directory(small.election) / "tile")
    with pytest.raises(LedgerError, match="not the signed checkpoint's"):
        start_checks()


@pytest.mark.django_db
def test_a_missing_sequenced_entry_is_named(small: SmallElection) -> None:
    _append(small.election, 0, 3)
    sequence(small.election)
    LogIndex.objects.filter(index=1).delete()
    with pytest.raises(LedgerError, match="log entry 1 is missing"):
        integrate_sequenced(small.election)


@pytest.mark.django_db
def test_the_origin_is_fixed_when_the_log_starts(small: SmallElection, settings: object) -> None:
    state = log_state(small.election)
    settings.POLLWATCH_LOG_HOST = "elsewhere.test"  # type: ignore[attr-defined]
    _append(small.election, 0, 1)
    integrate_pending()
    assert LogState.objects.get().origin == state.origin == f"log.test/{small.election.slug}"


@pytest.mark.django_db
def test_a_second_integrator_is_refused(small: SmallElection) -> None:
    if connection.vendor != "postgresql":
        with integrator_lock(), pytest.raises(LedgerError, match="another integrator"):
            run(once=True, interval=1)
        return
    import psycopg

    conf = connection.settings_dict
    with psycopg.connect(
        host=conf["HOST"], port=conf["PORT"] or 5432, user=conf["USER"], dbname=conf["NAME"]
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_KEY])
        with pytest.raises(LedgerError, match="another integrator"):
            run(once=True, interval=1)


@pytest.mark.django_db
def test_the_lock_file_lives_in_the_data_dir(small: SmallElection, data_dir: Path) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL uses an advisory lock")
    with integrator_lock():
        assert (data_dir / "log" / "integrator.lock").exists()
    with integrator_lock():  # released, so it can be taken again
        pass


@pytest.mark.django_db
def test_entries_arriving_during_a_pass_wait_for_the_next_pass(small: SmallElection) -> None:
    """Under a steady stream, one checkpoint per pass, not one per handful of entries."""
    _append(small.election, 0, 5)
    arrived: list[int] = []

    def meanwhile(published: Published) -> None:
        if not arrived:
            arrived.append(published.size)
            _append(small.election, 5, 3)

    assert [p.size for p in integrate_pending(on_published=meanwhile)] == [5]
    assert PendingEntry.objects.count() == 3
    assert [p.size for p in integrate_pending()] == [8]
    assert _verify_files(small.election) == 8


@pytest.mark.django_db
def test_a_pass_goes_on_while_its_batches_are_full(small: SmallElection) -> None:
    _append(small.election, 0, 9)
    assert [p.size for p in integrate_pending(4)] == [4, 8, 9]
    assert not PendingEntry.objects.exists()
