"""Fixtures for the web UI tests."""

from __future__ import annotations

import pytest

from tests.web.factories import SmallElection, build_small_election


@pytest.fixture
def small_election(db: None) -> SmallElection:
    return build_small_election()
