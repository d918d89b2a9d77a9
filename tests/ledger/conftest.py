"""The ledger's fixtures: a data dir of its own (the log key and tiles live there) and a small
election with a finding to decide on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from pollwatch.accounts.roles import Role, grant_role
from pollwatch.findings.models import Finding
from pollwatch.findings.recording import Scope, record_findings
from tests.findings.conftest import at_station
from tests.web.factories import SmallElection, build_small_election


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "data"
    directory.mkdir()
    with override_settings(DATA_DIR=directory, POLLWATCH_LOG_HOST="log.test"):
        yield directory


@pytest.fixture
def small(db: None) -> SmallElection:
    return build_small_election()


@pytest.fixture
def analyst(db: None) -> User:
    user = User.objects.create_user("analyst", password="not-used-here")
    grant_role(user, Role.ANALYST)
    return user


@pytest.fixture
def finding(small: SmallElection) -> Finding:
    record_findings(small.election, Scope.election(), [at_station(small.station_101.pk, "yes", 7)])
    return Finding.objects.get()
