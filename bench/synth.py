"""`pollwatch synth` at a million stations: generation and writing, timed separately.

    .venv/bin/python bench/synth.py                      # 1,000,000 stations, CSV
    .venv/bin/python bench/synth.py --stations 100000

Generates the election in memory (structure, protocols, observers and their copies, the
official publication with its injected faults), then writes its CSV files and ground truth
into a temporary directory, which is removed afterwards. Prints the figures and writes
bench/results/synth.json. Target: generation + writing <= 60 s for 1,000,000 stations.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from harness import description, heading, load_average, machine, record, results_file
from pollwatch.core.synth import SynthParams, generate, summarise, write_files

BENCH = "synth"
TARGET_TOTAL_SECONDS = 60.0
SEED = 1


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--stations", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=results_file(BENCH))
    args = parser.parse_args()

    params = SynthParams.build(stations=args.stations, seed=SEED)
    start = time.perf_counter()
    election = generate(params)
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as directory:
        paths = write_files(election, Path(directory))
        written = time.perf_counter()
        sizes = {path.name: path.stat().st_size for path in paths}
    summary = summarise(election)

    generation, writing = generated - start, written - generated
    total = generation + writing
    figures = {
        **heading(BENCH),
        "stations": summary.stations,
        "regions": summary.regions,
        "territorials": summary.territorials,
        "registered_voters": summary.registered,
        "seed": SEED,
        "generation_seconds": round(generation, 2),
        "writing_seconds": round(writing, 2),
        "total_seconds": round(total, 2),
        "target_total_seconds": TARGET_TOTAL_SECONDS,
        "within_target": total <= TARGET_TOTAL_SECONDS,
        "stations_per_second": round(summary.stations / total),
        "file_bytes": sizes,
        "load_average_1_5_15": load_average(),
        "machine": machine(numpy=np.__version__),
    }
    print(f"synth: {summary.stations:,} stations, {summary.territorials:,} territorials")
    print(f"  generation {generation:7.2f} s")
    print(f"  writing    {writing:7.2f} s  ({sum(sizes.values()) / 1e6:,.0f} MB of CSV)")
    print(f"  total      {total:7.2f} s  (target <= {TARGET_TOTAL_SECONDS:.0f} s)")
    record(args.out, figures)


if __name__ == "__main__":
    main()
