"""A small flat results file (Russian-style: region, tik, uik, figures) and its mapping."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

HEADER = ["region", "tik", "uik", "voters", "early", "on_day", "invalid", "valid", "A", "B", "town"]
MAPPING = """
name = "test"
[[levels]]
level = "region"
name = "region"
[[levels]]
level = "territorial"
name = "tik"
[stations.columns]
number = "uik"
registered_voters = "voters"
[figures]
issued = ["early", "on_day"]
counted = ["invalid", "valid"]
options = ["A", "B"]
"""


def station_rows(stations: int = 600, seed: int = 0) -> list[list[object]]:
    """An honest election: binomial turnout and shares around one mean, three regions."""
    rng = np.random.default_rng(seed)
    registered = rng.integers(300, 3000, stations)
    issued = rng.binomial(registered, 0.6)
    early = rng.binomial(issued, 0.05)
    invalid = rng.binomial(issued, 0.01)
    valid = issued - invalid
    a = rng.binomial(valid, 0.55)
    return [
        [
            f"Region {i % 3}",
            f"TIK {i % 12}",
            str(i + 1),
            registered[i],
            early[i],
            issued[i] - early[i],
            invalid[i],
            valid[i],
            a[i],
            valid[i] - a[i],
            i % 2,
        ]
        for i in range(stations)
    ]


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "results.csv", station_rows())


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


def run(command: str, *args: object) -> str:
    out = StringIO()
    call_command(command, *(str(a) for a in args), stdout=out, stderr=StringIO())
    return out.getvalue()
