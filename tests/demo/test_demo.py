"""`pollwatch demo`, the README's first quick-start command."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth import authenticate
from django.core.management import call_command

from pollwatch.accounts.roles import Role, roles_of
from pollwatch.registry.models import Election


@pytest.fixture
def data_dir(tmp_path: Path, settings: LazySettings) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_demo_sets_up_election_and_one_account_per_role(data_dir: Path) -> None:
    call_command("demo", "--no-serve", "--stations", "400")

    election = Election.objects.get()
    assert election.stations.count() == 400
    assert election.commissions.filter(parent=None).exists()

    credentials = json.loads((data_dir / "demo-credentials.json").read_text())
    assert stat.S_IMODE((data_dir / "demo-credentials.json").stat().st_mode) == 0o600
    assert {c["role"] for c in credentials} == set(Role.values)
    for account in credentials:
        user = authenticate(username=account["username"], password=account["password"])
        assert user is not None, account["username"]
        assert roles_of(user) == {Role(account["role"])}
    admin = authenticate(username="admin", password=_password(credentials, "admin"))
    assert admin is not None and admin.is_superuser


@pytest.mark.django_db
def test_second_run_reuses_data_and_passwords(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("demo", "--no-serve", "--stations", "300")
    first = json.loads((data_dir / "demo-credentials.json").read_text())
    station_ids = set(Election.objects.get().stations.values_list("id", flat=True))
    capsys.readouterr()

    call_command("demo", "--no-serve", "--stations", "300")

    assert "Reusing" in capsys.readouterr().out
    assert json.loads((data_dir / "demo-credentials.json").read_text()) == first
    assert set(Election.objects.get().stations.values_list("id", flat=True)) == station_ids


def _password(credentials: list[dict[str, str]], username: str) -> str:
    return next(c["password"] for c in credentials if c["username"] == username)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_demo_command_serves_the_site(tmp_path: Path) -> None:
    """The whole main job in a subprocess, on its own SQLite file: set up, then serve."""
    port = _free_port()
    env = {**os.environ, "POLLWATCH_DATA_DIR": str(tmp_path)}
    env.pop("POLLWATCH_DATABASE_URL", None)  # the demo is the embedded default
    pollwatch = Path(sys.executable).with_name("pollwatch")
    server = subprocess.Popen(
        [str(pollwatch), "demo", "--port", str(port), "--stations", "300"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = _wait_for_page(f"http://127.0.0.1:{port}/", server, timeout=120)
        election = tomllib.loads((tmp_path / "demo" / "election.toml").read_text())
        assert election["name"] in body  # the home page lists the demo election
        assert (tmp_path / "pollwatch.sqlite3").exists()
        # What was loaded is sealed in the log: its checkpoint is published.
        checkpoint = _wait_for_page(
            f"http://127.0.0.1:{port}/log/{election['slug']}/checkpoint", server, timeout=10
        )
        assert checkpoint.startswith(f"127.0.0.1/{election['slug']}\n")
        integrators = _integrators_of(tmp_path)
        assert len(integrators) == 1  # the integrator runs beside the server
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in output
    assert "admin" in output
    assert not _integrators_of(tmp_path)  # and stops with it


def _integrators_of(data_dir: Path) -> list[int]:
    """Running `pollwatch integrate` processes whose data dir is ``data_dir``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"integrate" in command and f"POLLWATCH_DATA_DIR={data_dir}".encode() in environ:
            found.append(int(proc.name))
    return found


def _wait_for_page(url: str, server: subprocess.Popen[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                f"pollwatch demo exited early:\n{server.stdout.read() if server.stdout else ''}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.mark.django_db
def test_staff_accounts_get_a_second_factor_whose_key_is_on_file(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from pollwatch.accounts.second_factor import secret_base32

    call_command("demo", "--no-serve", "--stations", "300")
    credentials = {c["username"]: c for c in json.loads(credentials_file(data_dir).read_text())}
    assert credentials["observer"]["totp_key"] is None
    assert not TOTPDevice.objects.filter(user__username="observer").exists()
    for username in ["admin", "analyst", "clerk", "coordinator"]:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        assert secret_base32(device) == credentials[username]["totp_key"]
    assert credentials["admin"]["totp_key"] in capsys.readouterr().out

    call_command("demo", "--no-serve", "--stations", "300")  # a second run keeps the keys
    assert TOTPDevice.objects.filter(user__username="admin").count() == 1

    capsys.readouterr()
    call_command("demo", "--code", "admin")
    code = capsys.readouterr().out.strip()
    assert TOTPDevice.objects.get(user__username="admin").verify_token(code)
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="'observer' is not a demo staff account"):
        call_command("demo", "--code", "observer")


def credentials_file(data_dir: Path) -> Path:
    return data_dir / "demo-credentials.json"


@pytest.mark.django_db
def test_demo_shows_every_kind_of_finding_and_gives_the_observer_a_station(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from pollwatch.accreditation.eligibility import submission_refusal
    from pollwatch.accreditation.models import Membership, Observer
    from pollwatch.core.crosscheck import FindingKind
    from pollwatch.core.synth import SILENT_CHANGE
    from pollwatch.findings.models import Finding

    call_command("demo", "--no-serve", "--stations", "400")
    election = Election.objects.get()
    kinds = set(Finding.objects.filter(election=election).values_list("kind", flat=True))
    assert kinds == {kind.slug for kind in FindingKind} | {SILENT_CHANGE}
    assert election.copies.count() > 400
    out = capsys.readouterr().out
    assert "Findings: consensus-differs-from-official" in out

    users = get_user_model().objects
    observer = Observer.objects.get(user__username="observer")
    assignment = observer.assignments.order_by("-ends_at").first()
    assert assignment is not None
    station = assignment.station
    assert Finding.objects.filter(kind="missing-copy", station=station, present=True).exists()
    assert submission_refusal(users.get(username="observer"), station, timezone.now()) is None
    assert Membership.objects.get(user__username="coordinator").organisation == (
        observer.organisation
    )
    assert f"assigned to polling station {station.number}" in out

    call_command("demo", "--no-serve", "--stations", "400")  # a second run changes nothing
    assert Observer.objects.filter(user__isnull=False).count() == 1
    assert observer.assignments.count() == 2
