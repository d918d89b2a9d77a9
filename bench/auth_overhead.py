"""What authentication and authorisation add to an API request, on SQLite and PostgreSQL.

    .venv/bin/python bench/auth_overhead.py                    # 2,000 requests a variant, both
    .venv/bin/python bench/auth_overhead.py --requests 300 --skip-postgres
    .venv/bin/python bench/auth_overhead.py --baseline 493af30 --rounds 3   # before and after

In a child process per database (a fresh SQLite file; a fresh PostgreSQL database
`bench_auth`, dropped afterwards): migrate, create an election with 100 stations, an accredited
observer assigned to all of them with a device token, and an analyst whose session has passed
the second factor. Then the same station lookup (bench/auth_overhead_urls.py) is requested
in-process through Django's test Client, the variants interleaved request by request so that
drift hits them alike:

- open             no authentication
- device_token     api_auth, `Authorization: Bearer …` (hash; the token and its user in one
                   hand-written query)
- device_token_and_submission_rule
                   the same plus accreditation.eligibility.submission_refusal (the rule every
                   submission checks: accredited, assigned, inside the window; one query)
- staff_session    api_auth with a verified session cookie (the session row joined to its
                   user and their TOTP devices, one query read by the middleware; the
                   second-factor check)

Server time is measured by a middleware placed first (all middleware, URL resolution, auth,
the operation and its queries), as wall time and as the thread's CPU time: on a shared machine
the wall time swells with every other process's load, the CPU time much less (it leaves out
the PostgreSQL server's work). The overhead of a variant is its percentile minus the open
variant's. Prints the figures and writes bench/results/auth_overhead.json.
Target: overhead <= 2 ms per request (p50).

--baseline REVISION measures src/ as of that revision too, in children alternating with the
working tree's (same bench code, same world), so that before and after are compared under the
same load; --rounds repeats that, and each figure is then the median over the rounds.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import (
    Figures,
    add_database_options,
    child_env,
    commit_of,
    databases,
    description,
    export_source,
    fresh_database,
    heading,
    load_average,
    machine,
    percentiles_ms,
    record,
    run_child,
    setup_django,
)

ROOT = Path(__file__).resolve().parents[1]
BENCH = "auth_overhead"
BENCH_DATABASE = "bench_auth"
TARGET_OVERHEAD_MS = 2.0
STATIONS = 100
WARM_UP = 50
VARIANTS = ("open", "device_token", "device_token_and_submission_rule", "staff_session")
CLOCKS = ("", "_cpu")  # wall time, the thread's CPU time

_server_seconds: list[tuple[float, float]] = []  # (wall, this thread's CPU) per request


class ServerTimer:
    """Middleware, placed first: times everything Django does for a request, in wall time and
    in the thread's CPU time (which other processes competing for the cores do not inflate;
    it leaves out the PostgreSQL server's own work)."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        response = self.get_response(request)
        _server_seconds.append((time.perf_counter() - start, time.thread_time() - cpu))
        return response


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--requests", type=int, default=2000, help="requests per variant")
    parser.add_argument(
        "--baseline",
        metavar="REVISION",
        help="also measure src/ as of this git revision, alternating with the working tree's",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="children per database (and per code version)"
    )
    add_database_options(parser, BENCH, sqlite=True)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure_in_child(args.child)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as directory:
        work = Path(directory)
        sources = {"after": ROOT / "src"}
        if args.baseline:
            sources = {"before": export_source(args.baseline, work / "baseline"), **sources}
        runs: dict[str, dict[str, list[Figures]]] = {
            version: {vendor: [] for vendor in databases(args.skip_postgres)} for version in sources
        }
        for _round in range(args.rounds):
            for vendor in databases(args.skip_postgres):
                for version, src in sources.items():  # alternated: drift hits both alike
                    with fresh_database(vendor, work, args.postgres, BENCH_DATABASE) as url:
                        runs[version][vendor].append(_run(args.requests, work, url, src))
    figures = {
        **heading(BENCH),
        "requests_per_variant": args.requests,
        "rounds": args.rounds,
        "measured": "server time inside Django's handler chain, in-process via the test "
        "Client; overhead = a variant's percentile minus the open variant's, in the same "
        "child (variants interleaved request by request); over several rounds, the median "
        "of the rounds' figures",
        "target_overhead_ms": TARGET_OVERHEAD_MS,
        "databases": {vendor: _combine(found) for vendor, found in runs["after"].items()},
        "machine": machine(),
    }
    if args.baseline:
        figures["baseline"] = {
            "revision": commit_of(args.baseline),
            "measured": "src/ of that revision, its children alternating with the new code's",
            "databases": {vendor: _combine(found) for vendor, found in runs["before"].items()},
        }
    record(args.out, figures, _show)


def _show(figures: Figures) -> None:
    versions = [("after", figures["databases"])]
    if "baseline" in figures:
        baseline = figures["baseline"]
        versions.insert(0, (f"before ({baseline['revision'][:10]})", baseline["databases"]))
    for version, runs in versions:
        for name, run in runs.items():
            print(
                f"{version}: {name} ({run['server']}), {figures['requests_per_variant']:,} "
                f"requests a variant x {figures['rounds']} round(s), load average "
                f"{run['load_average_at_start']}"
            )
            for clock in CLOCKS:
                print(
                    f"  {'variant (' + ('wall' if not clock else 'CPU') + ' ms)':<34} {'p50':>7} "
                    f"{'p95':>7}   {'overhead p50':>12} {'p95':>7}"
                )
                for variant in VARIANTS:
                    server = run[f"server{clock}_ms"][variant]
                    extra = run[f"overhead{clock}_ms"][variant]
                    print(
                        f"  {variant:<34} {server['p50']:7.3f} {server['p95']:7.3f}   "
                        f"{extra['p50']:12.3f} {extra['p95']:7.3f}"
                    )
            print(
                f"  overhead p50 within {TARGET_OVERHEAD_MS} ms: wall {run['within_target']}, "
                f"CPU {run['within_target_cpu']}"
            )


def _run(requests: int, work: Path, database_url: str, src: Path) -> Figures:
    env = child_env(work, database_url)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bench"), str(src)])
    return run_child(__file__, ["--child", str(requests)], env)


def _combine(rounds: list[Figures]) -> Figures:
    """The rounds of one code version on one database: each figure the median of the rounds'
    (overheads are paired within a child, so their medians are taken, not recomputed)."""
    combined: Figures = {
        "server": rounds[0]["server"],
        "load_average_at_start": [run["load_average_at_start"] for run in rounds],
    }
    for key in ("server_ms", "overhead_ms", "server_cpu_ms", "overhead_cpu_ms"):
        combined[key] = {
            variant: {
                stat: round(statistics.median(run[key][variant][stat] for run in rounds), 3)
                for stat in rounds[0][key][variant]
            }
            for variant in VARIANTS
        }
    if len(rounds) > 1:
        combined["overhead_cpu_p50_per_round"] = {
            variant: [run["overhead_cpu_ms"][variant]["p50"] for run in rounds]
            for variant in VARIANTS
        }
    for clock in CLOCKS:
        combined[f"within_target{clock}"] = all(
            extra["p50"] <= TARGET_OVERHEAD_MS for extra in combined[f"overhead{clock}_ms"].values()
        )
    return combined


def _measure_in_child(requests: int) -> Figures:
    setup_django(test_client=True)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ROOT_URLCONF = "auth_overhead_urls"
    settings.MIDDLEWARE = [f"{__name__}.ServerTimer", *settings.MIDDLEWARE]
    station_ids, token, staff_client = _world()
    clients: dict[str, tuple[Client, str]] = {
        "open": (Client(), "/bench/open/stations/{}"),
        "device_token": (
            Client(headers={"Authorization": f"Bearer {token}"}),
            "/bench/auth/stations/{}",
        ),
        "device_token_and_submission_rule": (
            Client(headers={"Authorization": f"Bearer {token}"}),
            "/bench/authz/stations/{}",
        ),
        "staff_session": (staff_client, "/bench/auth/stations/{}"),
    }
    seconds: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    cpu_seconds: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for index in range(WARM_UP + requests):
        station_id = station_ids[index % len(station_ids)]
        for variant in VARIANTS:
            client, url = clients[variant]
            _server_seconds.clear()
            response = client.get(url.format(station_id))
            if response.status_code != 200:
                raise SystemExit(f"{variant}: {response.status_code} {response.content[:200]!r}")
            if index >= WARM_UP:
                wall, cpu = _server_seconds[-1]
                seconds[variant].append(wall)
                cpu_seconds[variant].append(cpu)
    server = {variant: percentiles_ms(values, cuts=(95,)) for variant, values in seconds.items()}
    cpu = {variant: percentiles_ms(values, cuts=(95,)) for variant, values in cpu_seconds.items()}
    return {
        "server": f"{connection.vendor} {_server_version(connection)}",
        "load_average_at_start": load_average(),
        "server_ms": server,
        "overhead_ms": _overhead(server),
        "server_cpu_ms": cpu,
        "overhead_cpu_ms": _overhead(cpu),
    }


def _overhead(figures: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        variant: {q: round(figures[variant][q] - figures["open"][q], 3) for q in ("p50", "p95")}
        for variant in VARIANTS
    }


def _world() -> tuple[list[int], str, Any]:
    """100 stations; an accredited observer assigned to all, with a device token; a verified
    analyst's session."""
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from pollwatch.accounts.device_tokens import issue_device_token
    from pollwatch.accounts.roles import Role, grant_role
    from pollwatch.accreditation.models import (
        Accreditation,
        Assignment,
        Observer,
        Organisation,
    )
    from pollwatch.registry.models import Commission, Election, PollingStation, ProtocolTemplate

    template = ProtocolTemplate.objects.create(key="bench", name="Bench", lines=[], relations=[])
    election = Election.objects.create(
        slug="bench", name="Bench", kind="referendum", date=datetime.date(2026, 3, 15),
        template=template,
    )  # fmt: skip
    commission = Commission.objects.create(election=election, code="C", name="C", level="central")
    stations = PollingStation.objects.bulk_create(
        PollingStation(
            election=election,
            commission=commission,
            code=f"S{i:03}",
            number=str(i),
            registered_voters=1000,
        )
        for i in range(STATIONS)
    )
    organisation = Organisation.objects.create(
        code="bench", name="Bench", kind="ngo", share_with_mission=True
    )
    user = User.objects.create_user("observer", password=None)
    grant_role(user, Role.OBSERVER)
    observer = Observer.objects.create(
        organisation=organisation, code="o1", full_name="Observer", user=user
    )
    now = timezone.now()
    Accreditation.objects.create(
        election=election, observer=observer, status="accredited", number="A1", requested_at=now
    )
    Assignment.objects.bulk_create(
        Assignment(
            observer=observer,
            station=station,
            starts_at=now - datetime.timedelta(days=1),
            ends_at=now + datetime.timedelta(days=1),
        )
        for station in stations
    )
    token = issue_device_token(user, "bench phone").token

    analyst = User.objects.create_user("analyst", password=None)
    grant_role(analyst, Role.ANALYST)
    device = TOTPDevice.objects.create(user=analyst, name="bench", confirmed=True)
    staff = Client()
    staff.force_login(analyst)
    session = staff.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return [s.pk for s in stations], token, staff


def _server_version(connection: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        return str(cursor.fetchone()[0])


if __name__ == "__main__":
    sys.exit(main())
