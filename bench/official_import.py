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
import datetime
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import child_env, run_child, scratch_postgres_database

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "official_import.json"
BENCH_DATABASE = "bench_official_import"
TARGET_SECONDS = 60.0
SEED = 1
CHANGED_SHARE = 100  # one station in a hundred changes in the re-publication


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_run_in_child(args.child, Path(os.environ["POLLWATCH_DATA_DIR"]))))
        return
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-official-") as directory:
        work = Path(directory)
        arguments = ["--child", str(args.stations)]
        runs["sqlite"] = run_child(
            __file__, arguments, child_env(work, f"sqlite:///{work / 'bench.sqlite3'}")
        )
        if not args.skip_postgres:
            with scratch_postgres_database(args.postgres, BENCH_DATABASE) as url:
                runs["postgresql"] = run_child(__file__, arguments, child_env(work, url))
    for run in runs.values():
        run["within_target"] = run["first_import"]["total_seconds"] <= TARGET_SECONDS
    figures = {
        "bench": "official_import",
        "recorded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "stations": args.stations,
        "seed": SEED,
        "target_seconds": TARGET_SECONDS,
        "databases": runs,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
    }
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"recorded in {args.out}")


def _run_in_child(stations: int, work: Path) -> dict[str, Any]:
    from crosscheck_db import load_election, setup_django

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
