"""The Russian reference files, loaded once per session, and honest synthetic elections."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from pollwatch.core.forensics import StationResults, russia
from tests.core.forensics.synthetic import honest_election


@pytest.fixture(scope="session")
def russia_2018(shared_data: Path) -> StationResults:
    return russia.load_2018(shared_data / "russia" / "2018.csv.zip")


@pytest.fixture(scope="session")
def russia_2020(shared_data: Path) -> StationResults:
    return russia.load_2020(shared_data / "russia" / "2020.csv.zip")


@cache
def honest(seed: int, stations: int = 20_000) -> StationResults:
    """Honest synthetic referendum (cached: several tests falsify the same election)."""
    return honest_election(stations, seed)
