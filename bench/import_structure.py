"""`pollwatch import-structure` at a million stations, on SQLite and on PostgreSQL.

    .venv/bin/python bench/import_structure.py                   # 1,000,000 stations, both
    .venv/bin/python bench/import_structure.py --stations 100000 --skip-postgres

Generates the native structure files with `pollwatch synth --seed 1`, then for each database
(a fresh SQLite file; a fresh PostgreSQL database `bench_import`, dropped afterwards) migrates,
creates the election and times the first import and an identical re-import, each split into
reading (parse and validate) and writing (one transaction). Each database runs in its own
process, since Django's settings are per process. Prints the figures and writes
bench/results/import_structure.json. Targets: 1,000,000 stations in <= 60 s on PostgreSQL and
<= 90 s on SQLite.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import child_env, run_child, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "import_structure.json"
POLLWATCH = Path(sys.executable).parent / "pollwatch"
TARGET_SECONDS = {"sqlite": 90.0, "postgresql": 60.0}
SEED = 1
BENCH_DATABASE = "bench_import"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_import_twice(args.child)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-import-") as directory:
        work = Path(directory)
        files = work / "synth"
        start = time.perf_counter()
        subprocess.run(
            [str(POLLWATCH), "synth", "--stations", str(args.stations), "--seed", str(SEED),
             "--out", str(files), "-v", "0"],
            check=True, env=child_env(work, None), stderr=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"synth: {args.stations:,} stations in {time.perf_counter() - start:.1f} s")
        runs = {"sqlite": _run_child(files, work, f"sqlite:///{work / 'bench.sqlite3'}")}
        if not args.skip_postgres:
            runs["postgresql"] = _run_on_postgres(files, work, args.postgres)
    figures = {
        "bench": "import_structure",
        "recorded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "stations": args.stations,
        "seed": SEED,
        "source": "pollwatch synth (native commissions.csv + stations.csv)",
        "databases": runs,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    for name, run in runs.items():
        print(f"{name}: {run['commissions']:,} commissions, {run['stations']:,} stations")
        for phase in ("first_import", "reimport"):
            figures_ = run[phase]
            print(
                f"  {phase:<13} {figures_['total_seconds']:7.2f} s  (read "
                f"{figures_['read_seconds']:.2f} s, write {figures_['write_seconds']:.2f} s; "
                f"{figures_['created']:,} created, {figures_['updated']:,} updated, "
                f"{figures_['unchanged']:,} unchanged)"
            )
        print(f"  target <= {run['target_seconds']:.0f} s: within = {run['within_target']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"recorded in {args.out}")


def _run_child(files: Path, work: Path, database_url: str) -> dict[str, Any]:
    run = run_child(__file__, ["--child", str(files)], child_env(work, database_url))
    vendor = run["vendor"]
    run["target_seconds"] = TARGET_SECONDS[vendor]
    run["within_target"] = run["first_import"]["total_seconds"] <= TARGET_SECONDS[vendor]
    return run


def _run_on_postgres(files: Path, work: Path, server: str) -> dict[str, Any]:
    with scratch_postgres_database(server, BENCH_DATABASE) as database_url:
        return _run_child(files, work, database_url)


def _import_twice(files: Path) -> dict[str, Any]:
    """In the child process: a fresh database, the first import, then an identical one."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pollwatch.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from pollwatch.registry.models import Election, ProtocolTemplate
    from pollwatch.registry.structure_import import import_structure, read_structure

    call_command("migrate", verbosity=0)
    template = ProtocolTemplate.objects.create(key="bench", name="Bench", lines=[], relations=[])
    election = Election.objects.create(
        slug="bench", name="Bench", kind="referendum", date=datetime.date(2026, 1, 1),
        template=template,
    )  # fmt: skip
    run: dict[str, Any] = {"vendor": connection.vendor}
    for phase in ("first_import", "reimport"):
        start = time.perf_counter()
        plan = read_structure(files / "stations.csv", files / "commissions.csv", preset="pollwatch")
        read = time.perf_counter()
        report = import_structure(election, plan)
        written = time.perf_counter()
        run["commissions"] = len(plan.commissions)
        run["stations"] = len(plan.stations)
        run[phase] = {
            "read_seconds": round(read - start, 2),
            "write_seconds": round(written - read, 2),
            "total_seconds": round(written - start, 2),
            "created": report.stations_created,
            "updated": report.stations_updated,
            "unchanged": report.stations_unchanged,
        }
        del plan
    return run


if __name__ == "__main__":
    main()
