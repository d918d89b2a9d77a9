"""What the benchmarks share: a child process per database on a fresh database, their common
options, and the results file with the machine it was measured on.

Each database runs in its own process because Django's settings are per process. A benchmark
script is both: run plainly it is the parent (options, children, report); run with its own
hidden option it is a child, which ends by `report_to_parent(figures)`.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
SQLITE, POSTGRESQL = "sqlite", "postgresql"
POLLWATCH = Path(sys.executable).parent / "pollwatch"

Figures = dict[str, Any]


def results_file(bench: str) -> Path:
    """Where a benchmark's figures are kept: bench/results/<bench>.json."""
    return RESULTS_DIR / f"{bench}.json"


def description(doc: str | None) -> str:
    """A benchmark's --help text: the first paragraph of its module docstring."""
    return (doc or "").split("\n\n")[0]


def add_database_options(parser: argparse.ArgumentParser, bench: str, *, sqlite: bool) -> None:
    """--postgres; --skip-postgres when the benchmark runs on SQLite too; --out."""
    parser.add_argument("--postgres", default=POSTGRES_SERVER, help="server URL, no database")
    if sqlite:
        parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=results_file(bench))


def databases(skip_postgres: bool) -> tuple[str, ...]:
    """The databases a run on SQLite and PostgreSQL covers, in the order they run."""
    return (SQLITE,) if skip_postgres else (SQLITE, POSTGRESQL)


def child_env(work: Path, database_url: str | None) -> dict[str, str]:
    """The environment of a child: its own data dir, and the given database (else SQLite)."""
    env = {**os.environ, "POLLWATCH_DATA_DIR": str(work / "var")}
    env.pop("POLLWATCH_DATABASE_URL", None)
    if database_url:
        env["POLLWATCH_DATABASE_URL"] = database_url
    return env


def export_source(revision: str, into: Path) -> Path:
    """The `src` tree of commit `revision`, written under `into`: the directory to put first on
    a child's PYTHONPATH (``with_source``) to measure that code beside this checkout's."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "src"], cwd=ROOT, capture_output=True,
        check=True,
    )  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def with_source(env: dict[str, str], source: Path | None) -> dict[str, str]:
    """`env` running the pollwatch under `source` (``export_source``); None: this checkout's."""
    if source is None:
        return env
    return {
        **env,
        "PYTHONPATH": os.pathsep.join([str(source), *filter(None, [env.get("PYTHONPATH")])]),
    }


def commit_of(revision: str) -> str:
    """The full commit id `revision` names."""
    return subprocess.run(
        ["git", "rev-parse", revision], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def run_child(script: str, arguments: list[str], env: dict[str, str]) -> Figures:
    """Run `script` with `arguments`; its last line of output is its figures, as JSON."""
    result = subprocess.run(
        [sys.executable, script, *arguments], env=env, capture_output=True, text=True
    )
    if result.returncode:
        # Its output was captured: without its traceback a failed child says nothing.
        sys.stderr.write(result.stderr)
        result.check_returncode()
    figures: Figures = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def report_to_parent(figures: Figures) -> None:
    """In the child: its figures as its last line of output, where `run_child` reads them."""
    print(json.dumps(figures))


def run_on_databases(
    script: str,
    arguments: list[str],
    vendors: Iterable[str],
    server: str,
    name: str,
    work: Path | None = None,
) -> dict[str, Figures]:
    """Run `script` as a child on a fresh database of each vendor in turn; figures by vendor.

    The children share `work` (else a temporary directory) as their data dir.
    """
    if work is None:
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as directory:
            return run_on_databases(script, arguments, vendors, server, name, Path(directory))
    runs = {}
    for vendor in vendors:
        with fresh_database(vendor, work, server, name) as url:
            runs[vendor] = run_child(script, arguments, child_env(work, url))
    return runs


@contextmanager
def fresh_database(vendor: str, work: Path, server: str, name: str) -> Iterator[str]:
    """The URL of an empty database `name`: a SQLite file in `work`, or a scratch PostgreSQL
    database on `server`, dropped afterwards."""
    if vendor == SQLITE:
        path = work / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        yield f"sqlite:///{path}"
    elif vendor == POSTGRESQL:
        with scratch_postgres_database(server, name) as url:
            yield url
    else:
        raise SystemExit(f"unknown database {vendor!r} ({SQLITE}, {POSTGRESQL})")


@contextmanager
def scratch_postgres_database(server: str, name: str) -> Iterator[str]:
    """A fresh database `name` on `server` (a URL without database); dropped afterwards.

    `name` is a constant of the calling benchmark, never input.
    """
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}".encode())
        admin.execute(f"CREATE DATABASE {name}".encode())
        try:
            yield f"{server}/{name}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def synthesise(work: Path, stations: int, seed: int, *options: str) -> tuple[Path, float]:
    """`pollwatch synth` into work/synth, quietly: the files' folder, and the seconds it took."""
    files = work / "synth"
    start = time.perf_counter()
    subprocess.run(
        [str(POLLWATCH), "synth", "--stations", str(stations), "--seed", str(seed), *options,
         "--out", str(files), "-v", "0"],
        check=True, env=child_env(work, None), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    print(f"synth: {stations:,} stations in {seconds:.1f} s")
    return files, seconds


def heading(bench: str) -> Figures:
    """The first fields of a results file: which benchmark, and when (UTC)."""
    now = datetime.datetime.now(datetime.UTC)
    return {"bench": bench, "recorded_at": now.isoformat(timespec="seconds")}


def load_average() -> list[float]:
    """The 1, 5 and 15-minute load averages: the machine is shared, read the times with it."""
    return [round(load, 1) for load in os.getloadavg()]


def machine(*, platform_name: bool = True, load: bool = False, **versions: str) -> Figures:
    """The machine a run was measured on, with the `versions` of the libraries it leans on."""
    figures: Figures = {"python": platform.python_version(), **versions, "cpus": os.cpu_count()}
    if platform_name:
        figures["platform"] = platform.platform()
    if load:
        figures["load_average"] = load_average()
    return figures


def print_json(figures: Figures) -> None:
    """The printer of a benchmark that shows its whole results file."""
    print(json.dumps(figures, indent=2))


def record(out: Path, figures: Figures, show: Callable[[Figures], None] | None = None) -> None:
    """Show the figures (with the benchmark's own printer, if any), then write them to `out`."""
    if show is not None:
        show(figures)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"recorded in {out}")


def setup_django(*, test_client: bool = False) -> None:
    """In the child: Django set up on the database of its environment, migrated.

    `test_client`: requests through django.test.Client, whose host is `testserver`."""
    if test_client:
        os.environ["POLLWATCH_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pollwatch.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentiles_ms(
    seconds: list[float], cuts: tuple[int, ...] = (90, 99), digits: int = 3
) -> dict[str, float]:
    """Durations in seconds summarised in milliseconds: count, median, the percentiles
    ``cuts``, mean and maximum (just the count when there are fewer than two)."""
    ms = sorted(value * 1000 for value in seconds)
    if len(ms) < 2:
        return {"n": len(ms)}
    quantiles = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "n": len(ms),
        "p50": round(statistics.median(ms), digits),
        **{f"p{cut}": round(quantiles[cut - 1], digits) for cut in cuts},
        "mean": round(statistics.fmean(ms), digits),
        "max": round(ms[-1], digits),
    }
