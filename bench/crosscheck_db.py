"""`pollwatch crosscheck` end to end on PostgreSQL: 1,000,000 stations, 3,000,000 copies.

    .venv/bin/python bench/crosscheck_db.py                       # 1,000,000 stations
    .venv/bin/python bench/crosscheck_db.py --stations 100000

A synthetic referendum (`core.synth`, seed 1) is loaded into a fresh PostgreSQL database
`bench_crosscheck_db` (dropped afterwards) with COPY: its commissions and stations, one
official snapshot with every station's result (1 % falsified: No votes moved to Yes; 0.1 % with
broken arithmetic) and every commission's total (one wrong), and three copies per station on
average from five organisations (0.5 % misread by one vote, in random order). Then, timed:

- `recheck_election` into the empty findings table, split into reading the inputs (binary
  COPY into NumPy), the core cross-check, converting to records, and recording;
- the same again (every finding unchanged);
- `recheck_station` at 51 stations, as a submission runs it (median and max).

Prints the figures and writes bench/results/crosscheck_db.json. Target: the whole recheck
<= 30 s end to end, the core part <= 3 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import statistics
import time
from typing import Any

from harness import (
    POSTGRESQL,
    add_database_options,
    description,
    heading,
    machine,
    print_json,
    record,
    report_to_parent,
    run_on_databases,
    setup_django,
)

BENCH = "crosscheck_db"
BENCH_DATABASE = "bench_crosscheck_db"
TARGET_SECONDS = 30.0
TARGET_CORE_SECONDS = 3.0
SEED = 1
COPIES_PER_STATION = 3
ORGANISATIONS = 5
STATION_RUNS = 51


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--stations", type=int, default=1_000_000)
    add_database_options(parser, BENCH, sqlite=False)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_to_parent(_run_in_child(args.child))
        return
    arguments = ["--child", str(args.stations)]
    runs = run_on_databases(__file__, arguments, [POSTGRESQL], args.postgres, BENCH_DATABASE)
    run = runs[POSTGRESQL]
    figures = {
        **heading(BENCH),
        "seed": SEED,
        "target_seconds": TARGET_SECONDS,
        "target_core_seconds": TARGET_CORE_SECONDS,
        **run,
        "within_target": run["first"]["total_seconds"] <= TARGET_SECONDS
        and run["again"]["total_seconds"] <= TARGET_SECONDS,
        "core_within_target": run["first"]["stages"]["check"] <= TARGET_CORE_SECONDS,
        "machine": machine(load=True),
    }
    record(args.out, figures, print_json)


def load_election(stations: int, seed: int = SEED) -> Any:
    """A synthetic referendum's commissions and stations in the database, loaded with COPY.

    Returns (election, synthetic election, hierarchy positions → database ids)."""
    import numpy as np
    from django.db import connection

    from pollwatch.bulk import copy_rows
    from pollwatch.core.synth import SynthParams, generate
    from pollwatch.registry.models import Commission, Election, PollingStation
    from pollwatch.registry.protocol_templates import load_shipped_template

    synth = generate(SynthParams.build(stations=stations, seed=seed))
    structure = synth.structure
    template = load_shipped_template("kz-referendum")
    election = Election.objects.create(
        slug="bench", name="Bench referendum", kind="referendum",
        date=datetime.date(2026, 3, 15), template=template,
    )  # fmt: skip
    central = Commission.objects.create(
        election=election, code="KZ", name="KZ", level="central", depth=0
    )
    regions = Commission.objects.bulk_create(
        Commission(election=election, code=c, name=c, level="region", depth=1, parent=central)
        for c in structure.region_codes
    )
    territorials = Commission.objects.bulk_create(
        Commission(
            election=election, code=c, name=c, level="territorial", depth=2,
            parent=regions[region],
        )
        for c, region in zip(
            structure.territorial_codes, structure.territorial_region.tolist(), strict=True
        )
    )  # fmt: skip
    territorial_ids = [t.pk for t in territorials]
    with connection.cursor() as cursor:
        copy_rows(
            cursor, PollingStation._meta.db_table,
            ["election_id", "code", "number", "commission_id", "registered_voters", "address"],
            (
                (election.pk, f"S{i:07d}", str(i), territorial_ids[t], int(v), "")
                for i, (t, v) in enumerate(
                    zip(structure.station_territorial.tolist(), structure.registered.tolist(),
                        strict=True)
                )
            ),
        )  # fmt: skip
        cursor.execute(f"ANALYZE {PollingStation._meta.db_table}")
    station_ids = np.array(
        PollingStation.objects.filter(election=election)
        .order_by("code")
        .values_list("pk", flat=True),
        dtype=np.int64,
    )
    commission_ids = np.array([central.pk, *(r.pk for r in regions), *territorial_ids])
    return election, synth, station_ids, commission_ids


def figures_json(keys: list[str], values: list[int]) -> str:
    return "{" + ",".join(f'"{k}":{v}' for k, v in zip(keys, values, strict=True)) + "}"


def _run_in_child(stations: int) -> dict[str, Any]:
    setup_django()
    import uuid

    import numpy as np
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from crosscheck_core import falsified_official
    from pollwatch.accreditation.models import Observer, Organisation
    from pollwatch.bulk import copy_rows
    from pollwatch.core.synth import LINE_KEYS
    from pollwatch.findings import recheck
    from pollwatch.findings.models import Finding
    from pollwatch.official.models import OfficialResult, OfficialSnapshot
    from pollwatch.protocols.models import ProtocolCopy

    start = time.perf_counter()
    election, synth, station_ids, commission_ids = load_election(stations)
    honest = synth.protocols.figures
    structure = synth.structure
    rng = np.random.default_rng(SEED)
    yes = LINE_KEYS.index("yes")
    official = falsified_official(honest, rng)
    # Commission totals: sums by territorial, region and the centre; the centre's Yes off.
    regions = len(structure.region_codes)
    station_commission = 1 + regions + structure.station_territorial
    totals = np.zeros((commission_ids.size, len(LINE_KEYS)), dtype=np.int64)
    np.add.at(totals, station_commission, official)
    np.add.at(totals, 1 + structure.territorial_region, totals[1 + regions :])
    totals[0] = totals[1 : 1 + regions].sum(axis=0)
    totals[0, yes] += 100

    now = timezone.now()
    snapshot = OfficialSnapshot.objects.create(
        election=election, source="bench", sha256="0" * 64, imported_at=now,
        station_rows=stations, commission_rows=int(commission_ids.size),
    )  # fmt: skip
    keys = list(LINE_KEYS)
    with connection.cursor() as cursor:
        copy_rows(
            cursor, OfficialResult._meta.db_table,
            ["snapshot_id", "election_id", "station_id", "commission_id", "figures", "current"],
            (
                (snapshot.pk, election.pk, int(s), None, figures_json(keys, f), True)
                for s, f in zip(station_ids.tolist(), official.tolist(), strict=True)
            ),
        )  # fmt: skip
        copy_rows(
            cursor, OfficialResult._meta.db_table,
            ["snapshot_id", "election_id", "station_id", "commission_id", "figures", "current"],
            (
                (snapshot.pk, election.pk, None, int(c), figures_json(keys, f), True)
                for c, f in zip(commission_ids.tolist(), totals.tolist(), strict=True)
            ),
        )  # fmt: skip

    organisations = [
        Organisation.objects.create(
            code=f"org{i}", name=f"Org {i}", kind="ngo", share_with_mission=True
        )
        for i in range(ORGANISATIONS)
    ]
    observers = [
        Observer.objects.create(organisation=o, code="o", full_name="Observer")
        for o in organisations
    ]
    count = COPIES_PER_STATION * stations
    station = rng.integers(0, stations, count)
    organisation = rng.integers(0, ORGANISATIONS, count)
    copy_figures = honest[station]
    copy_figures[rng.random(count) < 0.005, yes] += 1
    received = now.isoformat()
    ids = rng.integers(0, 2**63, (count, 2), dtype=np.int64)
    organisation_ids = [o.pk for o in organisations]
    observer_ids = [o.pk for o in observers]
    with connection.cursor() as cursor:
        copy_rows(
            cursor, ProtocolCopy._meta.db_table,
            ["id", "election_id", "station_id", "observer_id", "organisation_id", "figures",
             "all_members_signed", "certified", "body_sha256", "received_at"],
            (
                (uuid.UUID(int=(int(a) << 64) | int(b)), election.pk, int(station_ids[s]),
                 observer_ids[o], organisation_ids[o], figures_json(keys, f), True, True,
                 "0" * 64, received)
                for (a, b), s, o, f in zip(
                    ids.tolist(), station.tolist(), organisation.tolist(), copy_figures.tolist(),
                    strict=True,
                )
            ),
        )  # fmt: skip
        cursor.execute("ANALYZE")
    load_seconds = time.perf_counter() - start

    def timed_recheck() -> dict[str, Any]:
        marks: list[tuple[str, float]] = []
        begin = time.perf_counter()
        counts = recheck.recheck_election(
            election, progress=lambda stage: marks.append((stage, time.perf_counter()))
        )
        end = time.perf_counter()
        first_mark = marks[0][1]
        bounds = [*(at for _, at in marks[1:]), end]
        stages = {
            name: round(until - at, 2) for (name, at), until in zip(marks, bounds, strict=True)
        }
        stages["lock_and_template"] = round(first_mark - begin, 2)
        return {
            "total_seconds": round(end - begin, 2),
            "stages": stages,
            "counts": dataclasses.asdict(counts),
        }

    first = timed_recheck()
    again = timed_recheck()
    by_kind = dict(
        Finding.objects.filter(election=election, present=True)
        .values_list("kind")
        .annotate(n=Count("id"))
    )

    timings = []
    for i in range(STATION_RUNS):
        station_id = int(station_ids[(i * 7919) % stations])
        begin = time.perf_counter()
        recheck.recheck_station(election, station_id)
        timings.append((time.perf_counter() - begin) * 1000)
    return {
        "stations": stations,
        "commissions": int(commission_ids.size),
        "copies": count,
        "official_station_results": stations,
        "official_commission_totals": int(commission_ids.size),
        "load_seconds": round(load_seconds, 1),
        "first": first,
        "again": again,
        "findings_by_kind": by_kind,
        "one_station": {
            "runs": STATION_RUNS,
            "median_ms": round(statistics.median(timings), 1),
            "max_ms": round(max(timings), 1),
        },
    }


if __name__ == "__main__":
    main()
