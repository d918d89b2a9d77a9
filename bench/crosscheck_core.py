"""Cross-checking and tabulation in `core` at a million stations.

    .venv/bin/python bench/crosscheck_core.py                   # 1,000,000 stations
    .venv/bin/python bench/crosscheck_core.py --stations 100000

A synthetic referendum (`core.synth`, seed 1) is the honest count. The official results
publish every station, with 1 % of them falsified (No votes moved to Yes) and 0.1 % with broken
arithmetic, and every commission's total, one of them wrong. Observers hand in three copies
per station on average (stations drawn at random, so some have none), from five
organisations, 0.5 % of them misread by one vote and 1 % with one line left blank, in random
order. Times the whole cross-check (best of three, each run recorded), with copies in random
order and presorted, its fingerprints, and the two tabulations and outcome comparison; prints
the figures and writes bench/results/crosscheck_core.json. Target: the cross-check <= 3 s at
1,000,000 stations with 3,000,000 copies.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from harness import description, heading, machine, print_json, record, results_file
from pollwatch.core.crosscheck import (
    Copies,
    CrossCheck,
    Figures,
    FindingKind,
    Hierarchy,
    OfficialResults,
    crosscheck,
    figures_for_stations,
)
from pollwatch.core.outcome import RegionalMajorityRule, would_outcome_change
from pollwatch.core.protocol import parse_template
from pollwatch.core.synth import LINE_KEYS, SynthParams, generate

ROOT = Path(__file__).resolve().parents[1]
BENCH = "crosscheck_core"
TEMPLATE_FILE = ROOT / "src" / "pollwatch" / "protocol_templates" / "kz-referendum.toml"
TARGET_SECONDS = 3.0
SEED = 1
COPIES_PER_STATION = 3
ORGANISATIONS = 5
REPEATS = 3
T = TypeVar("T")


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--stations", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=results_file(BENCH))
    args = parser.parse_args()

    template = parse_template(TEMPLATE_FILE.read_text(), str(TEMPLATE_FILE))
    hierarchy, official, totals, copies, honest = _inputs(args.stations)
    expected = np.ones(args.stations, dtype=np.bool_)

    def run() -> CrossCheck:
        return crosscheck(template, hierarchy, copies, official, totals, expected)

    check_times, result = _timed(run)
    check_seconds = min(check_times)
    findings = result.findings
    # A fresh copy each time: the fingerprint is computed once per Findings and cached.
    everything = np.arange(len(findings))
    fingerprint_seconds, _ = _best(lambda: findings.take(everything).fingerprint)

    sorted_copies = _sorted(copies)
    sorted_seconds, _ = _best(
        lambda: crosscheck(template, hierarchy, sorted_copies, official, totals, expected)
    )
    rule = RegionalMajorityRule(participants=("issued_in_station", "issued_outside"))
    station_figures = figures_for_stations(official, args.stations)
    observed = result.consensus.figures(args.stations)
    outcome_seconds, comparison = _best(
        lambda: would_outcome_change(
            rule, hierarchy, LINE_KEYS, station_figures, observed, hierarchy.level(1)
        )
    )

    kinds = {kind.slug: int(np.count_nonzero(findings.kind == kind)) for kind in FindingKind}
    figures = {
        **heading(BENCH),
        "stations": args.stations,
        "commissions": hierarchy.commissions,
        "copies": copies.figures.rows,
        "official_station_results": official.figures.rows,
        "official_commission_totals": totals.figures.rows,
        "template": template.key,
        "lines": len(template.lines),
        "seed": SEED,
        "repeats_best_of": REPEATS,
        "crosscheck_seconds": round(check_seconds, 3),
        "crosscheck_seconds_each_run": [round(t, 3) for t in check_times],
        "crosscheck_seconds_copies_presorted": round(sorted_seconds, 3),
        "fingerprint_seconds": round(fingerprint_seconds, 3),
        "tabulate_twice_and_decide_seconds": round(outcome_seconds, 3),
        "target_crosscheck_seconds": TARGET_SECONDS,
        "within_target": check_seconds <= TARGET_SECONDS,
        "findings": len(findings),
        "findings_by_kind": kinds,
        "outcome_official": comparison.official.decision,
        "outcome_observed": comparison.observed.decision,
        "honest_yes": int(honest[:, LINE_KEYS.index("yes")].sum()),
        # The first run in a process pays for fresh memory (page faults); glibc keeps freed
        # memory for reuse when these are raised, e.g. MALLOC_MMAP_THRESHOLD_=1073741824.
        "malloc_environment": {
            name: os.environ.get(name)
            for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
        },
        "machine": machine(numpy=np.__version__),
    }
    record(args.out, figures, print_json)


def _inputs(
    stations: int,
) -> tuple[Hierarchy, OfficialResults, OfficialResults, Copies, np.ndarray]:
    election = generate(SynthParams.build(stations=stations, seed=SEED))
    structure = election.structure
    regions = len(structure.region_codes)
    hierarchy = Hierarchy(
        np.concatenate([[-1], np.zeros(regions), 1 + structure.territorial_region]).astype(np.intp),
        (1 + regions + structure.station_territorial).astype(np.intp),
    )
    honest = election.protocols.figures
    rng = np.random.default_rng(SEED)
    yes = LINE_KEYS.index("yes")
    official = falsified_official(honest, rng)

    totals = np.zeros((hierarchy.commissions, len(LINE_KEYS)), dtype=np.int64)
    np.add.at(totals, hierarchy.station_commission, official)
    for level in range(int(hierarchy.depth.max()), 0, -1):
        members = hierarchy.level(level)
        np.add.at(totals, hierarchy.commission_parent[members], totals[members])
    totals[-1, yes] += 100

    count = COPIES_PER_STATION * stations
    station = rng.integers(0, stations, count).astype(np.intp)
    copy_figures = honest[station]
    misread = rng.random(count) < 0.005
    copy_figures[misread, yes] += 1
    # An unreadable line on 1 % of copies.
    blank = np.zeros(copy_figures.shape, dtype=np.bool_)
    unreadable = np.flatnonzero(rng.random(count) < 0.01)
    blank[unreadable, rng.integers(0, len(LINE_KEYS), unreadable.size)] = True
    return (
        hierarchy,
        OfficialResults(np.arange(stations, dtype=np.intp), Figures.complete(official)),
        OfficialResults(np.arange(hierarchy.commissions, dtype=np.intp), Figures.complete(totals)),
        Copies(
            station,
            rng.integers(1, ORGANISATIONS + 1, count).astype(np.int64),
            Figures(copy_figures, blank),
        ),
        honest,
    )


def falsified_official(honest: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The official results: the honest figures with 1 % of stations falsified (up to 49 No
    votes moved to Yes) and 0.1 % with broken arithmetic (5 invalid ballots too many)."""
    stations = len(honest)
    yes, no, invalid = (LINE_KEYS.index(k) for k in ("yes", "no", "invalid"))
    official = honest.copy()
    falsified = rng.choice(stations, stations // 100, replace=False)
    moved = np.minimum(rng.integers(1, 50, falsified.size), official[falsified, no])
    official[falsified, yes] += moved
    official[falsified, no] -= moved
    miscounted = rng.choice(stations, stations // 1000, replace=False)
    official[miscounted, invalid] += 5
    return official


def _sorted(copies: Copies) -> Copies:
    order = np.lexsort((copies.organisation, copies.station))
    return Copies(copies.station[order], copies.organisation[order], copies.figures.take(order))


def _timed(work: Callable[[], T]) -> tuple[list[float], T]:
    """Seconds of each of REPEATS runs (the first pays for fresh memory), and the result."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return times, result


def _best(work: Callable[[], T]) -> tuple[float, T]:
    times, result = _timed(work)
    return min(times), result


if __name__ == "__main__":
    main()
