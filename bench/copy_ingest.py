"""Sustained protocol-copy ingest through the real HTTP API, on PostgreSQL.

    .venv/bin/python bench/copy_ingest.py                          # 2,500 stations, 6,000 copies
    .venv/bin/python bench/copy_ingest.py --copies 1500 --clients 8 --workers 2
    .venv/bin/python bench/copy_ingest.py --signed     # every copy signed by its device key
    .venv/bin/python bench/copy_ingest.py --before 9dbf070 --rounds 3   # and old code, alternating

A fresh PostgreSQL database `bench_copy_ingest` (dropped afterwards) gets an election
(bench/copy_setup.py: the shipped Kazakh referendum template, official results at every station,
three observers per station from three organisations, each with a device token). Then:

- **Server**: `pollwatch serve` — the production server (Granian) with `--workers` worker
  processes of `--threads` threads each, on one loopback port, without access logging.
- **Load**: `--clients` keep-alive connections from this process (bench/http_load.py: one
  asyncio loop, requests built before the run), each sending the next copy as soon as the
  previous answer arrives (a closed loop: the load is bounded by the clients, never queued
  without limit). Every copy is a new one by an observer at their own station (POST
  /api/v1/protocol-copies with the observer's bearer token), so each request stores a copy,
  rechecks its station's findings and appends to the log.
- **Signed** (`--signed`): the election requires signatures; each observer has a registered
  Ed25519 device key, and each copy carries its signature (made before the run), which the
  server verifies before accepting it.
- **The log**: `pollwatch integrate` runs beside the server throughout, as in production. After
  the run, each copy's receipt latency is read from the database: from its log entry's
  creation (in the submitting transaction) to the publication of the first checkpoint that
  holds it, from which its receipt is served (issue 4's target: p99 <= 2 s).

Reported: copies per second over the run, errors (any answer but 201, or a failed
connection), latency percentiles seen by the clients, and where the time goes: CPU seconds per
copy of the app processes, of the integrator, of PostgreSQL's backends serving them, and of
the load generator (from /proc), beside the wall time. Prints the figures and writes
bench/results/copy_ingest.json. Targets: >= 500 copies/s, 0 errors, p99 <= 250 ms.

With `--rounds N` each code runs N times on a fresh database and the round of median throughput
is kept whole (this machine's speed drifts between minutes); `--before REV` runs commit REV's
code (its `src`, first on PYTHONPATH) in the same rounds, alternating which goes first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import http_load
from harness import (
    child_env,
    commit_of,
    export_source,
    percentiles_ms,
    run_child,
    scratch_postgres_database,
    with_source,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "copy_ingest.json"
BENCH_DATABASE = "bench_copy_ingest"
TARGETS = {"copies_per_second": 500, "errors": 0, "p99_ms": 250, "receipt_p99_s": 2.0}
OBSERVERS_PER_STATION = 3
PORT = 8750
OK = frozenset({201})
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=2500)
    parser.add_argument("--copies", type=int, default=6000, help="copies to send in the run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client connections")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument("--signed", action="store_true", help="sign every copy (and require it)")
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--before", metavar="REV", help="also measure commit REV, alternating")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each code (median kept)")
    parser.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(_setup(args.stations, args.setup, signed=args.signed)))
        return
    if args.copies + args.clients * 2 > args.stations * OBSERVERS_PER_STATION:
        raise SystemExit("--copies: at most three per station (one per observer), warm-up included")

    with tempfile.TemporaryDirectory(prefix="bench-copy-ingest-") as directory:
        work = Path(directory)
        codes: dict[str, Path | None] = {"this checkout": None}
        if args.before:
            codes = {"before": export_source(args.before, work / "before"), **codes}
        rounds: dict[str, list[dict[str, Any]]] = {label: [] for label in codes}
        for number in range(args.rounds):
            order = list(codes.items())
            for label, source in order if number % 2 == 0 else reversed(order):
                rounds[label].append(_measured(args, work / f"{label}-{number}", source))
                print(f"round {number + 1}, {label}: {_summary(rounds[label][-1])}", flush=True)
    report = {
        "benchmark": "copy_ingest",
        "stations": args.stations,
        "copies": args.copies,
        "clients": args.clients,
        "signed": args.signed,
        "server": f"pollwatch serve (Granian, WSGI): {args.workers} worker processes x "
        f"{args.threads} threads, no access log",
        "load_generator": "bench/http_load.py: one asyncio loop, keep-alive connections, "
        "requests built before the run",
        "targets": TARGETS,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "revision": commit_of("HEAD"),
        # The round of median throughput, whole, so that its figures belong together.
        **_median_round(rounds["this checkout"]),
        "rounds": {label: [_summary(run) for run in runs] for label, runs in rounds.items()},
    }
    if args.before:
        report["before"] = {
            "revision": commit_of(args.before),
            **_median_round(rounds["before"]),
        }
    _print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


def _measured(args: argparse.Namespace, work: Path, source: Path | None) -> dict[str, Any]:
    """One round: a fresh database and election, the server and integrator on `source`'s code
    (None: this checkout's), the load."""
    work.mkdir(parents=True)
    with scratch_postgres_database(args.postgres, BENCH_DATABASE) as url:
        env = with_source(child_env(work, url), source)
        env["POLLWATCH_ALLOWED_HOSTS"] = "127.0.0.1"
        seats_file = work / "seats.json"
        setup = run_child(
            __file__,
            [
                "--stations", str(args.stations), "--setup", str(seats_file),
                *(["--signed"] if args.signed else []),
            ],
            env,
        )  # fmt: skip
        seats = json.loads(seats_file.read_text())
        return _run(args, env, url, setup["slug"], seats)


def _median_round(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda run: run["copies_per_second"])[(len(runs) - 1) // 2]


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "copies_per_second": run["copies_per_second"],
        "errors": run["errors"],
        "p99_ms": run["latency_ms"].get("p99"),
        "receipt_p99_ms": run["receipt_latency_ms"].get("p99"),
        "cpu_ms_per_copy": run["cpu_ms_per_copy"],
    }


def _run(
    args: argparse.Namespace, env: dict[str, str], url: str, slug: str, seats: list[Any]
) -> dict[str, Any]:
    command = [
        str(Path(sys.executable).with_name("pollwatch")), "serve", "--port", str(PORT),
        "--workers", str(args.workers), "--threads", str(args.threads),
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    integrator = subprocess.Popen([command[0], "integrate"], env=env, stdout=subprocess.DEVNULL)
    try:
        http_load.wait_for_port(PORT)
        warm = seats[: args.clients * 2]  # imports, caches, each thread's database session
        warm_outcome = http_load.run([PORT], _split(_requests(warm), args.clients), OK)
        measured = _requests(seats[len(warm) : len(warm) + args.copies])
        per_client = _split(measured, args.clients)
        cpu_before = _cpu_seconds(server.pid, integrator.pid, url)
        first_entry = _last_entry(url)
        own_before = time.process_time()
        load_before = os.getloadavg()
        outcome = http_load.run([PORT], per_client, OK)
        own = time.process_time() - own_before
        cpu_after = _cpu_seconds(server.pid, integrator.pid, url)
        in_database = _stored_copies(url)
        receipts = _receipt_latencies(url, first_entry)
    finally:
        for process in (server, integrator):
            process.send_signal(signal.SIGTERM)
        for process in (server, integrator):
            process.wait(timeout=60)
    copies = outcome.statuses.get(201, 0)
    per_copy = max(copies, 1)
    return {
        "copies_per_second": round(copies / outcome.seconds, 1),
        "stored": copies,
        # Warm-up and run together, counted in the database: none lost, none duplicated.
        "in_database": in_database,
        "answered_201": copies + warm_outcome.statuses.get(201, 0),
        "errors": len(outcome.failures) + len(warm_outcome.failures),
        "error_samples": (warm_outcome.samples + outcome.samples)[:5],
        "seconds": round(outcome.seconds, 2),
        "latency_ms": percentiles_ms(outcome.latencies),
        "receipt_latency_ms": percentiles_ms(receipts),
        "copies_per_transaction": _copies_per_transaction(url),
        "cpu_ms_per_copy": {
            "app_server": round(1000 * (cpu_after["app"] - cpu_before["app"]) / per_copy, 2),
            "integrator": round(
                1000 * (cpu_after["integrator"] - cpu_before["integrator"]) / per_copy, 2
            ),
            "postgresql_backends": round(
                1000 * (cpu_after["postgres"] - cpu_before["postgres"]) / per_copy, 2
            ),
            "load_generator": round(1000 * own / per_copy, 2),
            "wall_ms_per_copy_x_cpus": round(
                1000 * outcome.seconds * (os.cpu_count() or 1) / per_copy, 2
            ),
        },
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def _requests(seats: list[Any]) -> list[bytes]:
    """One new copy per seat, by the seat's observer at their station (built in the setup)."""
    return [
        http_load.request_bytes(
            "POST",
            "/api/v1/protocol-copies",
            json.dumps(seat["body"]).encode(),
            {"Authorization": f"Bearer {seat['token']}", "Content-Type": "application/json"},
        )
        for seat in seats
    ]


def _split(requests: list[bytes], clients: int) -> list[list[bytes]]:
    return [requests[index::clients] for index in range(clients)]


def _cpu_seconds(server_pid: int, integrator_pid: int, url: str) -> dict[str, float]:
    """CPU seconds so far of the server's processes, of the integrator and of the PostgreSQL
    backends of this database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return {
        "app": sum(_process_cpu(pid) for pid in _process_tree(server_pid)),
        "integrator": _process_cpu(integrator_pid),
        "postgres": sum(_process_cpu(pid) for (pid,) in rows),
    }


def _process_tree(root: int) -> list[int]:
    """`root` and its descendants (the server's worker processes)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, frontier = [root], [root]
    while frontier:
        frontier = [child for pid in frontier for child in parents.get(pid, [])]
        tree += frontier
    return tree


def _last_entry(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute("SELECT coalesce(max(id), 0) FROM ledger_logentry").fetchone()
    return int(row[0]) if row else 0


def _receipt_latencies(url: str, after_entry: int) -> list[float]:
    """Seconds from each entry's creation to the publication of the first checkpoint that
    holds it, for the entries after ``after_entry``, once the integrator has caught up."""
    import bisect

    import psycopg

    deadline = time.monotonic() + 60
    with psycopg.connect(url, autocommit=True) as admin:
        caught_up = (
            "SELECT NOT EXISTS (SELECT 1 FROM ledger_pendingentry) "
            "AND NOT EXISTS (SELECT 1 FROM ledger_logstate WHERE size < sequenced)"
        )
        while admin.execute(caught_up).fetchone() != (True,):
            if time.monotonic() > deadline:
                raise SystemExit("the integrator did not catch up within 60 s")
            time.sleep(0.2)
        published = admin.execute(
            "SELECT size, published_at FROM ledger_logcheckpoint ORDER BY size"
        ).fetchall()
        entries = admin.execute(
            "SELECT e.created_at, i.index FROM ledger_logentry e "
            "JOIN ledger_logindex i ON i.entry_id = e.id WHERE e.id > %s",
            [after_entry],
        ).fetchall()
    sizes = [size for size, _ in published]
    return [
        (published[bisect.bisect_right(sizes, index)][1] - created).total_seconds()
        for created, index in entries
    ]


def _copies_per_transaction(url: str) -> float:
    """How many copies group commit stored together, on average: rows a transaction inserted
    share its id (xmin)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*)::float / count(DISTINCT xmin::text) FROM protocols_protocolcopy"
        ).fetchone()
    return round(row[0], 2) if row else 0.0


def _stored_copies(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute("SELECT count(*) FROM protocols_protocolcopy").fetchone()
    return int(row[0]) if row else 0


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _print(report: dict[str, Any]) -> None:
    latency = report["latency_ms"]
    print(
        f"\n{report['stored']:,} copies in {report['seconds']} s: "
        f"{report['copies_per_second']} copies/s (target {TARGETS['copies_per_second']}), "
        f"{report['errors']} errors, latency p50 {latency['p50']} ms, p99 {latency['p99']} ms "
        f"(target {TARGETS['p99_ms']}), max {latency['max']} ms"
    )
    receipts = report["receipt_latency_ms"]
    print(
        f"receipt available after submission: p50 {receipts.get('p50')} ms, "
        f"p99 {receipts.get('p99')} ms (target {TARGETS['receipt_p99_s']} s), "
        f"max {receipts.get('max')} ms{' (signed copies)' if report['signed'] else ''}"
    )
    print(f"CPU per copy (ms): {report['cpu_ms_per_copy']}")
    print(
        f"copies in the database {report['in_database']:,}, answered 201 {report['answered_201']:,}"
        f"; load average before/after: {report['load_average_before']} / "
        f"{report['load_average_after']}"
    )
    for sample in report["error_samples"]:
        print(f"  error: {sample}")
    if "before" in report:
        before = report["before"]
        print(
            f"before ({before['revision'][:10]}), its median round: "
            f"{before['copies_per_second']} copies/s, p99 {before['latency_ms']['p99']} ms, "
            f"CPU per copy (ms) {before['cpu_ms_per_copy']}"
        )


# The child: the setup.


def _setup(stations: int, seats_file: Path, *, signed: bool) -> dict[str, Any]:
    import random

    os.environ["DJANGO_SETTINGS_MODULE"] = "pollwatch.settings"
    import django

    django.setup()
    from django.core.management import call_command

    import copy_setup

    call_command("migrate", verbosity=0)
    election = copy_setup.build(stations, OBSERVERS_PER_STATION, tokens=True)
    signers = _device_keys(election) if signed else {}
    codes = _station_codes()
    seats = []
    for seat in election.seats:
        slip = 3 if seat.user_id % 7 == 0 else 0  # a few observers mistype
        figures = copy_setup.protocol(seat.registered, random.Random(seat.station_id), slip=slip)
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "election": election.slug,
            "station": seat.station_id,
            "figures": figures,
            "all_members_signed": True,
            "certified": True,
        }
        if signed:
            body |= _signature(body, codes[seat.station_id], signers[seat.user_id])
        seats.append({"token": seat.token, "body": body})
    # In random order: a station's copies arrive at any moment, sometimes together.
    random.Random(7).shuffle(seats)
    seats_file.write_text(json.dumps(seats))
    return {"slug": election.slug}


def _device_keys(election: Any) -> dict[int, tuple[int, Any]]:
    """A registered Ed25519 key per observer (by user id): the key's id and its private half.
    The election then requires every copy to be signed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from django.utils import timezone

    from pollwatch.accreditation.models import DeviceKey, Observer
    from pollwatch.registry.models import Election

    Election.objects.filter(slug=election.slug).update(signatures_required=True)
    observers = dict(Observer.objects.values_list("user_id", "pk"))
    private = {seat.user_id: Ed25519PrivateKey.generate() for seat in election.seats}
    now = timezone.now()
    keys = DeviceKey.objects.bulk_create(
        DeviceKey(
            observer_id=observers[user_id],
            public_key=key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            name="bench phone",
            created_at=now,
        )
        for user_id, key in private.items()
    )
    return {
        user_id: (row.pk, key) for (user_id, key), row in zip(private.items(), keys, strict=True)
    }


def _station_codes() -> dict[int, str]:
    from pollwatch.registry.models import PollingStation

    return dict(PollingStation.objects.values_list("pk", "code"))


def _signature(body: dict[str, Any], station_code: str, signer: tuple[int, Any]) -> dict[str, Any]:
    """The device's detached signature over the copy, as the observer's phone makes it."""
    from base64 import b64encode

    from pollwatch.protocols import canonical, signatures

    signed = canonical.copy_body(
        election_slug=body["election"],
        station_code=station_code,
        figures=body["figures"],
        all_members_signed=body["all_members_signed"],
        certified=body["certified"],
        photo_sha256s=[],
        supersedes=None,
    )
    key_id, private_key = signer
    message = signatures.signed_message(uuid.UUID(body["id"]), signed)
    return {"device_key": key_id, "signature": b64encode(private_key.sign(message)).decode()}


if __name__ == "__main__":
    main()
