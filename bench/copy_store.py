"""The store of one group-commit group: CPU per copy, app and PostgreSQL, and statements per group.

    .venv/bin/python bench/copy_store.py                      # this checkout, 5 rounds
    .venv/bin/python bench/copy_store.py --before HEAD~3      # and HEAD~3, alternated (ABBA)

What the web API's group commit does once per group of concurrent submissions is
``store_copies`` (protocols/submission.py): lock the stations, look up the ids, insert the
copies, link photos, recheck the stations' findings, append to the log. Here groups of
``--group`` copies (each at another station, the election-night case) are prepared beforehand —
``prepare_copy``, the part each request does on its own — and only ``store_copies`` is measured,
on PostgreSQL (a fresh database per run, bench/copy_setup.py's election):

- app CPU: this thread's CPU time (time.thread_time) per copy;
- PostgreSQL CPU: the CPU time (utime + stime, /proc/<pid>/stat) of this connection's backend
  per copy, whatever else the machine was doing;
- statements per group: the calls through Django's cursors (an ``executemany`` counts once:
  psycopg sends its rows in one pipeline) and its rows, and the COPY reads that bypass them.

CPU time, not wall time: other work shares the two cores. Each round is a child process on a
fresh database; with ``--before`` the old code (``git archive`` of REV's src, first on
PYTHONPATH) runs in the same rounds, alternating which goes first. Medians over the rounds are
printed and written to bench/results/copy_store.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from harness import (
    POSTGRES_SERVER,
    child_env,
    export_source,
    heading,
    machine,
    record,
    report_to_parent,
    results_file,
    run_child,
    scratch_postgres_database,
    setup_django,
    with_source,
)

ROOT = Path(__file__).resolve().parents[1]
BENCH = "copy_store"
DATABASE = f"bench_copy_store_{os.getpid()}"  # two runs at once must not share one
OBSERVERS_PER_STATION = 3
WARM_UP = 25  # groups: psycopg prepares a statement on its fifth run
FIGURES = ("app_cpu_ms_per_copy", "pg_cpu_ms_per_copy", "calls_per_group", "rows_per_group")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=150, help="measured groups per round")
    parser.add_argument("--group", type=int, default=4, help="copies per group")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", metavar="REV", help="also measure git revision REV")
    parser.add_argument(
        "--prepare-threshold",
        type=int,
        help="psycopg's prepare_threshold for the run (Django's default, None, never prepares)",
    )
    parser.add_argument("--postgres", default=POSTGRES_SERVER, help="server URL, no database")
    parser.add_argument("--out", type=Path, default=results_file(BENCH))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_to_parent(_child(args.stations, args.groups, args.group, args.prepare_threshold))
        return
    if (WARM_UP + args.groups) * args.group > args.stations * OBSERVERS_PER_STATION:
        raise SystemExit("--stations: too few seats for the groups")
    arguments = ["--child", "--stations", str(args.stations), "--groups", str(args.groups)]
    arguments += ["--group", str(args.group)]
    if args.prepare_threshold is not None:
        arguments += ["--prepare-threshold", str(args.prepare_threshold)]
    runs: dict[str, list[dict[str, Any]]] = {"after": []}
    with tempfile.TemporaryDirectory(prefix=f"{BENCH}-") as directory:
        work = Path(directory)
        codes: list[tuple[str, Path | None]] = [("after", None)]
        if args.before is not None:
            runs["before"] = []
            codes.insert(0, ("before", export_source(args.before, work / "before")))
        for number in range(args.rounds):
            # Alternated (ABBA…): neither code always runs second.
            for label, code in codes if number % 2 == 0 else reversed(codes):
                figures = _measure(args.postgres, arguments, work, code)
                runs[label].append(figures)
                shown = {name: figures[name] for name in FIGURES}
                print(f"round {number + 1} {label}: {json.dumps(shown)}", flush=True)
    figures = heading(BENCH)
    figures["revision"] = _describe(None)
    if args.before is not None:
        figures["before_revision"] = _describe(args.before)
    figures.update(
        stations=args.stations,
        groups_per_round=args.groups,
        copies_per_group=args.group,
        prepare_threshold=args.prepare_threshold,
        rounds=args.rounds,
        measured="store_copies of prepared groups on PostgreSQL: app thread CPU and the "
        "connection's backend CPU per copy, medians over rounds",
        machine=machine(load=True, note="2 cores shared with other work while measuring"),
        medians={label: _medians(kept) for label, kept in runs.items()},
        runs=runs,
    )
    record(args.out, figures, _show)


def _measure(server: str, arguments: list[str], work: Path, code: Path | None) -> Any:
    with scratch_postgres_database(server, DATABASE) as url:
        return run_child(__file__, arguments, with_source(child_env(work, url), code))


def _describe(revision: str | None) -> str:
    """A revision's short hash; None: the working tree's, marked dirty if it differs."""
    command = ["git", "describe", "--always", "--dirty"]
    if revision is not None:
        command = ["git", "rev-parse", "--short", revision]
    described = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return described.stdout.strip()


def _medians(kept: list[dict[str, Any]]) -> dict[str, float]:
    return {name: round(statistics.median(run[name] for run in kept), 3) for name in FIGURES}


def _show(figures: dict[str, Any]) -> None:
    print(f"\nmedians over {figures['rounds']} rounds, groups of {figures['copies_per_group']}:")
    for label, medians in figures["medians"].items():
        print(f"  {label:<7} " + "  ".join(f"{name} {value}" for name, value in medians.items()))
    statements = figures["runs"]["after"][0]["statements"]
    print("  statements of one group (after):")
    for statement in statements:
        print(f"    {statement}")


# The child: one round on the database of its environment.


def _child(stations: int, groups: int, size: int, threshold: int | None) -> dict[str, Any]:
    setup_django()
    from django.db import connection

    import copy_setup

    if threshold is not None:  # read when the connection opens: open it anew
        connection.close()
        connection.settings_dict["OPTIONS"]["prepare_threshold"] = threshold

    election = copy_setup.build(stations, OBSERVERS_PER_STATION, tokens=False)
    seats = list(election.seats)
    random.Random(7).shuffle(seats)
    batches = [seats[i : i + size] for i in range(0, (WARM_UP + groups) * size, size)]
    # The stations of a group are distinct (two copies at one station would queue anyway).
    prepared = [_prepare(election.slug, batch) for batch in batches]
    for group in prepared[: WARM_UP - 1]:
        _store(group)
    statements = _statements(lambda: _store(prepared[WARM_UP - 1]))
    measured = prepared[WARM_UP:]
    backend = connection.connection.info.backend_pid
    pg_before, cpu = _backend_cpu(backend), time.thread_time()
    for group in measured:
        _store(group)
    app = time.thread_time() - cpu
    pg = _backend_cpu(backend) - pg_before
    copies = groups * size
    return {
        "app_cpu_ms_per_copy": round(app / copies * 1000, 4),
        "pg_cpu_ms_per_copy": round(pg / copies * 1000, 4),
        "calls_per_group": len(statements),
        "rows_per_group": sum(rows for _sql, rows in statements),
        "statements": [f"{rows}x {sql[:160]}" for sql, rows in statements],
        "load_average": os.getloadavg(),
    }


def _prepare(slug: str, seats: list[Any]) -> list[Any]:
    """``prepare_copy`` of one copy per seat, as each request does before the group stores."""
    from django.contrib.auth.models import User

    import copy_setup
    from pollwatch.protocols.submission import CopyInput, prepare_copy
    from pollwatch.registry.models import Election, PollingStation

    election = Election.objects.select_related("template").get(slug=slug)
    ready = []
    for seat in seats:
        rng = random.Random(seat.station_id)  # the station's true protocol...
        slip = 3 if seat.user_id % 7 == 0 else 0  # ...mistyped by a few observers
        submitted = CopyInput(
            copy_id=uuid.uuid4(),
            figures=copy_setup.protocol(seat.registered, rng, slip=slip),
            all_members_signed=True,
            certified=True,
        )
        user = User.objects.get(pk=seat.user_id)
        station = PollingStation.objects.get(pk=seat.station_id)
        ready.append(prepare_copy(user, election, station, submitted))
    return ready


def _store(group: list[Any]) -> None:
    from pollwatch.protocols.submission import Submission, store_copies

    outcomes = store_copies(group)
    if not all(isinstance(outcome, Submission) and outcome.created for outcome in outcomes):
        raise SystemExit(f"a copy was not stored: {outcomes}")


def _backend_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the PostgreSQL backend `pid` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _statements(run: Callable[[], Any]) -> list[tuple[str, int]]:
    """The statements ``run`` sends, each with its rows (an executemany's parameter sets)."""
    import psycopg
    from django.db import connection

    statements: list[tuple[str, int]] = []

    def through_django(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        statements.append((sql, len(params) if many else 1))
        return execute(sql, params, many, context)

    copy = psycopg.Cursor.copy

    def counted(cursor: Any, statement: Any, *rest: Any, **named: Any) -> Any:
        statements.append((str(statement), 1))
        return copy(cursor, statement, *rest, **named)

    with contextlib.ExitStack() as stack:
        stack.enter_context(connection.execute_wrapper(through_django))
        stack.enter_context(mock.patch.object(psycopg.Cursor, "copy", counted))
        run()
    return statements


if __name__ == "__main__":
    main()
