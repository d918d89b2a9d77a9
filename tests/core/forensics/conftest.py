"""The Russian reference files, loaded once per session, and honest synthetic elections."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from pollwatch.core.forensics import StationResults, russia
from tests.core.forensics.synthetic import honest_election


@cache
def load_russia(shared_data: Path, year: int) -> StationResults:
    """Each file is read once per session, whichever test directory asks for it."""
    loader = {2018: russia.load_2018, 2020: russia.load_2020}[year]
    return loader(shared_data / "russia" / f"{year}.csv.zip")


@pytest.fixture(scope="session")
def russia_2018(shared_data: Path) -> StationResults:
    return load_russia(shared_data, 2018)


@pytest.fixture(scope="session")
def russia_2020(shared_data: Path) -> StationResults:
    return load_russia(shared_data, 2020)


@cache
def honest(seed: int, stations: int = 20_000) -> StationResults:
    """Honest synthetic referendum (cached: several tests falsify the same election)."""
    return honest_election(stations, seed)
