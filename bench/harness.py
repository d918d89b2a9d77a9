"""What the benchmarks share: a child process per database, and a scratch PostgreSQL database.

Each database runs in its own process because Django's settings are per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def child_env(work: Path, database_url: str | None) -> dict[str, str]:
    """The environment of a child: its own data dir, and the given database (else SQLite)."""
    env = {**os.environ, "POLLWATCH_DATA_DIR": str(work / "var")}
    env.pop("POLLWATCH_DATABASE_URL", None)
    if database_url:
        env["POLLWATCH_DATABASE_URL"] = database_url
    return env


def run_child(script: str, arguments: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run `script` with `arguments`; its last line of output is its figures, as JSON."""
    result = subprocess.run(
        [sys.executable, script, *arguments],
        check=True, env=env, capture_output=True, text=True,
    )  # fmt: skip
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


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
