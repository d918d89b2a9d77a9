"""Station page and station API latency with a million stations, on SQLite and PostgreSQL.

    .venv/bin/python bench/station_latency.py                   # 1,000,000 stations, both
    .venv/bin/python bench/station_latency.py --stations 20000 --backends sqlite

Loads a synthetic election (`pollwatch synth`, then the real import path: `load-templates`,
`create-election`, `import-structure`; without those commands, bulk_create of synthetic rows)
into a scratch database: a SQLite file under the temp directory, and a PostgreSQL database
`bench_latency` created and dropped here. Then requests random stations in-process through
Django's test Client:

- GET /api/v1/elections/<slug>/stations/<id>   the station API (JSON)
- GET /elections/<slug>/stations/<id>/         the station page (HTML)

and, for the record, a few list requests (first page, the deepest offset allowed, pages
`after` a random station's code).

Server time is the time inside Django's handler chain: every middleware, URL resolution, the
view or API operation, its queries and template rendering — measured by a middleware placed
first. The client time around it (request building, response handling) is recorded too. Each
backend runs in its own process, since the database is chosen by settings at startup.
Prints the figures and writes bench/results/station_latency.json. Target: p50 <= 50 ms.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import (
    POSTGRES_SERVER,
    Figures,
    child_env,
    description,
    fresh_database,
    machine,
    percentiles_ms,
    record,
    report_to_parent,
    results_file,
    run_child,
    setup_django,
)

BENCH = "station_latency"
TARGET_P50_MS = 50.0
SEED = 1
POSTGRES_DATABASE = "bench_latency"
# The import path: every one of these commands must exist to use it.
CLI_COMMANDS = ("synth", "load_templates", "create_election", "import_structure")

# Seconds spent inside the handler chain, one entry per request; filled by ServerTimer.
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


# Orchestrator: one child process per backend, then the report.


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--stations", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300, help="random stations per endpoint")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=results_file(BENCH))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # the synth files' folder
    args = parser.parse_args()
    if args.child:
        report_to_parent(_child(args.child, args.stations, args.samples))
        return

    arguments = ["--stations", str(args.stations), "--samples", str(args.samples)]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="pollwatch-bench-") as scratch:
        work = Path(scratch)
        arguments += ["--child", str(work / "synth")]  # the second backend reuses the files
        for backend in args.backends.split(","):
            print(f"\n== {backend}: loading {args.stations:,} stations", flush=True)
            with fresh_database(backend, work, POSTGRES_SERVER, POSTGRES_DATABASE) as url:
                results[backend] = run_child(__file__, arguments, child_env(work, url))
            _print_backend(backend, results[backend])
    report = {
        "benchmark": BENCH,
        "stations": args.stations,
        "samples": args.samples,
        "target_p50_ms": TARGET_P50_MS,
        "measured": "server time: inside Django's handler chain (all middleware, view, "
        "queries, rendering), in-process via django.test.Client",
        "machine": machine(platform_name=False),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "backends": results,
    }
    record(args.out, report)


def _print_backend(backend: str, result: dict[str, Any]) -> None:
    print(
        f"{backend} ({result['server']}), loaded by {result['load']['method']} "
        f"in {result['load']['seconds']:.0f} s"
    )
    print(f"  {'request':<34} {'n':>4} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}  (ms, server)")
    for name, figures in result["requests"].items():
        server = figures["server_ms"]
        verdict = (
            ""
            if name not in result["targets"]
            else ("  ok" if server["p50"] <= TARGET_P50_MS else "  OVER TARGET")
        )
        print(
            f"  {name:<34} {figures['n']:>4} {server['p50']:>8.2f} {server['p90']:>8.2f} "
            f"{server['p99']:>8.2f} {server['max']:>8.2f}{verdict}"
        )


# Child: runs in a process whose settings point at one backend.


def _child(synth_dir: Path, stations: int, samples: int) -> Figures:
    setup_django(test_client=True)
    from django.conf import settings
    from django.db import connection

    started = time.perf_counter()
    method, slug = _load(stations, synth_dir)
    load = {"method": method, "seconds": round(time.perf_counter() - started, 1)}
    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum would gather within a minute of the import:
        # with none, PostgreSQL guesses 80 stations per election and sorts instead of
        # reading the (election, code) index.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    settings.MIDDLEWARE = [f"{__name__}.ServerTimer", *settings.MIDDLEWARE]
    station_ids = _random_station_ids(slug, samples)
    return {
        "server": f"{connection.vendor} {_server_version(connection)}",
        "load": load,
        "targets": ["station_api", "station_page"],
        "requests": _measure(slug, station_ids, stations),
    }


def _server_version(connection: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        return str(cursor.fetchone()[0])


def _load(stations: int, synth_dir: Path) -> tuple[str, str]:
    """Load the election; returns (how, slug)."""
    from django.core.management import get_commands

    if all(command in get_commands() for command in CLI_COMMANDS):
        return "pollwatch synth + import-structure", _load_with_cli(stations, synth_dir)
    return "bulk_create (import commands not available)", _load_with_bulk_create(stations)


def _load_with_cli(stations: int, synth_dir: Path) -> str:
    import tomllib

    from django.core.management import call_command

    if not (synth_dir / "stations.csv").exists():  # the first backend writes them
        call_command("synth", stations=stations, seed=SEED, out=str(synth_dir), verbosity=0)
    call_command("load_templates", verbosity=0)
    call_command("create_election", file=synth_dir / "election.toml", verbosity=0)
    slug = str(tomllib.loads((synth_dir / "election.toml").read_text())["slug"])
    call_command(
        "import_structure",
        election=slug,
        preset="pollwatch",
        stations=synth_dir / "stations.csv",
        commissions=synth_dir / "commissions.csv",
        no_progress=True,
        verbosity=0,
    )
    return slug


def _load_with_bulk_create(stations: int) -> str:
    """20 regions, territorial commissions of 100 stations, totals as the import keeps them."""
    import datetime

    from pollwatch.registry.models import Commission, Election, PollingStation, ProtocolTemplate

    rng = random.Random(SEED)
    template = ProtocolTemplate.objects.create(
        key="bench", name="Bench protocol", lines=[], relations=[]
    )
    election = Election.objects.create(
        slug="bench",
        name="Bench referendum",
        kind=Election.Kind.REFERENDUM,
        date=datetime.date(2026, 3, 15),
        template=template,
    )
    per_territory, regions = 100, 20
    territories = -(-stations // per_territory)
    region_rows = Commission.objects.bulk_create(
        Commission(election=election, code=f"R{r:02}", name=f"Region {r}", level="region")
        for r in range(1, regions + 1)
    )
    territory_rows = Commission.objects.bulk_create(
        (
            Commission(
                election=election,
                code=f"R{t % regions + 1:02}-T{t:05}",
                name=f"Territory {t}",
                level="territory",
                depth=1,
                parent=region_rows[t % regions],
            )
            for t in range(territories)
        ),
        batch_size=5000,
    )
    registered = [rng.randint(50, 3000) for _ in range(stations)]
    batch: list[PollingStation] = []
    for index in range(stations):
        territory = territory_rows[index // per_territory]
        territory.station_count += 1
        territory.registered_voters += registered[index]
        batch.append(
            PollingStation(
                election=election,
                code=f"{index + 1:07}",
                number=str(index + 1),
                commission=territory,
                registered_voters=registered[index],
                address=f"School {index + 1}",
                latitude=43.0,
                longitude=76.0,
            )
        )
        if len(batch) == 10_000:
            PollingStation.objects.bulk_create(batch)
            batch.clear()
    PollingStation.objects.bulk_create(batch)
    for t, territory in enumerate(territory_rows):
        region = region_rows[t % regions]
        region.station_count += territory.station_count
        region.registered_voters += territory.registered_voters
    Commission.objects.bulk_update(
        [*region_rows, *territory_rows], ["station_count", "registered_voters"], batch_size=5000
    )
    return election.slug


def _random_station_ids(slug: str, samples: int) -> list[int]:
    """`samples` distinct stations drawn uniformly (ids are dense after a bulk load)."""
    from django.db.models import Max, Min

    from pollwatch.registry.models import PollingStation

    stations = PollingStation.objects.filter(election__slug=slug)
    bounds = stations.aggregate(low=Min("pk"), high=Max("pk"))
    rng = random.Random(SEED)
    candidates = rng.sample(range(bounds["low"], bounds["high"] + 1), samples * 2)
    existing = set(stations.filter(pk__in=candidates).values_list("pk", flat=True))
    chosen = [pk for pk in candidates if pk in existing][:samples]
    if len(chosen) < samples:
        raise SystemExit(f"only {len(chosen)} stations found among {samples * 2} random ids")
    return chosen


def _measure(slug: str, station_ids: list[int], stations: int) -> dict[str, Any]:
    from django.test import Client

    client = Client()
    station_codes = _station_codes(station_ids)
    from pollwatch.registry.pagination import MAX_OFFSET

    deep = min(MAX_OFFSET, max(stations - 50, 0))
    plans: dict[str, list[str]] = {
        "station_api": [f"/api/v1/elections/{slug}/stations/{pk}" for pk in station_ids],
        "station_page": [f"/elections/{slug}/stations/{pk}/" for pk in station_ids],
        "station_list_first_page": [f"/api/v1/elections/{slug}/stations"] * 30,
        "station_list_after_code": [
            f"/api/v1/elections/{slug}/stations?after={code}" for code in station_codes[:30]
        ],
        f"station_list_offset_{deep}": [f"/api/v1/elections/{slug}/stations?offset={deep}"] * 10,
    }
    # Warm up: imports, URL resolver, template loading, the database's caches for the schema.
    for paths in plans.values():
        for path in paths[:5]:
            _get(client, path)
    results = {}
    for name, paths in plans.items():
        _server_seconds.clear()
        client_seconds = [_get(client, path) for path in paths]
        results[name] = {
            "n": len(paths),
            "server_ms": percentiles_ms(_server_seconds),
            "client_ms": percentiles_ms(client_seconds),
        }
    return results


def _station_codes(station_ids: list[int]) -> list[str]:
    from pollwatch.registry.models import PollingStation

    codes = dict(PollingStation.objects.filter(pk__in=station_ids).values_list("pk", "code"))
    return [codes[pk] for pk in station_ids]


def _get(client: Any, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code} {response.content[:300]!r}")
    return elapsed


if __name__ == "__main__":
    main()
