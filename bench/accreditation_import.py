"""Importing 100,000 observers and 100,000 assignments, and the coverage dashboard over them.

    .venv/bin/python bench/accreditation_import.py                 # 100,000, both databases
    .venv/bin/python bench/accreditation_import.py --observers 10000 --skip-postgres

For each database (a fresh SQLite file; a fresh PostgreSQL database `bench_accreditation`,
dropped afterwards), in its own process: load a synthetic referendum with as many stations as
observers (COPY), write the native files — 10 organisations, the observers spread over them
(half with an accreditation number), one assignment per observer, observer i at station i —
then time through the import services (read, check and write, one transaction each):

- organisations; observers with `--election` (creating their accreditations); the same
  observers file again (nothing changes);
- assignments; the same file again (nothing changes);
- the coverage dashboard's two reads over every organisation: the counts per region and the
  whole missing list (a copy submitted at one station in ten).

Prints the figures and writes bench/results/accreditation_import.json. Target: each import of
100,000 rows within 10 s on either database.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from harness import (
    add_database_options,
    databases,
    description,
    heading,
    machine,
    print_json,
    record,
    report_to_parent,
    run_on_databases,
    setup_django,
)

BENCH = "accreditation_import"
BENCH_DATABASE = "bench_accreditation"
TARGET_SECONDS = 10.0
ORGANISATIONS = 10
REPORTED_SHARE = 10  # one assigned station in ten has a copy


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--observers", type=int, default=100_000)
    add_database_options(parser, BENCH, sqlite=True)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_to_parent(_run_in_child(args.child, Path(os.environ["POLLWATCH_DATA_DIR"])))
        return
    vendors = databases(args.skip_postgres)
    arguments = ["--child", str(args.observers)]
    runs = run_on_databases(__file__, arguments, vendors, args.postgres, BENCH_DATABASE)
    for run in runs.values():
        run["within_target"] = all(
            run[step]["seconds"] <= TARGET_SECONDS
            for step in ("observers_first", "assignments_first")
        )
    figures = {
        **heading(BENCH),
        "observers": args.observers,
        "target_seconds": TARGET_SECONDS,
        "databases": runs,
        "machine": machine(load=True),
    }
    record(args.out, figures, print_json)


def _write_files(work: Path, observers: int) -> tuple[Path, Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    organisations = work / "organisations.csv"
    with organisations.open("w", encoding="utf-8") as out:
        out.write("code,name,kind,share_with_mission,share_with_organisations\n")
        for o in range(ORGANISATIONS):
            out.write(f"org-{o},Organisation {o},ngo,yes,no\n")
    people = work / "observers.csv"
    with people.open("w", encoding="utf-8") as out:
        out.write("organisation,code,full_name,contact,languages,accreditation_number\n")
        for i in range(observers):
            number = f"A{i:07d}" if i % 2 == 0 else ""
            out.write(
                f"org-{i % ORGANISATIONS},O{i:07d},Observer {i},+7 700 {i:07d},kk ru,{number}\n"
            )
    assignments = work / "assignments.csv"
    with assignments.open("w", encoding="utf-8") as out:
        out.write("organisation,observer,station,starts_at,ends_at\n")
        for i in range(observers):
            out.write(
                f"org-{i % ORGANISATIONS},O{i:07d},S{i:07d},"
                "2026-03-15T07:00+05:00,2026-03-15T20:00+05:00\n"
            )
    return organisations, people, assignments


def _run_in_child(observers: int, work: Path) -> dict[str, Any]:
    from crosscheck_db import load_election

    setup_django()
    from django.db import connection
    from django.utils import timezone

    from pollwatch.accreditation import coverage
    from pollwatch.accreditation.imports import (
        ImportReport,
        import_assignments,
        import_observers,
        import_organisations,
    )
    from pollwatch.accreditation.models import Assignment
    from pollwatch.bulk import copy_rows
    from pollwatch.protocols.models import ProtocolCopy

    election, _synth, _stations, _commissions = load_election(observers)
    organisations_file, observers_file, assignments_file = _write_files(work, observers)

    def timed(step: Any) -> dict[str, Any]:
        start = time.perf_counter()
        report: ImportReport = step()
        return {
            "seconds": round(time.perf_counter() - start, 2),
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "removed": report.removed,
            "accreditations_created": report.accreditations_created,
        }

    figures: dict[str, Any] = {"vendor": connection.vendor}
    figures["organisations"] = timed(lambda: import_organisations(None, organisations_file))
    figures["observers_first"] = timed(
        lambda: import_observers(None, observers_file, election=election)
    )
    figures["observers_again"] = timed(
        lambda: import_observers(None, observers_file, election=election)
    )
    figures["assignments_first"] = timed(
        lambda: import_assignments(None, assignments_file, election=election)
    )
    figures["assignments_again"] = timed(
        lambda: import_assignments(None, assignments_file, election=election)
    )

    # A copy at one assigned station in ten, by its assigned observer, for the dashboard.
    import uuid

    reported = (
        Assignment.objects.filter(station__election=election)
        .order_by("pk")
        .values_list("observer_id", "observer__organisation_id", "station_id")[::REPORTED_SHARE]
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        copy_rows(
            cursor,
            ProtocolCopy._meta.db_table,
            [
                "id", "election_id", "station_id", "observer_id", "organisation_id", "figures",
                "all_members_signed", "certified", "body_sha256", "received_at",
            ],
            (
                (uuid.uuid4().hex if connection.vendor == "sqlite" else uuid.uuid4(),
                 election.pk, station, observer, organisation, "{}", True, True, "0" * 64,
                 connection.ops.adapt_datetimefield_value(now))
                for observer, organisation, station in reported
            ),
        )  # fmt: skip
    scope = coverage.Scope(election)
    start = time.perf_counter()
    rows = coverage.coverage(scope)
    counted = time.perf_counter()
    missing = sum(1 for _ in coverage.missing_stations(scope))
    listed = time.perf_counter()
    figures["coverage"] = {
        "counts_seconds": round(counted - start, 2),
        "missing_list_seconds": round(listed - counted, 2),
        "regions": len(rows),
        "assigned": sum(r.assigned for r in rows),
        "reported": sum(r.reported for r in rows),
        "missing": missing,
    }
    return figures


if __name__ == "__main__":
    main()
