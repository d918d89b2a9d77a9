"""Recording 200,000 computed findings, on SQLite and on PostgreSQL.

    .venv/bin/python bench/findings_record.py                      # 200,000 findings, both
    .venv/bin/python bench/findings_record.py --findings 20000 --skip-postgres

For each database (a fresh SQLite file; a fresh PostgreSQL database `bench_findings`, dropped
afterwards), in its own process since Django's settings are per process: migrate, create an
election with one station per four findings, build the core's Findings columns (copy differs
from official, four lines per station) and convert them to records, then time

- the first recording into the empty table (all new);
- the same findings again (all unchanged);
- 10 % of the values changed and another 10 % vanished (updated, resolved);
- the vanished ones back (reappeared);
- one station's own recording, as a submission does it, on the full table (median of runs).

Prints the figures and writes bench/results/findings_record.json. Target: the first recording
and each re-recording of 200,000 findings within 10 s on either database.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
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
)

BENCH = "findings_record"
BENCH_DATABASE = "bench_findings"
TARGET_SECONDS = 10.0
PER_STATION = 4  # findings per station: four lines of one copy differ from the official
STATION_RUNS = 51
PHASES = ("first_recording", "same_again", "changed_and_vanished", "vanished_back")


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--findings", type=int, default=200_000)
    add_database_options(parser, BENCH, sqlite=True)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_to_parent(_record_in_child(args.child))
        return

    vendors = databases(args.skip_postgres)
    arguments = ["--child", str(args.findings)]
    runs = run_on_databases(__file__, arguments, vendors, args.postgres, BENCH_DATABASE)
    for run in runs.values():
        run["within_target"] = all(run[phase]["seconds"] <= TARGET_SECONDS for phase in PHASES)
    figures = {
        **heading(BENCH),
        "findings": args.findings,
        "stations": args.findings // PER_STATION,
        "source": "core Findings.build (copy differs from official), converted by from_crosscheck",
        "target_seconds": TARGET_SECONDS,
        "databases": runs,
        "machine": machine(),
    }
    record(args.out, figures, _print)


def _print(figures: Figures) -> None:
    print(f"{figures['findings']:,} findings at {figures['stations']:,} stations")
    for name, run in figures["databases"].items():
        print(f"{name}: convert {run['convert_seconds']:.2f} s")
        for phase in PHASES:
            result = run[phase]
            counts = ", ".join(
                f"{count:,} {what}" for what, count in result["counts"].items() if count
            )
            print(f"  {phase:<22} {result['seconds']:6.2f} s  ({counts})")
        station = run["one_station"]
        print(
            f"  one station ({station['findings']} findings): median {station['median_ms']:.1f} "
            f"ms, max {station['max_ms']:.1f} ms over {station['runs']} runs"
        )
        print(f"  within {TARGET_SECONDS:.0f} s: {run['within_target']}")


def _record_in_child(count: int) -> dict[str, Any]:
    """In the child process: a fresh database, an election, and the recordings timed."""
    setup_django()
    import dataclasses

    import numpy as np
    from django.db import connection

    from pollwatch.bulk import copy_rows
    from pollwatch.core.crosscheck import FindingKind, Findings, FingerprintNames
    from pollwatch.core.protocol import template_from_data
    from pollwatch.findings.computed import from_crosscheck
    from pollwatch.findings.recording import Scope, record_findings
    from pollwatch.registry.models import Commission, Election, PollingStation, ProtocolTemplate

    lines = [
        {"key": key, "number": str(i + 1), "label": {"en": key}, "option": key in ("yes", "no")}
        for i, key in enumerate(("registered", "issued", "in_boxes", "invalid", "yes", "no"))
    ]
    spec = template_from_data(
        {"key": "bench", "name": "Bench", "kind": "referendum", "lines": lines, "relations": []},
        "bench",
    )
    template = ProtocolTemplate.objects.create(
        key="bench", name="Bench", kind="referendum", lines=spec.lines_data(), relations=[]
    )
    election = Election.objects.create(
        slug="bench", name="Bench", kind="referendum", date=datetime.date(2026, 1, 1),
        template=template,
    )  # fmt: skip
    commission = Commission.objects.create(election=election, code="C", name="C", level="central")
    stations = count // PER_STATION
    with connection.cursor() as cursor:
        copy_rows(
            cursor, PollingStation._meta.db_table,
            ["election_id", "code", "number", "commission_id", "registered_voters", "address"],
            ((election.pk, f"S{i}", str(i), commission.pk, 1000, "") for i in range(stations)),
        )  # fmt: skip
    station_ids = np.array(
        PollingStation.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64
    )

    start = time.perf_counter()
    rng = np.random.default_rng(1)
    station = np.repeat(np.arange(stations), PER_STATION)
    line = np.tile(np.arange(2, 2 + PER_STATION), stations)
    left = rng.integers(0, 2000, station.size)
    right = left + rng.integers(-50, 51, station.size)
    names = FingerprintNames(
        line_keys=spec.line_keys,
        relation_texts=(),
        station_ids=station_ids,
        commission_ids=np.array([commission.pk], dtype=np.int64),
        copy_ids=np.arange(stations, dtype=np.int64) + 10_000_000,
    )
    findings = Findings.build(
        FindingKind.COPY_DIFFERS_FROM_OFFICIAL, names, station.size,
        station=station, copy=station, line=line, left=left, right=right,
        copies=1, organisations=1,
    )  # fmt: skip
    computed = from_crosscheck(findings, spec)
    convert = time.perf_counter() - start

    tenth = len(computed) // 10
    order = rng.permutation(len(computed))
    changed, vanished = set(order[:tenth].tolist()), set(order[tenth : 2 * tenth].tolist())
    changed_again = [
        dataclasses.replace(f, delta=f.delta + 1000, left=f.left + 1000) if i in changed else f
        for i, f in enumerate(computed)
        if i not in vanished
    ]
    run: dict[str, Any] = {"vendor": connection.vendor, "convert_seconds": round(convert, 2)}
    for phase, records in zip(PHASES, (computed, computed, changed_again, computed), strict=True):
        start = time.perf_counter()
        counts = record_findings(election, Scope.election(), records)
        run[phase] = {
            "seconds": round(time.perf_counter() - start, 2),
            "counts": dataclasses.asdict(counts),
        }

    # A submission at one station: its findings recorded in its own scope, on the full table.
    timings = []
    for i in range(STATION_RUNS):
        station_id = int(station_ids[i])
        own = computed[i * PER_STATION : (i + 1) * PER_STATION]
        start = time.perf_counter()
        record_findings(election, Scope.station(station_id), own[: PER_STATION - i % 2])
        timings.append((time.perf_counter() - start) * 1000)
    run["one_station"] = {
        "findings": PER_STATION,
        "runs": STATION_RUNS,
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
    }
    return run


if __name__ == "__main__":
    main()
