"""Election forensics on a ~97,000-station election, each figure beside its baseline.

    .venv/bin/python bench/forensics.py                  # Russia 2018 from ../shared/data
    .venv/bin/python bench/forensics.py --synthetic      # a 97,699-station synthetic election

Times, each the best of `--repeat` runs:
- the integer-percentage test with its exact null (target <= 2 s), against the baseline of a
  1,000-replicate Monte Carlo that loops over stations in Python, as published notebooks do.
  That loop would take many minutes, so it runs on a random subsample of stations and its time
  is extrapolated linearly to all included stations (the figures say so). The same Monte Carlo
  vectorised over stations (`monte_carlo_null`) is timed in full as a second baseline;
- the whole suite except the Klimek fit (`forensics_report`: distributions and fingerprints by
  stations and by voters, integer percentages, Shpilkin, digit tests, observer effect;
  target <= 5 s);
- the Klimek fit (target <= 60 s).
Prints the figures and writes bench/results/forensics.json.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness import description, heading, machine, record, results_file
from pollwatch.core.forensics import StationResults, forensics_report, russia
from pollwatch.core.forensics.integer_percentages import (
    included_stations,
    integer_percentage_test,
    monte_carlo_null,
)
from pollwatch.core.forensics.klimek import fit
from pollwatch.core.synth import SynthParams, generate

ROOT = Path(__file__).resolve().parents[1]
BENCH = "forensics"
RUSSIA_2018 = ROOT.parent / "shared" / "data" / "russia" / "2018.csv.zip"
TARGETS = {"integer_percentage_test": 2.0, "suite_without_klimek": 5.0, "klimek_fit": 60.0}
REPLICATES = 1_000
LOOP_SUBSAMPLE = 1_000  # stations the looping baseline runs on
SEED = 1


def load(synthetic: bool) -> tuple[str, StationResults]:
    if not synthetic and RUSSIA_2018.is_file():
        return "russia-2018", russia.load_2018(RUSSIA_2018)
    election = generate(SynthParams.build(stations=97_699, seed=SEED))
    line = election.protocols.line
    yes, no = line("yes"), line("no")
    return "synthetic-97699", StationResults(
        registered=line("registered"),
        issued=line("issued_in_station") + line("issued_outside"),
        counted=line("invalid") + yes + no,
        leader=yes,
        region=election.structure.station_region,
        options=np.column_stack([yes, no]),
        option_names=("yes", "no"),
    )


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def looping_monte_carlo(registered: list[int], issued: list[int], counted: list[int],
                        leader: list[int], replicates: int, seed: int) -> list[int]:  # fmt: skip
    """The notebook way: for every replicate, for every station, draw and test one by one."""
    rng = np.random.default_rng(seed)
    counts = []
    for _ in range(replicates):
        hits = 0
        for v, g, r, le in zip(registered, issued, counted, leader, strict=True):
            turnout = 100 * rng.binomial(v, g / v) / v
            share = 100 * rng.binomial(r, le / r) / r
            if abs(turnout - round(turnout)) <= 0.05 or abs(share - round(share)) <= 0.05:
                hits += 1
        counts.append(hits)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--synthetic", action="store_true", help="a synthetic election instead")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=results_file(BENCH))
    args = parser.parse_args()

    source, results = load(args.synthetic)
    mask = included_stations(results)
    included = int(mask.sum())
    test = integer_percentage_test(results)
    exact = best_of(args.repeat, lambda: integer_percentage_test(results))

    rng = np.random.default_rng(SEED)
    subsample = rng.choice(np.flatnonzero(mask), LOOP_SUBSAMPLE, replace=False)
    start = time.perf_counter()
    looping_monte_carlo(
        results.registered[subsample].tolist(),
        results.issued[subsample].tolist(),
        results.counted[subsample].tolist(),
        results.leader[subsample].tolist(),
        replicates=REPLICATES,
        seed=SEED,
    )
    loop_subsample = time.perf_counter() - start
    loop_extrapolated = loop_subsample * included / LOOP_SUBSAMPLE

    start = time.perf_counter()
    mc = monte_carlo_null(results, replicates=REPLICATES, seed=SEED)
    vectorised_mc = time.perf_counter() - start

    observed = rng.random(results.stations) < 0.3
    suite = best_of(args.repeat, lambda: forensics_report(results, observed=observed))
    start = time.perf_counter()
    klimek = fit(results)
    klimek_seconds = time.perf_counter() - start

    seconds = {
        "integer_percentage_test": exact,
        "suite_without_klimek": suite,
        "klimek_fit": klimek_seconds,
    }
    figures = {
        **heading(BENCH),
        "source": source,
        "stations": results.stations,
        "included_stations": included,
        "repeat": args.repeat,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "targets_seconds": TARGETS,
        "within_target": {k: seconds[k] <= TARGETS[k] for k in TARGETS},
        "integer_percentage_baselines": {
            "looping_monte_carlo": {
                "replicates": REPLICATES,
                "stations_run": LOOP_SUBSAMPLE,
                "seconds_on_subsample": round(loop_subsample, 2),
                "seconds_extrapolated_to_included_stations": round(loop_extrapolated, 1),
                "note": "Python loop over stations; run on a random subsample and extrapolated"
                " linearly in the number of stations",
            },
            "vectorised_monte_carlo": {
                "replicates": REPLICATES,
                "seconds": round(vectorised_mc, 2),
            },
            "speedup_over_looping_monte_carlo": round(loop_extrapolated / exact),
            "speedup_over_vectorised_monte_carlo": round(vectorised_mc / exact, 1),
        },
        "integer_percentage_result": {
            "observed": test.either.observed,
            "expected_exact": round(test.either.expected, 1),
            "sd_exact": round(test.either.sd, 1),
            "expected_monte_carlo": round(mc.either[0], 1),
            "sd_monte_carlo": round(mc.either[1], 1),
            "excess": round(test.either.excess, 1),
            "z": round(test.either.z, 2),
        },
        "klimek_result": {
            "incremental": round(klimek.incremental, 3),
            "extreme": round(klimek.extreme, 3),
            "sigma_x": round(klimek.sigma_x, 3),
            "evaluations": klimek.evaluations,
        },
        "machine": machine(numpy=np.__version__),
    }
    print(f"forensics on {source}: {results.stations:,} stations, {included:,} included")
    rows = [
        ("integer-percentage test (exact)", exact, TARGETS["integer_percentage_test"]),
        ("  baseline: looping Monte Carlo*", loop_extrapolated, None),
        ("  baseline: vectorised Monte Carlo", vectorised_mc, None),
        ("suite without Klimek", suite, TARGETS["suite_without_klimek"]),
        ("Klimek fit", klimek_seconds, TARGETS["klimek_fit"]),
    ]
    for label, value, target in rows:
        limit = f"  (target <= {target:.0f} s)" if target else ""
        print(f"  {label:<36} {value:9.2f} s{limit}")
    print(
        f"  * {loop_subsample:.1f} s on {LOOP_SUBSAMPLE:,} stations, extrapolated to {included:,}"
    )
    record(args.out, figures)


if __name__ == "__main__":
    main()
