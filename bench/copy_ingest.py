"""Sustained protocol-copy ingest through the real HTTP API, on PostgreSQL.

    .venv/bin/python bench/copy_ingest.py                          # 2,000 stations, 6,000 copies
    .venv/bin/python bench/copy_ingest.py --copies 1500 --clients 8 --workers 2

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

Reported: copies per second over the run, errors (any answer but 201, or a failed
connection), latency percentiles seen by the clients, and where the time goes: CPU seconds per
copy of the app processes, of PostgreSQL's backends serving them, and of the load generator
(from /proc), beside the wall time. Prints the figures and writes
bench/results/copy_ingest.json. Targets: >= 500 copies/s, 0 errors, p99 <= 250 ms.
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
from harness import child_env, run_child, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "copy_ingest.json"
BENCH_DATABASE = "bench_copy_ingest"
TARGETS = {"copies_per_second": 500, "errors": 0, "p99_ms": 250}
OBSERVERS_PER_STATION = 3
PORT = 8750
OK = frozenset({201})
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=6000, help="copies to send in the run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client connections")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(_setup(args.stations, args.setup)))
        return
    if args.copies + args.clients * 2 > args.stations * OBSERVERS_PER_STATION:
        raise SystemExit("--copies: at most three per station (one per observer), warm-up included")

    with tempfile.TemporaryDirectory(prefix="bench-copy-ingest-") as directory:
        work = Path(directory)
        with scratch_postgres_database(args.postgres, BENCH_DATABASE) as url:
            env = child_env(work, url)
            env["POLLWATCH_ALLOWED_HOSTS"] = "127.0.0.1"
            seats_file = work / "seats.json"
            setup = run_child(
                __file__, ["--stations", str(args.stations), "--setup", str(seats_file)], env
            )
            seats = json.loads(seats_file.read_text())
            result = _run(args, env, url, setup["slug"], seats)
    report = {
        "benchmark": "copy_ingest",
        "stations": args.stations,
        "copies": args.copies,
        "clients": args.clients,
        "server": f"pollwatch serve (Granian, WSGI): {args.workers} worker processes x "
        f"{args.threads} threads, no access log",
        "load_generator": "bench/http_load.py: one asyncio loop, keep-alive connections, "
        "requests built before the run",
        "targets": TARGETS,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **result,
    }
    _print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


def _run(
    args: argparse.Namespace, env: dict[str, str], url: str, slug: str, seats: list[Any]
) -> dict[str, Any]:
    command = [
        str(Path(sys.executable).with_name("pollwatch")), "serve", "--port", str(PORT),
        "--workers", str(args.workers), "--threads", str(args.threads),
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        http_load.wait_for_port(PORT)
        warm = seats[: args.clients * 2]  # imports, caches, each thread's database session
        warm_outcome = http_load.run([PORT], _split(_requests(warm, slug), args.clients), OK)
        measured = _requests(seats[len(warm) : len(warm) + args.copies], slug)
        per_client = _split(measured, args.clients)
        cpu_before = _cpu_seconds(server.pid, url)
        own_before = time.process_time()
        load_before = os.getloadavg()
        outcome = http_load.run([PORT], per_client, OK)
        own = time.process_time() - own_before
        cpu_after = _cpu_seconds(server.pid, url)
        in_database = _stored_copies(url)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
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
        "latency_ms": http_load.percentiles(outcome.latencies),
        "cpu_ms_per_copy": {
            "app_server": round(1000 * (cpu_after["app"] - cpu_before["app"]) / per_copy, 2),
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


def _requests(seats: list[Any], slug: str) -> list[bytes]:
    """One new copy per seat, by the seat's observer at their station."""
    return [
        http_load.request_bytes(
            "POST",
            "/api/v1/protocol-copies",
            json.dumps(
                {
                    "id": str(uuid.uuid4()),
                    "election": slug,
                    "station": seat["station_id"],
                    "figures": seat["figures"],
                    "all_members_signed": True,
                    "certified": True,
                }
            ).encode(),
            {"Authorization": f"Bearer {seat['token']}", "Content-Type": "application/json"},
        )
        for seat in seats
    ]


def _split(requests: list[bytes], clients: int) -> list[list[bytes]]:
    return [requests[index::clients] for index in range(clients)]


def _cpu_seconds(server_pid: int, url: str) -> dict[str, float]:
    """CPU seconds so far of the server's processes and of the PostgreSQL backends of this
    database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return {
        "app": sum(_process_cpu(pid) for pid in _process_tree(server_pid)),
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
    print(f"CPU per copy (ms): {report['cpu_ms_per_copy']}")
    print(
        f"copies in the database {report['in_database']:,}, answered 201 {report['answered_201']:,}"
        f"; load average before/after: {report['load_average_before']} / "
        f"{report['load_average_after']}"
    )
    for sample in report["error_samples"]:
        print(f"  error: {sample}")


# The child: the setup.


def _setup(stations: int, seats_file: Path) -> dict[str, Any]:
    import random

    os.environ["DJANGO_SETTINGS_MODULE"] = "pollwatch.settings"
    import django

    django.setup()
    from django.core.management import call_command

    import copy_setup

    call_command("migrate", verbosity=0)
    election = copy_setup.build(stations, OBSERVERS_PER_STATION, tokens=True)
    seats = []
    for seat in election.seats:
        slip = 3 if seat.user_id % 7 == 0 else 0  # a few observers mistype
        figures = copy_setup.protocol(seat.registered, random.Random(seat.station_id), slip=slip)
        seats.append({"station_id": seat.station_id, "token": seat.token, "figures": figures})
    # In random order: a station's copies arrive at any moment, sometimes together.
    random.Random(7).shuffle(seats)
    seats_file.write_text(json.dumps(seats))
    return {"slug": election.slug}


if __name__ == "__main__":
    main()
