"""The Russian 2018 file as official results, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.crosscheck.russia import Russia2018, load_2018


@pytest.fixture(scope="session")
def russia_2018(shared_data: Path) -> Russia2018:
    return load_2018(shared_data / "russia" / "2018.csv.zip")
