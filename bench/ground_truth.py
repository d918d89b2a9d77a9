"""The ground truth at a million stations on PostgreSQL: every importer, the cross-check, and
the findings compared with what `pollwatch synth` injected.

    .venv/bin/python bench/ground_truth.py                          # 1,000,000 stations
    .venv/bin/python bench/ground_truth.py --stations 100000 --coverage 0.6

Generates a synthetic election (`pollwatch synth --seed 1`, observers' copies at every station
by default: about 2.25 copies each), then in a fresh PostgreSQL database `bench_ground_truth`
(dropped afterwards) times each step a mission would run — import-structure,
import-organisations, import-observers (with accreditations), import-assignments,
import-official (station results, commission totals, then a later publication), import-copies,
crosscheck — and a re-import of the copies (all skipped). Then it compares the findings
recorded in the database with ground_truth.json: the run passes only if they are equal.
Prints the figures and writes bench/results/ground_truth.json. Targets: import-copies of
3,000,000 copies well under a minute (here: the copies per second, scaled to 3,000,000);
crosscheck of 1,000,000 stations <= 30 s end to end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    POSTGRESQL,
    Figures,
    add_database_options,
    description,
    heading,
    load_average,
    machine,
    record,
    report_to_parent,
    run_on_databases,
    setup_django,
    synthesise,
)

BENCH = "ground_truth"
SEED = 1
BENCH_DATABASE = "bench_ground_truth"
TARGET_COPIES_SECONDS_PER_3M = 60.0
TARGET_CROSSCHECK_SECONDS = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--stations", type=int, default=1_000_000)
    parser.add_argument("--coverage", type=float, default=1.0)
    add_database_options(parser, BENCH, sqlite=False)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_to_parent(_load_and_compare(args.child))
        return

    with tempfile.TemporaryDirectory(prefix="bench-truth-") as directory:
        work = Path(directory)
        coverage = ("--coverage", str(args.coverage))
        files, synth_seconds = synthesise(work, args.stations, SEED, *coverage)
        arguments = ["--child", str(files)]
        runs = run_on_databases(
            __file__, arguments, [POSTGRESQL], args.postgres, BENCH_DATABASE, work
        )
    run = runs[POSTGRESQL]
    copies_seconds = run["steps"]["import_copies"]
    per_3m = copies_seconds * 3_000_000 / max(run["copies"], 1)
    figures = {
        **heading(BENCH),
        "stations": args.stations,
        "coverage": args.coverage,
        "seed": SEED,
        "synth_seconds": round(synth_seconds, 2),
        **run,
        "import_copies_per_second": round(run["copies"] / copies_seconds),
        "import_copies_seconds_scaled_to_3m": round(per_3m, 1),
        "target_import_copies_seconds_per_3m": TARGET_COPIES_SECONDS_PER_3M,
        "target_crosscheck_seconds": TARGET_CROSSCHECK_SECONDS,
        "within_targets": per_3m <= TARGET_COPIES_SECONDS_PER_3M
        and run["steps"]["crosscheck"] <= TARGET_CROSSCHECK_SECONDS,
        "load_average_1_5_15": load_average(),
        "machine": machine(),
    }
    record(args.out, figures, _print)
    if not run["findings_equal"]:
        sys.exit("the recorded findings differ from the ground truth")


def _print(figures: Figures) -> None:
    print(f"postgresql: {figures['copies']:,} copies, {figures['observers']:,} observers")
    for step, seconds in figures["steps"].items():
        print(f"  {step:<24} {seconds:8.2f} s")
    per_3m = figures["import_copies_seconds_scaled_to_3m"]
    print(f"  import-copies scaled to 3,000,000 copies: {per_3m:.1f} s")
    print(
        f"  findings: {figures['findings_recorded']:,} recorded, "
        f"{figures['findings_expected']:,} expected; equal = {figures['findings_equal']}"
    )


def _load_and_compare(files: Path) -> dict[str, Any]:
    """In the child process: a fresh database, every import timed, then the comparison."""
    import io

    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from pollwatch.core.synth import read_ground_truth
    from pollwatch.demo.ground_truth import recorded_findings
    from pollwatch.protocols.models import ProtocolCopy
    from pollwatch.registry.elections import load_election_file

    quiet: dict[str, object] = {"verbosity": 0, "no_progress": True, "stdout": io.StringIO()}
    election = load_election_file(files / "election.toml")
    slug = election.slug
    steps: dict[str, float] = {}

    progress = files.parent / "progress.log"  # to follow a long run: tail -f it

    def timed(step: str, *args: str, **options: object) -> None:
        start = time.perf_counter()
        call_command(*args, **options, **quiet)
        steps[step] = round(time.perf_counter() - start, 2)
        with progress.open("a", encoding="utf-8") as log:
            print(f"{step} {steps[step]:.2f} s", file=log)

    timed(
        "import_structure", "import_structure", election=slug, preset="pollwatch",
        commissions=str(files / "commissions.csv"), stations=str(files / "stations.csv"),
    )  # fmt: skip
    timed("import_organisations", "import_organisations", str(files / "organisations.csv"))
    timed("import_observers", "import_observers", str(files / "observers.csv"), election=slug)
    timed("import_assignments", "import_assignments", str(files / "assignments.csv"), election=slug)
    for name, totals in (
        ("official_stations", False),
        ("official_totals", True),
        ("official_stations_revised", False),
        ("official_totals_revised", True),
    ):
        timed(
            f"import_{name}", "import_official", str(files / f"{name}.csv"), election=slug,
            totals=totals, no_crosscheck=True,
        )  # fmt: skip
    copies = str(files / "copies.csv")
    timed("import_copies", "import_copies", copies, election=slug, no_crosscheck=True)
    timed("crosscheck", "crosscheck", election=slug)
    timed("import_copies_again", "import_copies", copies, election=slug, no_crosscheck=True)

    expected = read_ground_truth(files / "ground_truth.json")
    recorded = recorded_findings(election)
    missing = set(expected) - set(recorded)
    extra = set(recorded) - set(expected)
    return {
        "vendor": connection.vendor,
        "copies": ProtocolCopy.objects.filter(election=election).count(),
        "observers": election.accreditations.count(),
        "steps": steps,
        "findings_expected": len(expected),
        "findings_recorded": len(recorded),
        "findings_missing": len(missing),
        "findings_extra": len(extra),
        "findings_equal": recorded == expected,
    }


if __name__ == "__main__":
    main()
