"""The core's fixed cost on election-night inputs: one copy's relation feedback, and the
cross-check of the few stations a group of new copies touches.

    .venv/bin/python bench/crosscheck_small.py
    .venv/bin/python bench/crosscheck_small.py --before HEAD~3 --rounds 5

Ingest calls the core per group of 3-5 new copies: `relation_feedback` for each copy (one
row), then `crosscheck` of the group's stations under their commission (here 4 stations, 10
copies from three organisations, one misread and one line left blank, official results for
every station, one of them with broken arithmetic) followed by the findings' fingerprints, as
`findings.computed.from_crosscheck` reads them. Figures come from the shipped Kazakh
referendum template and `copy_setup.protocol`, as the copy benchmarks make them.

Each measurement runs in a child process: `--before REV` also runs them on the code of commit
REV (`git archive` of its `src` into a temporary directory, put first on PYTHONPATH), the two
alternating for `--rounds` rounds, and checks that both compute the same results. Times are
CPU time of the child (time.process_time: the machine is shared), per call, the median of
rounds of many calls. Prints the figures and writes bench/results/crosscheck_small.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import (
    commit_of,
    description,
    export_source,
    heading,
    machine,
    print_json,
    record,
    results_file,
)

ROOT = Path(__file__).resolve().parents[1]
BENCH = "crosscheck_small"
TEMPLATE_FILE = ROOT / "src" / "pollwatch" / "protocol_templates" / "kz-referendum.toml"
# Copies per station, and each copy's organisation: 4 stations, 10 copies.
COPY_STATIONS = (0, 0, 0, 1, 1, 2, 2, 2, 3, 3)
COPY_ORGANISATIONS = (1, 2, 3, 1, 2, 1, 2, 3, 1, 3)
FEEDBACK_CALLS = 5000
CROSSCHECK_CALLS = 500
INNER_ROUNDS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--before", metavar="REV", help="also measure the code of commit REV")
    parser.add_argument("--rounds", type=int, default=3, help="child runs of each code")
    parser.add_argument("--out", type=Path, default=results_file(BENCH))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure()))
        return

    with tempfile.TemporaryDirectory(prefix=f"{BENCH}-") as work:
        codes: dict[str, Path] = {"after": ROOT / "src"}
        if args.before:
            codes = {"before": export_source(args.before, Path(work)), **codes}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in codes}
        for round_ in range(args.rounds):
            # Alternate which code runs first, so neither always meets a warmer machine.
            names = list(codes) if round_ % 2 == 0 else list(reversed(codes))
            for name in names:
                runs[name].append(_child(codes[name]))

    digests = {run["results"] for each in runs.values() for run in each}
    if len(digests) != 1:
        raise SystemExit(f"the codes compute different results: {sorted(digests)}")
    figures: dict[str, Any] = {
        **heading(BENCH),
        "template": "kz-referendum",
        "crosscheck_stations": len(set(COPY_STATIONS)),
        "crosscheck_copies": len(COPY_STATIONS),
        "before_revision": commit_of(args.before) if args.before else None,
        "after_revision": commit_of("HEAD"),
        "rounds": args.rounds,
        "time": "CPU (process_time) per call, median of rounds",
        "same_results": True,
    }
    for measure in ("relation_feedback_us", "crosscheck_us"):
        for name, each in runs.items():
            figures[f"{measure}_{name}"] = round(statistics.median(run[measure] for run in each), 1)
        if args.before:
            figures[f"{measure}_speedup"] = round(
                figures[f"{measure}_before"] / figures[f"{measure}_after"], 2
            )
    figures["machine"] = machine(load=True)
    record(args.out, figures, print_json)


def _child(code: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    result = subprocess.run(
        [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True
    )
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def _measure() -> dict[str, Any]:
    """In the child: per-call CPU microseconds of each measure, and a digest of the results."""
    import numpy as np

    from copy_setup import protocol
    from pollwatch.core.crosscheck import (
        Copies,
        Figures,
        Hierarchy,
        OfficialResults,
        crosscheck,
    )
    from pollwatch.core.protocol import parse_template
    from pollwatch.core.relation_feedback import relation_feedback

    template = parse_template(TEMPLATE_FILE.read_text(), str(TEMPLATE_FILE))
    keys = template.line_keys
    copy_figures = protocol(1500, random.Random(1), slip=3)

    def feedback() -> list[Any]:
        return [
            (f.state.value, f.left, f.right, f.missing)
            for f in relation_feedback(template, copy_figures)
        ]

    stations = [protocol(1000 + 100 * s, random.Random(s)) for s in range(4)]
    values = np.array([[stations[s][k] for k in keys] for s in COPY_STATIONS], dtype=np.int64)
    values[4, keys.index("yes")] += 1  # a misread
    missing = np.zeros(values.shape, dtype=np.bool_)
    missing[7, keys.index("issued_outside")] = True  # a line left blank
    copies = Copies(
        np.array(COPY_STATIONS, dtype=np.intp),
        np.array(COPY_ORGANISATIONS, dtype=np.int64),
        Figures(values, missing),
    )
    official = np.array([[s[k] for k in keys] for s in stations], dtype=np.int64)
    official[3, keys.index("invalid")] += 5  # broken arithmetic
    official_results = OfficialResults(np.arange(4, dtype=np.intp), Figures.complete(official))
    # The stations under their territorial commission, with database ids, as a recheck reads.
    hierarchy = Hierarchy(
        np.array([-1], dtype=np.intp),
        np.zeros(4, dtype=np.intp),
        station_ids=np.array([101, 102, 103, 104], dtype=np.int64),
        commission_ids=np.array([7], dtype=np.int64),
    )
    expected = np.ones(4, dtype=np.bool_)

    def check() -> list[Any]:
        findings = crosscheck(
            template, hierarchy, copies, official_results, None, expected
        ).findings
        columns = ("kind", "station", "commission", "copy", "relation", "line", "left", "right")
        return [findings.fingerprint.tolist(), *(getattr(findings, c).tolist() for c in columns)]

    results = json.dumps([feedback(), check()], default=str)
    return {
        "relation_feedback_us": _per_call_us(feedback, FEEDBACK_CALLS),
        "crosscheck_us": _per_call_us(check, CROSSCHECK_CALLS),
        "results": hashlib.sha256(results.encode()).hexdigest()[:16],
    }


def _per_call_us(work: Callable[[], object], calls: int) -> float:
    """CPU microseconds per call: the median of INNER_ROUNDS rounds of `calls` calls."""
    work()  # warm: imports, caches
    rounds = []
    for _ in range(INNER_ROUNDS):
        start = time.process_time()
        for _ in range(calls):
            work()
        rounds.append((time.process_time() - start) / calls * 1e6)
    return statistics.median(rounds)


if __name__ == "__main__":
    main()
