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
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    Figures,
    add_database_options,
    databases,
    description,
    heading,
    machine,
    record,
    report_to_parent,
    run_on_databases,
    setup_django,
    synthesise,
)

BENCH = "import_structure"
TARGET_SECONDS = {"sqlite": 90.0, "postgresql": 60.0}
SEED = 1
BENCH_DATABASE = "bench_import"


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--stations", type=int, default=1_000_000)
    add_database_options(parser, BENCH, sqlite=True)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_to_parent(_import_twice(args.child))
        return

    with tempfile.TemporaryDirectory(prefix="bench-import-") as directory:
        work = Path(directory)
        files, _ = synthesise(work, args.stations, SEED)
        vendors = databases(args.skip_postgres)
        arguments = ["--child", str(files)]
        runs = run_on_databases(__file__, arguments, vendors, args.postgres, BENCH_DATABASE, work)
    for run in runs.values():
        target = TARGET_SECONDS[run["vendor"]]
        run["target_seconds"] = target
        run["within_target"] = run["first_import"]["total_seconds"] <= target
    figures = {
        **heading(BENCH),
        "stations": args.stations,
        "seed": SEED,
        "source": "pollwatch synth (native commissions.csv + stations.csv)",
        "databases": runs,
        "machine": machine(),
    }
    record(args.out, figures, _print)


def _print(figures: Figures) -> None:
    for name, run in figures["databases"].items():
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


def _import_twice(files: Path) -> dict[str, Any]:
    """In the child process: a fresh database, the first import, then an identical one."""
    setup_django()
    from django.db import connection

    from pollwatch.registry.models import Election, ProtocolTemplate
    from pollwatch.registry.structure_import import import_structure, read_structure

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
