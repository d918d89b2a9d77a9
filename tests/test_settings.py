"""Settings come from the environment; the secret key is generated once into the data dir."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from pollwatch.registry.lookups import station_in_election
from tests.web.factories import build_small_election

_PRINT_SETTINGS = (
    "import json, pollwatch.settings as s; "
    "print(json.dumps({'key': s.SECRET_KEY, 'debug': s.DEBUG, "
    "'db': str(s.DATABASES['default']['NAME']), 'engine': s.DATABASES['default']['ENGINE'], "
    "'lockout': [s.POLLWATCH_LOGIN_LOCKOUT_FAILURES, s.POLLWATCH_LOGIN_LOCKOUT_SECONDS, "
    "s.POLLWATCH_LOGIN_IP_FAILURES, s.POLLWATCH_LOGIN_IP_WINDOW_SECONDS]}))"
)


def _settings(data_dir: Path, **env: str) -> dict[str, object]:
    environment = {
        k: v for k, v in os.environ.items()
        if not k.startswith("POLLWATCH_") or k == "POLLWATCH_CI"
    }  # fmt: skip
    environment.update(POLLWATCH_DATA_DIR=str(data_dir), **env)
    result = subprocess.run(
        [sys.executable, "-c", _PRINT_SETTINGS],
        env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = _settings(tmp_path)
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first["key"]
    assert len(str(first["key"])) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _settings(tmp_path)["key"] == first["key"]
    assert _settings(tmp_path / "other")["key"] != first["key"]


def test_environment_overrides_key_and_database(tmp_path: Path) -> None:
    loaded = _settings(
        tmp_path,
        POLLWATCH_SECRET_KEY="from-the-environment",
        POLLWATCH_DATABASE_URL="postgres://someone@db.example:5432/pollwatch",
    )
    assert loaded["key"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["db"] == "pollwatch"


def test_sqlite_in_the_data_dir_and_debug_off_by_default(tmp_path: Path) -> None:
    loaded = _settings(tmp_path)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["db"] == str(tmp_path / "pollwatch.sqlite3")
    assert loaded["debug"] is False
    assert _settings(tmp_path, POLLWATCH_DEBUG="1")["debug"] is True


def test_login_lockout_figures_come_from_the_environment(tmp_path: Path) -> None:
    assert _settings(tmp_path)["lockout"] == [5, 900, 30, 900]
    loaded = _settings(
        tmp_path,
        POLLWATCH_LOGIN_LOCKOUT_FAILURES="3",
        POLLWATCH_LOGIN_LOCKOUT_SECONDS="60",
        POLLWATCH_LOGIN_IP_FAILURES="100",
        POLLWATCH_LOGIN_IP_WINDOW_SECONDS="300",
    )
    assert loaded["lockout"] == [3, 60, 100, 300]


@pytest.mark.django_db
def test_postgresql_prepares_what_a_connection_repeats() -> None:
    """Django turns psycopg's prepared statements off unless told: without them PostgreSQL
    plans every submission's statements anew, most of its CPU for them."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    small = build_small_election()
    for _ in range(6):
        station_in_election(small.station_101.pk, small.election.slug)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any("registry_pollingstation" in statement for statement in prepared), prepared
