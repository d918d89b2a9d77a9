"""The transparency log's server path on SQLite and PostgreSQL: appending, integrating a
million entries, serving receipts, and submission-to-checkpoint latency under load.

    .venv/bin/python bench/ledger_integrate.py                     # 1,000,000 entries, both
    .venv/bin/python bench/ledger_integrate.py --entries 100000 --backends sqlite

Each backend runs in its own process (harness.run_child) on a scratch database (a SQLite file
in a temporary data dir; PostgreSQL database `bench_ledger`, created and dropped here):

1. append: what `append_to_log` adds to the caller's transaction (target: ~1 ms); the commit,
   which the caller pays anyway, is recorded beside it.
2. integrate: N pending entries of ~400 bytes (bulk-inserted first, not timed) through
   `pollwatch integrate --once`'s code path — sequencing, tiles and entry bundles written to
   disk, checkpoint signed and committed (target: 1,000,000 in <= 20 s on PostgreSQL).
3. receipts: `c2sp.org/tlog-proof@v1` receipts for random entries: the inclusion proof from
   the tiles on disk, and through the in-process tile cache (cold, then warm); the service;
   the test client; and (`served`) the server time of --requests GETs of the receipt,
   checkpoint and tile endpoints through Django's WSGI handler, median and p99, wall and CPU
   (target: <= 2 ms median).
4. latency: `pollwatch integrate --interval 0.1` runs as a separate process while this one
   appends entries at --rate per second for --seconds, from 8 threads (as web workers);
   latency is an entry's created_at (in the submitting transaction) to the publication of the
   first checkpoint that holds it (LogCheckpoint.published_at), from which its receipt is
   served (target: p99 <= 2 s at 500/s).

Prints the figures and writes bench/results/ledger_integrate.json (recorded there at 1,000,000
entries on a heavily loaded machine, before ANALYZE was added after the bulk load);
ledger_integrate_postgresql.json is the later PostgreSQL run at 1,000,000 (integrate 16.6 s)
and ledger_latency.json a run at 20,000 entries (`--out`) for append and latency.
ledger_receipts.json is a `--receipts-only` run at 100,000 entries with, as "before", the same
run on earlier code: `--before REV` runs it in the same invocation from an export of commit
REV (`git archive`, run with PYTHONPATH=<export>/src; this script and harness.py are the
current ones), each database's before and after children one after the other; `--rounds N`
runs N such pairs, the order alternating (before first in odd rounds). `--baseline FILE`
instead keeps the results file of an earlier run.

    .venv/bin/python bench/ledger_integrate.py --entries 100000 --receipts-only \
        --before HEAD --rounds 2 --out bench/results/ledger_receipts.json --database <db>

`inclusion_proof_from_tiles` reads every tile from disk, no database involved: its wall time
is given with this thread's CPU time beside it, as the PostgreSQL child shares the machine
with the server's background work after the bulk load and integration.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import (
    child_env,
    export_source,
    run_child,
    scratch_postgres_database,
    with_source,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "ledger_integrate.json"
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
POSTGRES_DATABASE = "bench_ledger"
TARGETS = {
    "integrate_seconds_1m_postgresql": 20.0,
    "proof_ms": 2.0,
    "latency_p99_s": 2.0,
    "served_median_ms": 2.0,
}
APPENDS = 2000
RECEIPTS = 500
SUBMITTERS = 8
INSERT_BATCH = 5000  # rows per INSERT: server-side binding allows 65,535 parameters
PAD = "x" * 300  # a canonical record of about 400 bytes, like a protocol copy's


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _record(n: int) -> dict[str, Any]:
    return {"kind": "bench", "n": n, "station": f"{n % 10411:05d}", "pad": PAD}


def _ms(seconds: list[float], fraction: float | None = None) -> float:
    """Median (or the `fraction` percentile) of `seconds`, in milliseconds."""
    value = statistics.median(seconds) if fraction is None else _percentile(seconds, fraction)
    return round(value * 1000, 3)


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None, /
) -> Callable[[bytes], object]:
    return _write_nothing


def _write_nothing(data: bytes) -> None:
    pass


def _served(paths: list[str]) -> dict[str, float]:
    """Server time of GET `paths`, one after the other: the WSGI handler's call as a WSGI
    server makes it (request signals, middleware, URL resolution, view, body, close), in
    process. Wall time includes the database server's; CPU time is this thread's alone."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    handler = WSGIHandler()
    factory = RequestFactory(HTTP_HOST="localhost")
    wall, cpu = [], []
    for path in paths:
        environ = factory.get(path).environ
        start, start_cpu = time.perf_counter(), time.thread_time()
        response = handler(environ, _start_response)
        b"".join(response)
        response.close()
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return {
        "median_ms": _ms(wall),
        "p99_ms": _ms(wall, 0.99),
        "cpu_median_ms": _ms(cpu),
        "cpu_p99_ms": _ms(cpu, 0.99),
    }


def _receipts(election: Any, size: int, requests: int) -> dict[str, Any]:
    """Receipts of random entries: the inclusion proof alone, the service, and the server time
    of the receipt, checkpoint and tile endpoints over HTTP. Works on the code before the
    in-process tile cache too (pollwatch.ledger.tile_cache absent), for --baseline."""
    from django.test import Client

    from pollwatch.core.tlog.tiles import inclusion_proof_from_tiles, tile_path
    from pollwatch.ledger import serving
    from pollwatch.ledger.files import LogFiles
    from pollwatch.ledger.models import LogEntry

    figures: dict[str, Any] = {"receipt_requests": requests}
    files = LogFiles.of(election)
    indexes = random.sample(range(size), RECEIPTS)
    start, start_cpu = time.perf_counter(), time.thread_time()
    for index in indexes:
        inclusion_proof_from_tiles(files.tree_reader(size), index, size)
    figures["inclusion_proof_from_tiles_ms"] = round(
        (time.perf_counter() - start) / RECEIPTS * 1000, 3
    )
    figures["inclusion_proof_from_tiles_cpu_ms"] = round(
        (time.thread_time() - start_cpu) / RECEIPTS * 1000, 3
    )
    try:
        from pollwatch.ledger.tile_cache import inclusion_proof
    except ImportError:
        pass
    else:  # the proof as served: cold (first read of each tile), then warm
        for label in ("cold", "warm"):
            seconds = []
            for index in indexes:
                begin = time.perf_counter()
                inclusion_proof(files, index, size)
                seconds.append(time.perf_counter() - begin)
            figures[f"inclusion_proof_cached_{label}_ms_median"] = _ms(seconds)
            figures[f"inclusion_proof_cached_{label}_ms_p99"] = _ms(seconds, 0.99)
    ids = list(LogEntry.objects.order_by("?").values_list("pk", flat=True)[:RECEIPTS])
    if hasattr(serving, "locate_entry"):

        def service(entry_id: int) -> bytes:
            return serving.receipt(serving.locate_entry("bench", entry_id))
    else:  # the code before this change (--baseline)
        before: Any = serving

        def service(entry_id: int) -> bytes:
            return bytes(before.receipt(before.published_state("bench"), entry_id))

    start = time.perf_counter()
    for entry_id in ids:
        service(entry_id)
    figures["receipt_service_ms"] = round((time.perf_counter() - start) / RECEIPTS * 1000, 3)
    client = Client(HTTP_HOST="localhost")
    seconds = []
    for entry_id in ids:
        start = time.perf_counter()
        response = client.get(f"/log/bench/receipt/{entry_id}")
        seconds.append(time.perf_counter() - start)
        assert response.status_code == 200
    figures["receipt_http_ms_median"] = _ms(seconds)
    figures["receipt_http_ms_p99"] = _ms(seconds, 0.99)
    # Server time: receipts of other entries than above (their tiles read as they come: some
    # are in the cache from the entries above, others not yet), the checkpoint, and tiles at
    # random (a verifier's or mirror's fetches).
    fresh = LogEntry.objects.exclude(pk__in=ids).order_by("?").values_list("pk", flat=True)
    tiles = [f"/log/bench/{tile_path(0, random.randrange(size // 256))}" for _ in range(requests)]
    figures["served"] = {
        "receipt": _served([f"/log/bench/receipt/{entry_id}" for entry_id in fresh[:requests]]),
        "checkpoint": _served(["/log/bench/checkpoint"] * requests),
        "tile": _served(tiles),
    }
    return figures


def child(args: argparse.Namespace) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pollwatch.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import F

    from pollwatch.core.tlog import leaf_hash
    from pollwatch.ledger.appending import append_to_log, canonical_bytes
    from pollwatch.ledger.integration import run
    from pollwatch.ledger.models import LogCheckpoint, LogEntry, LogIndex, LogState, PendingEntry
    from pollwatch.registry.models import Election, ProtocolTemplate

    call_command("migrate", verbosity=0)
    template = ProtocolTemplate.objects.create(key="bench", name="bench", lines=[], relations=[])
    election = Election.objects.create(
        slug="bench", name="bench", kind="referendum", date=datetime.date(2026, 3, 15),
        template=template,
    )  # fmt: skip
    figures: dict[str, Any] = {"backend": connection.vendor, "entries": args.entries}

    # 1. append: what it adds to the caller's transaction (the commit is the caller's)
    seconds, commits = [], []
    for n in range(0 if args.receipts_only else APPENDS):
        with transaction.atomic():
            start = time.perf_counter()
            append_to_log(election, "bench", _record(n))
            seconds.append(time.perf_counter() - start)
            committed = time.perf_counter()
        commits.append(time.perf_counter() - committed)
    if seconds:
        figures["append_ms_median"] = round(statistics.median(seconds) * 1000, 3)
        figures["append_ms_p99"] = round(_percentile(seconds, 0.99) * 1000, 3)
        figures["commit_ms_median_for_reference"] = round(statistics.median(commits) * 1000, 3)

    # 2. integrate N pending entries
    load = time.perf_counter()
    rows = []
    for n in range(len(seconds), args.entries):
        data = canonical_bytes(_record(n))
        rows.append(LogEntry(election=election, kind="bench", canonical=data,
                             leaf_hash=leaf_hash(data)))  # fmt: skip
        if len(rows) == 20_000:
            LogEntry.objects.bulk_create(rows, batch_size=INSERT_BATCH)
            rows = []
    LogEntry.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    with connection.cursor() as cursor:  # each entry pending, as append_to_log leaves it
        cursor.execute(
            f"INSERT INTO {PendingEntry._meta.db_table} (entry_id, election_id) "
            f"SELECT id, election_id FROM {LogEntry._meta.db_table} "
            f"WHERE id NOT IN (SELECT entry_id FROM {PendingEntry._meta.db_table})"
        )
        # Statistics as autovacuum would have them: a million rows appeared at once here.
        cursor.execute("ANALYZE")
    figures["bulk_load_seconds_untimed_path"] = round(time.perf_counter() - load, 2)
    start = time.perf_counter()
    checkpoints = run(once=True, interval=1, batch=args.batch)
    integrate = time.perf_counter() - start
    state = LogState.objects.get()
    assert state.size == args.entries, state.size
    figures |= {
        "batch": args.batch,
        "checkpoints": checkpoints,
        "integrate_seconds": round(integrate, 2),
        "integrate_entries_per_second": round(args.entries / integrate),
    }

    # 3. receipts: the inclusion proof from the tiles on disk, the service, the HTTP view
    figures |= _receipts(election, state.size, args.requests)
    if args.receipts_only:
        return figures

    # 4. latency under load, the integrator in its own process
    integrator = subprocess.Popen(
        [sys.executable, "-m", "pollwatch", "integrate", "--interval", "0.1", "--batch", "4096"],
        env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    # Wait until it runs: one entry appended and published.
    with transaction.atomic():
        append_to_log(election, "bench", {"kind": "bench", "warm-up": True})
    deadline = time.monotonic() + 60
    while PendingEntry.objects.exists() or LogState.objects.filter(size__lt=F("sequenced")):
        assert time.monotonic() < deadline, "the integrator did not start"
        time.sleep(0.1)
    first = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    # Submitters in threads of their own, as web workers would be: a commit waits for the
    # disk, so one thread alone cannot reach hundreds per second on PostgreSQL.
    total = int(args.rate * args.seconds)
    start = time.perf_counter()

    def submitter(offset: int) -> None:
        try:
            for n in range(offset, total, SUBMITTERS):
                delay = start + n / args.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                with transaction.atomic():
                    append_to_log(election, "bench", _record(args.entries + n))
        finally:
            connection.close()

    threads = [threading.Thread(target=submitter, args=(i,)) for i in range(SUBMITTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    achieved = total / (time.perf_counter() - start)
    deadline = time.monotonic() + 30
    while PendingEntry.objects.exists() or LogState.objects.filter(size__lt=F("sequenced")):
        assert time.monotonic() < deadline, "the integrator did not catch up"
        time.sleep(0.1)
    integrator.terminate()
    integrator.wait(timeout=10)
    # An entry's receipt is served from the first checkpoint larger than its index.
    published = list(LogCheckpoint.objects.order_by("size").values_list("size", "published_at"))
    sizes = [size for size, _ in published]
    latencies = []
    for created, index in LogIndex.objects.filter(entry_id__gt=first).values_list(
        "entry__created_at", "index"
    ):
        at = published[bisect.bisect_right(sizes, index)][1]
        latencies.append((at - created).total_seconds())
    figures |= {
        "load_rate_per_second": round(achieved),
        "load_seconds": args.seconds,
        "latency_s_median": round(statistics.median(latencies), 3),
        "latency_s_p99": round(_percentile(latencies, 0.99), 3),
        "latency_s_max": round(max(latencies), 3),
    }
    return figures


def _revision() -> str:
    """The commit measured, marked dirty if the working tree differs from it."""
    head = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    )
    return head.stdout.strip()


def _measure(backend: str, arguments: list[str], database: str, code: Path | None) -> Any:
    """One child's figures on `backend`, on the code under `code` (else this checkout's)."""
    with tempfile.TemporaryDirectory() as work:
        url = None
        with contextlib.ExitStack() as stack:
            if backend == "postgresql":
                url = stack.enter_context(scratch_postgres_database(POSTGRES_SERVER, database))
            return run_child(__file__, arguments, with_source(child_env(Path(work), url), code))


def _results(results: list[Any], revision: str, label: str) -> dict[str, Any]:
    return {
        "bench": "ledger_integrate",
        "recorded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "revision": revision,
        "code": label,
        "targets": TARGETS,
        "results": results,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "note": "2 cores shared with other work while measuring",
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=16_384)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--receipts-only", action="store_true", help="integrate, then receipts; no append or load"
    )
    parser.add_argument("--requests", type=int, default=1000, help="HTTP requests per endpoint")
    parser.add_argument("--database", default=POSTGRES_DATABASE, help="scratch PostgreSQL db")
    baseline = parser.add_mutually_exclusive_group()
    baseline.add_argument(
        "--baseline", type=Path, help="a results file of the code before a change, kept as before"
    )
    baseline.add_argument(
        "--before", metavar="REV", help="also measure git revision REV, each database's run first"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs of each database (with --before: alternated)"
    )
    parser.add_argument("--label", default="", help="what code was measured, kept in the results")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    arguments = [
        "--child", "--entries", str(args.entries), "--batch", str(args.batch),
        "--rate", str(args.rate), "--seconds", str(args.seconds),
        "--requests", str(args.requests),
        *(["--receipts-only"] if args.receipts_only else []),
    ]  # fmt: skip
    results: list[Any] = []
    before: list[Any] = []
    with tempfile.TemporaryDirectory() as exported:
        code = None if args.before is None else export_source(args.before, Path(exported))
        for backend in args.backends.split(","):
            for number in range(1, args.rounds + 1):
                # Before and after alternate (ABBA...): neither always runs second.
                runs = [(before, code), (results, None)] if code is not None else [(results, None)]
                for kept, tree in runs if number % 2 else reversed(runs):
                    figures = _measure(backend, arguments, args.database, tree)
                    kept.append({**figures, "round": number} if args.rounds > 1 else figures)
                    print("before:" if tree else "after:", json.dumps(figures, indent=2))
    record = _results(results, _revision(), args.label)
    if args.baseline is not None:
        record["before"] = json.loads(args.baseline.read_text(encoding="utf-8"))
    if args.before is not None:
        described = subprocess.run(
            ["git", "rev-parse", "--short", args.before], cwd=ROOT, capture_output=True,
            text=True, check=True,
        ).stdout.strip()  # fmt: skip
        record["before"] = _results(before, described, f"before: an export of {args.before}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"recorded in {args.out}")


if __name__ == "__main__":
    random.seed(1)
    main()
