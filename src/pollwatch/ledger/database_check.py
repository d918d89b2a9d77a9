"""`pollwatch verify database`: the live database against the log (issue 4 §5c).

Three questions, each answered row by row:

1. Is the database's copy of the log the published one? The checkpoint stored must be signed by
   the log's key; the published tiles must give its root; each entry's bytes in the database
   must hash to the published leaf at its index.
2. Does each logged row still say what was logged? Each entry's source row is rebuilt with its
   kind's record builder (`kinds`, the function used when it was appended) and compared with
   the entry's bytes: a row *changed* (naming the fields), *removed*, or logged twice.
3. Was anything added behind the log's back? Every row of every registered kind in the
   election must be the source of an entry: otherwise it was *added outside the log*.

Entries still pending (not yet in a checkpoint) are checked against their rows (2) but have no
published leaf yet (1).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from pollwatch.core.tlog import HASH_SIZE, TlogError, leaf_hash
from pollwatch.core.tlog.checkpoint import open_checkpoint
from pollwatch.core.tlog.note import Verifier
from pollwatch.core.tlog.tiles import TILE_WIDTH, root_from_tiles, tile_width
from pollwatch.ledger.appending import canonical_bytes
from pollwatch.ledger.errors import LedgerError
from pollwatch.ledger.files import LogFiles
from pollwatch.ledger.keys import log_verifier
from pollwatch.ledger.kinds import LoggedKind, logged_kind, logged_kinds
from pollwatch.ledger.models import LogEntry, LogIndex, LogState
from pollwatch.registry.models import Election

CHUNK = 2000


@dataclass
class DatabaseReport:
    origin: str
    size: int
    entries: int = 0
    pending: int = 0
    rows_checked: int = 0
    without_source: int = 0
    problems: list[str] = field(default_factory=list)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _changed_fields(logged: bytes, now: bytes) -> str:
    """Which top-level fields differ between the logged record and the rebuilt one."""
    try:
        before, after = json.loads(logged), json.loads(now)
    except ValueError:
        return "its record differs"
    if not isinstance(before, dict) or not isinstance(after, dict):
        return "its record differs"
    parts = []
    for key in sorted(before.keys() | after.keys()):
        if before.get(key, "<absent>") != after.get(key, "<absent>"):
            old = json.dumps(before.get(key, "<absent>"), ensure_ascii=False)
            new = json.dumps(after.get(key, "<absent>"), ensure_ascii=False)
            parts.append(f"{key}: logged {old}, now {new}")
    return "; ".join(parts) or "its record differs in encoding"


def _check_published(state: LogState, verifier: Verifier, report: DatabaseReport) -> None:
    """Question 1: the stored checkpoint, the published tiles, the database's entries."""
    try:
        checkpoint, _ = open_checkpoint(state.checkpoint.encode(), verifier, state.origin)
    except TlogError as error:
        report.problems.append(f"the stored checkpoint does not verify: {error}")
        return
    if checkpoint.size != state.size or checkpoint.root_hash != bytes(state.root):
        report.problems.append(
            f"the stored checkpoint (size {checkpoint.size}) is not the log state's "
            f"(size {state.size})"
        )
        return
    files = LogFiles.of(state.election)
    try:
        if root_from_tiles(files.read_tile, checkpoint.size) != checkpoint.root_hash:
            report.problems.append("the published tiles do not give the checkpoint's root")
            return
    except (TlogError, OSError) as error:
        report.problems.append(f"the published tiles cannot be read: {error}")
        return
    expected = 0
    rows = (
        LogIndex.objects.filter(election_id=state.pk, index__lt=checkpoint.size)
        .order_by("index")
        .values_list("index", "entry__canonical", "entry__kind", "entry__source_pk")
    )
    tile: bytes = b""
    for index, data, kind, source_pk in rows.iterator(chunk_size=CHUNK):
        while expected < index:
            report.problems.append(f"log entry #{expected} is missing from the database")
            expected += 1
        expected = index + 1
        position = index % TILE_WIDTH
        if position == 0 or not tile:
            number = index // TILE_WIDTH
            tile = files.read_tile(0, number, tile_width(0, number, checkpoint.size))
        published = tile[position * HASH_SIZE : (position + 1) * HASH_SIZE]
        if leaf_hash(bytes(data)) != published:
            source = f" ({kind} {source_pk})" if source_pk else f" ({kind})"
            report.problems.append(
                f"log entry #{index}{source} in the database is not the published leaf"
            )
    for missing in range(expected, checkpoint.size):
        report.problems.append(f"log entry #{missing} is missing from the database")


class _Entry(NamedTuple):
    """An entry without its bytes (read a chunk at a time): a million must fit in memory."""

    id: int
    position: int | None  # the index in the log
    source_type_id: int | None
    source_pk: str


def _describe(entry: _Entry) -> str:
    where = "pending" if entry.position is None else f"#{entry.position}"
    return f"log entry {where}"


def _check_rows(election: Election, report: DatabaseReport) -> None:
    """Questions 2 and 3, kind by kind."""
    entries_by_kind: dict[str, list[_Entry]] = defaultdict(list)
    entries = LogEntry.objects.filter(election=election).values_list(
        "id", "kind", "log_index__index", "source_type_id", "source_pk"
    )
    for entry_id, kind, index, source_type_id, source_pk in entries.iterator(chunk_size=CHUNK):
        report.entries += 1
        if index is None or index >= report.size:
            report.pending += 1
        if not source_pk:
            report.without_source += 1
            continue
        entries_by_kind[kind].append(_Entry(entry_id, index, source_type_id, source_pk))
    for kind, kind_entries in sorted(entries_by_kind.items()):
        logged = logged_kind(kind)
        if logged is None:
            report.problems.append(
                f"{len(kind_entries)} log entries of kind {kind!r} cannot be checked: no app "
                "registers a record builder for it"
            )
            continue
        _check_kind(election, logged, kind_entries, report)
    for logged in logged_kinds():
        if logged.kind not in entries_by_kind:
            _check_kind(election, logged, [], report)


def _check_kind(
    election: Election, logged: LoggedKind, entries: list[_Entry], report: DatabaseReport
) -> None:
    model = logged.model
    name = model._meta.label
    content_type = ContentType.objects.get_for_model(model)
    pk_field = model._meta.pk
    assert pk_field is not None

    def key(raw: str) -> str:
        # One spelling per row (a UUID logged with or without hyphens is the same row).
        try:
            return str(pk_field.to_python(raw))
        except ValidationError:
            return raw

    by_pk: dict[str, list[_Entry]] = defaultdict(list)
    for entry in entries:
        if entry.source_type_id != content_type.pk:
            report.problems.append(
                f"{_describe(entry)} of kind {logged.kind} points at a row that is not a {name}"
            )
            continue
        by_pk[key(entry.source_pk)].append(entry)
    for pk, same in by_pk.items():
        if len(same) > 1:
            where = ", ".join(_describe(e) for e in same)
            report.problems.append(f"{name} {pk} is logged more than once: {where}")
    pks = sorted(by_pk)
    for chunk in _chunks(pks):
        values = [pk_field.to_python(pk) for pk in chunk]
        rows = {str(row.pk): row for row in logged.rows(election).filter(pk__in=values)}
        logged_bytes_of = dict(
            LogEntry.objects.filter(pk__in=[by_pk[pk][-1].id for pk in chunk]).values_list(
                "id", "canonical"
            )
        )
        for pk in chunk:
            entry = by_pk[pk][-1]
            row = rows.get(pk)
            if row is None:
                report.problems.append(f"{name} {pk} ({_describe(entry)}) was removed")
                continue
            report.rows_checked += 1
            try:
                now = canonical_bytes(logged.record(row), logged.kind)
            except LedgerError as error:
                report.problems.append(f"{name} {pk} ({_describe(entry)}): {error}")
                continue
            logged_bytes = bytes(logged_bytes_of[entry.id])
            if now != logged_bytes:
                report.problems.append(
                    f"{name} {pk} ({_describe(entry)}) was changed: "
                    f"{_changed_fields(logged_bytes, now)}"
                )
    known = set(by_pk)
    added = [
        str(pk)
        for pk in logged.rows(election).values_list("pk", flat=True).iterator(chunk_size=CHUNK)
        if str(pk) not in known
    ]
    for pk in sorted(added):
        report.problems.append(f"{name} {pk} was added outside the log (no log entry)")


def check_database(election: Election, verifier: Verifier | None = None) -> DatabaseReport:
    """Check `election`'s rows against its log; `verifier` is the log's key as published (by
    default the server's own)."""
    state = LogState.objects.select_related("election").filter(election=election).first()
    if state is None:
        report = DatabaseReport(origin="", size=0)
    else:
        report = DatabaseReport(origin=state.origin, size=state.size)
        if state.checkpoint:
            _check_published(state, verifier or log_verifier(state.origin), report)
    _check_rows(election, report)
    return report
