"""Sustained protocol-copy ingest through the real HTTP API, on PostgreSQL.

    .venv/bin/python bench/copy_ingest.py                          # 2,000 stations, 6,000 copies
    .venv/bin/python bench/copy_ingest.py --copies 1500 --clients 8 --servers 2

A fresh PostgreSQL database `bench_copy_ingest` (dropped afterwards) gets an election
(bench/copy_setup.py: the shipped Kazakh referendum template, official results at every station,
three observers per station from three organisations, each with a device token). Then:

- **Server**: `--servers` processes, each Django's own threaded WSGI server (the one behind
  `runserver`: the standard library's wsgiref with a thread per connection and HTTP/1.1
  keep-alive) serving `pollwatch.wsgi` without request logging, on its own loopback port — app
  processes are stateless, so this is what several processes behind a load balancer do. No
  other WSGI server is installed (no gunicorn/uwsgi), and this one needs nothing more.
- **Load**: `--clients` threads in this process, each with a keep-alive `http.client`
  connection to one server (round robin), each sending the next copy as soon as the previous
  answer arrives (a closed loop: the load is bounded by the clients, never queued without
  limit). Every copy is a new one by an observer at their own station (POST
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
import http.client
import itertools
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from harness import child_env, run_child, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "copy_ingest.json"
BENCH_DATABASE = "bench_copy_ingest"
TARGETS = {"copies_per_second": 500, "errors": 0, "p99_ms": 250}
OBSERVERS_PER_STATION = 3
BASE_PORT = 8750
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=6000, help="copies to send in the run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client connections")
    parser.add_argument("--servers", type=int, default=2, help="app server processes")
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        print(json.dumps(_setup(args.stations, args.setup)))
        return
    if args.serve:
        _serve(args.serve)
        return
    if args.copies > args.stations * OBSERVERS_PER_STATION:
        raise SystemExit("--copies: at most three per station (one per observer)")

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
        "servers": args.servers,
        "server": "Django's ThreadedWSGIServer (stdlib wsgiref, thread per connection, "
        "keep-alive), request logging off, one process per port",
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
    ports = [BASE_PORT + index for index in range(args.servers)]
    servers = [
        subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env)
        for port in ports
    ]
    try:
        for port in ports:
            _wait_for(port)
        # One keep-alive connection per client for the warm-up and the run alike, so the
        # server threads and their database sessions (the backends measured) live throughout.
        connections = [
            http.client.HTTPConnection("127.0.0.1", ports[index % len(ports)], timeout=60)
            for index in range(args.clients)
        ]
        warm = seats[: args.clients * 2]
        warm_stored = _load(warm, slug, connections)["stored"]  # imports, caches, sessions
        measured = seats[len(warm) : len(warm) + args.copies]
        cpu_before = _cpu_seconds(servers, url)
        own_before = time.process_time()
        load_before = os.getloadavg()
        outcome = _load(measured, slug, connections)
        own = time.process_time() - own_before
        cpu_after = _cpu_seconds(servers, url)
        in_database = _stored_copies(url)
        for connection in connections:
            connection.close()
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)
    copies = outcome["stored"]
    per_copy = max(copies, 1)
    return {
        "copies_per_second": round(copies / outcome["seconds"], 1),
        "stored": copies,
        # Warm-up and run together, counted in the database: none lost, none duplicated.
        "in_database": in_database,
        "answered_201": copies + warm_stored,
        "errors": outcome["errors"],
        "error_samples": outcome["error_samples"],
        "seconds": round(outcome["seconds"], 2),
        "latency_ms": _percentiles(outcome["latencies"]),
        "cpu_ms_per_copy": {
            "app_servers": round(1000 * (cpu_after["app"] - cpu_before["app"]) / per_copy, 2),
            "postgresql_backends": round(
                1000 * (cpu_after["postgres"] - cpu_before["postgres"]) / per_copy, 2
            ),
            "load_generator": round(1000 * own / per_copy, 2),
            "wall_ms_per_copy_x_cpus": round(
                1000 * outcome["seconds"] * (os.cpu_count() or 1) / per_copy, 2
            ),
        },
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }


def _load(
    seats: list[Any], slug: str, connections: list[http.client.HTTPConnection]
) -> dict[str, Any]:
    """Send one copy per seat, a thread per connection; returns counts and latencies."""
    queue = iter(seats)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    stored = itertools.count()

    def client(connection: http.client.HTTPConnection) -> None:
        while True:
            with lock:
                seat = next(queue, None)
            if seat is None:
                break
            body = json.dumps(
                {
                    "id": str(uuid.uuid4()),
                    "election": slug,
                    "station": seat["station_id"],
                    "figures": seat["figures"],
                    "all_members_signed": True,
                    "certified": True,
                }
            )
            headers = {
                "Authorization": f"Bearer {seat['token']}",
                "Content-Type": "application/json",
            }
            start = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/protocol-copies", body, headers)
                response = connection.getresponse()
                content = response.read()
            except (OSError, http.client.HTTPException) as error:
                errors.append(f"{type(error).__name__}: {error}")
                connection.close()  # http.client reconnects on the next request
                continue
            latencies.append(time.perf_counter() - start)
            if response.status == 201:
                next(stored)
            else:
                errors.append(f"{response.status}: {content[:200]!r}")

    threads = [threading.Thread(target=client, args=(c,)) for c in connections]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "stored": next(stored),
        "errors": len(errors),
        "error_samples": errors[:5],
        "seconds": seconds,
        "latencies": latencies,
    }


def _cpu_seconds(servers: list[subprocess.Popen[bytes]], url: str) -> dict[str, float]:
    """CPU seconds so far of the app processes and of the PostgreSQL backends of this database."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return {
        "app": sum(_process_cpu(server.pid) for server in servers),
        "postgres": sum(_process_cpu(pid) for (pid,) in rows),
    }


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


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/v1/elections")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not start")


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


# Children: the setup, and the servers.


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


def _serve(port: int) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "pollwatch.settings"
    import django

    django.setup()
    from django.conf import settings

    # Persistent database sessions, as production keeps them (or a pooler does): a fresh
    # PostgreSQL backend per minute per thread would only add noise to the measurement.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = None
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", port), QuietHandler)
    server.set_app(WSGIHandler())
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(value * 1000 for value in seconds)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "n": len(ms),
        "p50": round(statistics.median(ms), 2),
        "p90": round(cuts[89], 2),
        "p99": round(cuts[98], 2),
        "mean": round(statistics.fmean(ms), 2),
        "max": round(ms[-1], 2),
    }


if __name__ == "__main__":
    main()
