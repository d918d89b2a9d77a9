"""Killing the integrator (SIGKILL) after sequencing, after writing tiles, and after
publishing, then restarting it: the log is consistent, nothing lost, nothing twice, and the
published files verify with `pollwatch verify log` and `pollwatch verify database`.

Everything runs in real processes on a SQLite database in a temporary data dir (the test
database of pytest is in memory, where another process cannot see it), and, when the suite
runs on PostgreSQL, on a scratch PostgreSQL database too."""

from __future__ import annotations

import base64
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from pollwatch.core.tlog import MemoryTree, leaf_hash
from pollwatch.core.tlog.note import Ed25519Signer
from pollwatch.ledger.integration import FAULT_ENV

ROOT = Path(__file__).resolve().parents[2]
HOST = "crash.test"
SLUG = "test-referendum"

SEED = """
import sys, django
django.setup()
from django.db import transaction
from pollwatch.ledger.appending import append_to_log
from pollwatch.registry.models import Election
from tests.web.factories import build_small_election

start, count = int(sys.argv[1]), int(sys.argv[2])
election = Election.objects.filter(slug="test-referendum").first()
if election is None:
    election = build_small_election().election
    from django.contrib.auth.models import User
    from pollwatch.accounts.roles import Role, grant_role
    from pollwatch.findings.lifecycle import change_finding_status
    from pollwatch.findings.models import Finding
    from pollwatch.findings.recording import Scope, record_findings
    from tests.findings.conftest import at_station
    station = election.stations.order_by("pk").first()
    record_findings(election, Scope.election(), [at_station(station.pk, "yes", 7)])
    analyst = User.objects.create_user("analyst")
    grant_role(analyst, Role.ANALYST)
    change_finding_status(analyst, Finding.objects.get(), "under_verification")
with transaction.atomic():
    for n in range(start, start + count):
        append_to_log(election, "note", {"kind": "note", "n": n})
"""


def _run(
    env: dict[str, str], *args: str, fault: str | None = None
) -> subprocess.CompletedProcess[str]:
    child = dict(env)
    if fault:
        child[FAULT_ENV] = fault
    return subprocess.run(
        [sys.executable, *args], env=child, cwd=ROOT, capture_output=True, text=True
    )


def _pollwatch(
    env: dict[str, str], *args: str, fault: str | None = None
) -> subprocess.CompletedProcess[str]:
    return _run(env, "-m", "pollwatch", *args, fault=fault)


def _seed(env: dict[str, str], start: int, count: int) -> None:
    result = _run(env, "-c", SEED, str(start), str(count))
    assert result.returncode == 0, result.stderr


def _integrate(env: dict[str, str], fault: str | None = None) -> None:
    result = _pollwatch(env, "integrate", "--once", "--batch", "100", fault=fault)
    if fault:
        assert result.returncode == -signal.SIGKILL, (fault, result.stderr)
    else:
        assert result.returncode == 0, result.stderr


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for a SQLite file in the data dir; on a PostgreSQL run of the suite, a scratch
    database beside the test database as well."""
    if request.param == "sqlite":
        yield None
        return
    url = os.environ.get("POLLWATCH_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("the suite runs on SQLite (POLLWATCH_DATABASE_URL is not PostgreSQL)")
    import psycopg

    server, _, name = url.rpartition("/")
    scratch = f"{name}_crash"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)".encode())
        admin.execute(f"CREATE DATABASE {scratch}".encode())
        try:
            yield f"{server}/{scratch}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)".encode())


def _rows(data: Path, url: str | None, sql: str) -> list[tuple[Any, ...]]:
    if url is None:
        with closing(sqlite3.connect(data / "pollwatch.sqlite3")) as database:
            return list(database.execute(sql))
    import psycopg

    with psycopg.connect(url) as database:
        return list(database.execute(sql.encode()))


def test_killing_the_integrator_anywhere_loses_nothing_and_doubles_nothing(
    tmp_path: Path, database_url: str | None
) -> None:
    data = tmp_path / "var"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"POLLWATCH_DATABASE_URL", FAULT_ENV}
    }
    env |= {
        "POLLWATCH_DATA_DIR": str(data),
        "POLLWATCH_LOG_HOST": HOST,
        "DJANGO_SETTINGS_MODULE": "pollwatch.settings",
        "PYTHONPATH": str(ROOT),
    }
    if database_url:
        env["POLLWATCH_DATABASE_URL"] = database_url
    migrate = _pollwatch(env, "migrate", "--verbosity", "0")
    assert migrate.returncode == 0, migrate.stderr

    _seed(env, 0, 250)
    _integrate(env, fault="sequenced")  # 100 entries got indexes, no tiles, no checkpoint
    _seed(env, 250, 120)
    _integrate(env, fault="tiles-written")  # tiles for 0..99 written, size still 0
    _integrate(env, fault="published")  # size 100 committed, the checkpoint file not written
    _seed(env, 370, 33)
    _integrate(env)  # restart: checks the files, integrates everything

    entries = [
        (row_id, index, bytes(data_))
        for row_id, index, data_ in _rows(
            data,
            database_url,
            'SELECT e.id, i."index", e.canonical FROM ledger_logentry e '
            "LEFT JOIN ledger_logindex i ON i.entry_id = e.id ORDER BY e.id",
        )
    ]
    total = 1 + 403  # the finding decision and the notes
    assert len(entries) == total
    # Nothing lost: every entry has an index; nothing twice: the indexes are 0..n-1 once each,
    # in the order the entries arrived.
    assert [index for _, index, _ in entries] == list(range(total))
    notes = [e for _, _, e in entries if e.startswith(b'{"kind":"note"')]
    assert notes == [f'{{"kind":"note","n":{n}}}'.encode() for n in range(403)]
    ((size, root, checkpoint),) = _rows(
        data, database_url, "SELECT size, root, checkpoint FROM ledger_logstate"
    )
    assert size == total
    assert _rows(data, database_url, "SELECT COUNT(*) FROM ledger_pendingentry") == [(0,)]
    assert bytes(root) == MemoryTree([leaf_hash(e) for _, _, e in entries]).root()
    log_dir = data / "log" / SLUG
    assert (log_dir / "checkpoint").read_text() == checkpoint

    seed = base64.b64decode((data / "log_signing_key").read_text())
    vkey = Ed25519Signer(f"{HOST}/{SLUG}", seed).verifier().key_string()
    verified = _pollwatch(env, "verify", "log", str(log_dir), "--log-key", vkey)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"log {HOST}/{SLUG} at size {total}" in verified.stdout
    checked = _pollwatch(env, "verify", "database", "--election", SLUG)
    assert checked.returncode == 0, checked.stdout + checked.stderr
