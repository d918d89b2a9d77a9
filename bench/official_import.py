"""`pollwatch import-official` at 1,000,000 station rows, on SQLite and on PostgreSQL.

    .venv/bin/python bench/official_import.py                   # 1,000,000 stations, both
    .venv/bin/python bench/official_import.py --stations 100000 --skip-postgres

For each database (a fresh SQLite file; a fresh PostgreSQL database `bench_official_import`,
dropped afterwards), in its own process: load a synthetic referendum's stations (`core.synth`,
seed 1) with COPY, write its results as a native CSV (code + the template's ten lines), then
time, each split into reading (parse and check) and writing (one transaction):

- the first import (every station published for the first time);
- the same file again (the command sees the same SHA-256 as the latest snapshot's and reads
  nothing);
- a re-publication with 1 % of the stations changed (Yes moved to No), which stores those
  rows and raises a silent-change finding for each changed figure.

Prints the figures and writes bench/results/official_import.json. Target: 1,000,000 rows
<= 60 s for the first import on either database.
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

BENCH = "official_import"
BENCH_DATABASE = "bench_official_import"
TARGET_SECONDS = 60.0
SEED = 1
CHANGED_SHARE = 100  # one station in a hundred changes in the re-publication


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--stations", type=int, default=1_000_000)
    add_database_options(parser, BENCH, sqlite=True)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_to_parent(_run_in_child(args.child, Path(os.environ["POLLWATCH_DATA_DIR"])))
        return
    vendors = databases(args.skip_postgres)
    arguments = ["--child", str(args.stations)]
    runs = run_on_databases(__file__, arguments, vendors, args.postgres, BENCH_DATABASE)
    for run in runs.values():
        run["within_target"] = run["first_import"]["total_seconds"] <= TARGET_SECONDS
    figures = {
        **heading(BENCH),
        "stations": args.stations,
        "seed": SEED,
        "target_seconds": TARGET_SECONDS,
        "databases": runs,
        "machine": machine(load=True),
    }
    record(args.out, figures, print_json)


def _run_in_child(stations: int, work: Path) -> dict[str, Any]:
    from crosscheck_db import load_election

    setup_django()
    import numpy as np
    from django.db import connection

    from pollwatch.core.synth import LINE_KEYS
    from pollwatch.official.importing import (
        already_imported,
        file_sha256,
        import_official,
        read_official,
    )

    election, synth, _, _ = load_election(stations)
    honest = synth.protocols.figures
    work.mkdir(parents=True, exist_ok=True)

    def write(path: Path, figures: np.ndarray) -> Path:
        with path.open("w", encoding="utf-8") as out:
            out.write(",".join(["code", *LINE_KEYS]) + "\n")
            for i, row in enumerate(figures.tolist()):
                out.write(f"S{i:07d}," + ",".join(map(str, row)) + "\n")
        return path

    first_file = write(work / "first.csv", honest)
    changed = honest.copy()
    rng = np.random.default_rng(SEED)
    which = rng.choice(stations, stations // CHANGED_SHARE, replace=False)
    yes, no = LINE_KEYS.index("yes"), LINE_KEYS.index("no")
    moved = np.minimum(changed[which, yes], 7)
    changed[which, yes] -= moved
    changed[which, no] += moved
    second_file = write(work / "second.csv", changed)

    def timed(path: Path) -> dict[str, Any]:
        start = time.perf_counter()
        earlier = already_imported(election, file_sha256(path), totals=False)
        if earlier is not None:  # as the command does: the same bytes again are not read
            return {"total_seconds": round(time.perf_counter() - start, 2), "skipped": True}
        table = read_official(path, election)
        read = time.perf_counter()
        report = import_official(election, table, source=str(path), sha256=file_sha256(path))
        end = time.perf_counter()
        silent = report.silent_changes
        return {
            "read_seconds": round(read - start, 2),
            "write_seconds": round(end - read, 2),
            "total_seconds": round(end - start, 2),
            "snapshot_created": report.created,
            "first_published": report.first_published,
            "changed": report.changed,
            "unchanged": report.unchanged,
            "silent_change_findings_new": silent.new if silent else 0,
        }

    return {
        "vendor": connection.vendor,
        "first_import": timed(first_file),
        "same_file_again": timed(first_file),
        "one_percent_changed": timed(second_file),
    }


if __name__ == "__main__":
    main()
