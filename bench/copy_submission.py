"""Server time of one protocol-copy submission, findings update included, on SQLite and PostgreSQL.

    .venv/bin/python bench/copy_submission.py                        # 2,000 stations, both
    .venv/bin/python bench/copy_submission.py --stations 500 --submissions 200 --skip-postgres

For each database (a fresh SQLite file; a fresh PostgreSQL database `bench_copy_submission`,
dropped afterwards), in its own process: migrate, build an election (bench/copy_setup.py: the
shipped Kazakh referendum template, official results at every station, three observers per
station from three organisations), then submit copies one after another, each by an observer
at their own station, so stations collect copies from several organisations:

- `service`: `submit_copy` called directly — validation, eligibility, the station lock, the
  insert, the station's findings recheck and the log entry, in one transaction;
- `api`: `POST /api/v1/protocol-copies` through Django's whole handler chain (device-token
  auth, every middleware, parsing, the same service, the response), timed by a middleware
  placed first, in-process via django.test.Client.

Also counts the statements of one `submit_copy` call (the binary COPY reads that bypass
Django's cursor wrapper included; BEGIN and COMMIT not), measures the CPU time of this thread per
submission (which a loaded machine disturbs far less than wall time), and profiles both paths
(top functions by own time, then pollwatch's by cumulative time). Prints the figures and writes
bench/results/copy_submission.json. Target: p50 <= 20 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import io
import json
import os
import platform
import pstats
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from harness import child_env, percentiles_ms, run_child, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "copy_submission.json"
BENCH_DATABASE = "bench_copy_submission"
TARGET_P50_MS = 20.0
OBSERVERS_PER_STATION = 3
WARM_UP = 20
PROFILED = 100

_server_seconds: list[float] = []


class ServerTimer:
    """Middleware, placed first: times everything Django does for a request."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        start = time.perf_counter()
        response = self.get_response(request)
        _server_seconds.append(time.perf_counter() - start)
        return response


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--submissions", type=int, default=400, help="per path (service, api)")
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.stations, args.submissions)))
        return
    needed = 2 * args.submissions + WARM_UP + 1 + 2 * PROFILED
    if needed > args.stations * OBSERVERS_PER_STATION:
        raise SystemExit(f"--stations: need at least {-(-needed // OBSERVERS_PER_STATION)}")

    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-copy-submission-") as directory:
        work = Path(directory)
        runs["sqlite"] = _run(args, work, f"sqlite:///{work / 'bench.sqlite3'}")
        _print("sqlite", runs["sqlite"])
        if not args.skip_postgres:
            with scratch_postgres_database(args.postgres, BENCH_DATABASE) as url:
                runs["postgresql"] = _run(args, work, url)
            _print("postgresql", runs["postgresql"])
    report = {
        "benchmark": "copy_submission",
        "stations": args.stations,
        "submissions_per_path": args.submissions,
        "observers_per_station": OBSERVERS_PER_STATION,
        "target_p50_ms": TARGET_P50_MS,
        "measured": "service: submit_copy (validation, eligibility, station lock, insert, the "
        "station's findings recheck, log entry; one transaction); api: POST "
        "/api/v1/protocol-copies inside Django's handler chain, in-process",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


def _run(args: argparse.Namespace, work: Path, url: str) -> dict[str, Any]:
    arguments = ["--child", "--stations", str(args.stations)]
    arguments += ["--submissions", str(args.submissions)]
    return run_child(__file__, arguments, child_env(work, url))


def _print(backend: str, run: dict[str, Any]) -> None:
    print(
        f"\n{backend} ({run['server']}), {run['queries_per_submission']} statements per "
        f"submission; process CPU per submission {run['process_cpu_ms']} ms; "
        f"load average {run['load_average']}"
    )
    cpu = run["service_cpu"]
    print(f"  service CPU of this thread: p50 {cpu['p50']:.2f}  p90 {cpu['p90']:.2f} ms")
    for path in ("service", "api"):
        ms = run[path]
        verdict = "ok" if ms["p50"] <= TARGET_P50_MS else "OVER TARGET"
        print(
            f"  {path:<8} n={ms['n']}  p50 {ms['p50']:.2f}  p90 {ms['p90']:.2f}  "
            f"p99 {ms['p99']:.2f}  max {ms['max']:.2f} ms  {verdict}"
        )
    for path in ("service", "api"):
        print(f"  where the {path} time goes (pollwatch functions, cumulative):")
        for line in run["profiles"][path]["pollwatch"][:16]:
            print(f"    {line}")


# The child: one database, chosen by its environment.


def _child(stations: int, submissions: int) -> dict[str, Any]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "pollwatch.settings"
    os.environ["POLLWATCH_ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    import copy_setup

    call_command("migrate", verbosity=0)
    election = copy_setup.build(stations, OBSERVERS_PER_STATION, tokens=True)
    seats = list(election.seats)
    random.Random(7).shuffle(seats)
    settings.MIDDLEWARE = [f"{__name__}.ServerTimer", *settings.MIDDLEWARE]

    service, api = _submitter(election.slug, "service"), _submitter(election.slug, "api")
    for seat in seats[:WARM_UP]:
        (service if seat.user_id % 2 else api)(seat)
    seats = seats[WARM_UP:]
    queries = _statements(_prepared(election.slug, seats.pop()))
    cpu = time.process_time()
    service_timed = [_timed(_prepared(election.slug, seat)) for seat in seats[:submissions]]
    service_cpu = (time.process_time() - cpu) / submissions
    seats = seats[submissions:]
    _server_seconds.clear()
    cpu = time.process_time()
    for seat in seats[:submissions]:
        api(seat)
    api_cpu = (time.process_time() - cpu) / submissions
    api_seconds = list(_server_seconds)
    seats = seats[submissions:]
    profiles = {  # the service's arguments read beforehand, outside the profile
        "service": _profile([_prepared(election.slug, seat) for seat in seats[:PROFILED]]),
        "api": _profile([functools.partial(api, seat) for seat in seats[PROFILED:][:PROFILED]]),
    }
    return {
        "server": f"{connection.vendor} {_server_version(connection)}",
        "queries_per_submission": len(queries),
        "queries": [sql[:200] for sql in queries],
        "service": percentiles_ms([wall for wall, _cpu in service_timed]),
        "service_cpu": percentiles_ms([cpu for _wall, cpu in service_timed]),
        "api": percentiles_ms(api_seconds),
        # CPU of this process per submission, whatever else the machine was doing (the
        # benchmark's own bookkeeping included, the database server's work not).
        "process_cpu_ms": {
            "service": round(service_cpu * 1000, 2),
            "api": round(api_cpu * 1000, 2),
        },
        "load_average": os.getloadavg(),
        "profiles": profiles,
    }


def _submitter(slug: str, path: str) -> Callable[[Any], float]:
    """A function that submits one copy for a seat and returns the seconds it took."""
    from django.test import Client

    if path == "service":

        def by_service(seat: Any) -> float:
            return _timed(_prepared(slug, seat))[0]

        return by_service

    client = Client()

    def by_api(seat: Any) -> float:
        start = time.perf_counter()
        response = client.post(
            "/api/v1/protocol-copies",
            _body(slug, seat),
            content_type="application/json",
            headers={"Authorization": f"Bearer {seat.token}"},
        )
        elapsed = time.perf_counter() - start
        if response.status_code != 201:
            raise SystemExit(f"POST: {response.status_code} {response.content[:300]!r}")
        return elapsed

    return by_api


def _body(slug: str, seat: Any) -> dict[str, Any]:
    import copy_setup

    rng = random.Random(seat.station_id)  # the station's true protocol...
    slip = 3 if seat.user_id % 7 == 0 else 0  # ...mistyped by a few observers
    return {
        "id": str(uuid.uuid4()),
        "election": slug,
        "station": seat.station_id,
        "figures": copy_setup.protocol(seat.registered, rng, slip=slip),
        "all_members_signed": True,
        "certified": True,
    }


def _prepared(slug: str, seat: Any) -> Callable[[], Any]:
    """``submit_copy`` for one seat, its arguments read beforehand (as the API reads them)."""
    from django.contrib.auth.models import User

    from pollwatch.protocols.submission import CopyInput, submit_copy
    from pollwatch.registry.models import Election, PollingStation

    data = _body(slug, seat)
    user = User.objects.get(pk=seat.user_id)
    election = Election.objects.select_related("template").get(slug=slug)
    station = PollingStation.objects.get(pk=seat.station_id)

    def submit() -> Any:
        submitted = CopyInput(
            copy_id=uuid.UUID(data["id"]),
            figures=data["figures"],
            all_members_signed=True,
            certified=True,
        )
        result = submit_copy(user, election, station, submitted)
        assert result.created
        return result

    return submit


def _timed(submit: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU (this thread's) seconds of one submission."""
    start, cpu = time.perf_counter(), time.thread_time()
    submit()
    return time.perf_counter() - start, time.thread_time() - cpu


def _statements(submit: Callable[[], Any]) -> list[str]:
    """The statements ``submit`` sends: through Django's cursors, and PostgreSQL's COPY reads
    (findings.columns), which use the driver's cursor directly."""
    from django.db import connection

    statements: list[str] = []

    def through_django(execute: Callable[..., Any], sql: str, *rest: Any) -> Any:
        statements.append(sql)
        return execute(sql, *rest)

    with contextlib.ExitStack() as stack:
        stack.enter_context(connection.execute_wrapper(through_django))
        if connection.vendor == "postgresql":
            import psycopg

            copy = psycopg.Cursor.copy

            def counted(cursor: Any, statement: Any, *rest: Any, **named: Any) -> Any:
                statements.append(str(statement))
                return copy(cursor, statement, *rest, **named)

            stack.enter_context(mock.patch.object(psycopg.Cursor, "copy", counted))
        submit()
    return statements


def _profile(submissions: list[Callable[[], Any]]) -> dict[str, list[str]]:
    profiler = cProfile.Profile()
    profiler.enable()
    for submit in submissions:
        submit()
    profiler.disable()
    return {
        "own": _profile_lines(profiler, "tottime", 25, None),
        "pollwatch": _profile_lines(profiler, "cumulative", 40, r"pollwatch|ninja/operation"),
    }


def _profile_lines(
    profiler: cProfile.Profile, order: str, count: int, pattern: str | None
) -> list[str]:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats(order)
    stats.print_stats(*([pattern] if pattern else []), count)
    lines = [line.strip() for line in out.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line[0].isdigit() and "function calls" not in line]


def _server_version(connection: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        return str(cursor.fetchone()[0])


if __name__ == "__main__":
    main()
