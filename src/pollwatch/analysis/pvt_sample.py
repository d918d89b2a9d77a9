"""A PVT sample as a CSV file: which stations, in which stratum, out of how many.

    station_code,stratum,stratum_stations,row
    Республика Адыгея (Адыгея)/1 Адыгейская/7,Республика Адыгея (Адыгея),212,9

Each row carries its stratum's size in the frame (N_h), so the estimate needs nothing but the
sample and the reports: the sample says how it was drawn. `row` is the station's row in the file
it was drawn from, for a person looking it up.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.forensics.source import FiguresError, StationFigures
from pollwatch.core.pvt import SamplingFrame, StratifiedSample
from pollwatch.core.structure.mapping import ColumnSpec, TableMapping
from pollwatch.core.structure.problems import Problems
from pollwatch.core.structure.rows import RowReader, StationCodes
from pollwatch.core.tabular import open_table

HEADER = ("station_code", "stratum", "stratum_stations", "row")
_FIELDS = {name: ColumnSpec(name) for name in HEADER[:3]}


@dataclass(frozen=True)
class Sample:
    """The sample's stations as indices into the file's figures, and the frame's strata."""

    indices: NDArray[np.intp]
    stratum: NDArray[np.intp]  # per sampled station, into `stratum_names`
    stratum_names: tuple[str, ...]
    population: NDArray[np.int64]  # N_h


def write_sample(
    path: Path, figures: StationFigures, frame: SamplingFrame, sample: StratifiedSample
) -> None:
    population = frame.stratum_sizes()
    # Written beside and renamed into place: an interrupted run leaves no half sample.
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for i in sample.indices.tolist():
            stratum = int(frame.stratum[i])
            writer.writerow(
                (
                    figures.codes[i],
                    frame.stratum_names[stratum],
                    int(population[stratum]),
                    int(figures.rows[i]),
                )
            )
    partial.replace(path)


def read_sample(path: Path, figures: StationFigures) -> Sample:
    """Read a sample drawn from `figures`' file; every problem names the sample's row."""
    problems = Problems()
    position = {code: i for i, code in enumerate(figures.codes)}
    indices: list[int] = []
    strata: dict[str, int] = {}  # name → N_h
    names: list[str] = []
    with open_table(path) as table:
        reader = RowReader(table, TableMapping(sheet=None, fields=_FIELDS), {}, problems)
        if problems.total:
            raise FiguresError(problems.kept, problems.total)
        seen = StationCodes(reader, [])
        for row, cells in table.rows:
            if not reader.start(row, cells):
                continue
            code, name = reader.text("station_code"), reader.text("stratum")
            size = reader.count("stratum_stations")
            if code is None or name is None or size is None:
                continue
            if code not in position:
                reader.fail("station_code", f"no station {code!r} in {figures.source}")
                continue
            if strata.setdefault(name, size) != size:
                reader.fail(
                    "stratum_stations",
                    f"expected {strata[name]} as in the stratum's first row, got {size}",
                )
                continue
            if seen.add(code, row, "station_code"):
                seen.order.append(code)
                indices.append(position[code])
                names.append(name)
        source = table.source
    _check_strata(source, strata, names, figures.stations, problems)
    if problems.total:
        raise FiguresError(problems.kept, problems.total)
    order = {name: k for k, name in enumerate(strata)}
    return Sample(
        indices=np.array(indices, dtype=np.intp),
        stratum=np.array([order[name] for name in names], dtype=np.intp),
        stratum_names=tuple(strata),
        population=np.array(list(strata.values()), dtype=np.int64),
    )


def _check_strata(
    source: str, strata: dict[str, int], names: list[str], stations: int, problems: Problems
) -> None:
    if not names:
        problems.add(source, None, None, "expected at least one sample station, found none")
        return
    drawn_by_stratum = Counter(names)
    for name, size in strata.items():
        drawn = drawn_by_stratum[name]
        if drawn > size:
            problems.add(
                source,
                None,
                "stratum_stations",
                f"stratum {name!r} has {drawn} sample stations but only {size} in the frame",
            )
    total = sum(strata.values())
    if total != stations:
        problems.add(
            source,
            None,
            "stratum_stations",
            f"the strata hold {total:,} stations but the results file has {stations:,}: "
            "the sample is incomplete or was drawn from another file",
        )


def check_in_sample(reports: StationFigures, sample_codes: set[str]) -> None:
    """Every report must be for a sample station."""
    problems = Problems()
    for code, row in zip(reports.codes, reports.rows.tolist(), strict=True):
        if code not in sample_codes:
            problems.add(reports.source, row, None, f"station {code!r} is not in the sample")
    if problems.total:
        raise FiguresError(problems.kept, problems.total)
