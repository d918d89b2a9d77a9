"""Writing a synthetic election in the formats pollwatch's importers read.

- commissions.csv  `code,parent_code,level,name` (regions, then territorials)
- stations.csv     `code,number,commission_code,registered_voters,address,latitude,longitude`
- results.csv      `station_code` and the protocol's line keys: the honest count, as the
                   precinct protocols say (the official publication is official_stations.csv)
- organisations.csv, observers.csv, assignments.csv, copies.csv, official_stations.csv,
  official_totals.csv: see ``observed_tables``
- ground_truth.json  the injected faults and the findings they imply (``truth``)
- election.toml    the election's settings and the generator's parameters

or, as XLSX, structure.xlsx (sheets `commissions`, `stations`), results.xlsx (`results`),
observers.xlsx (`organisations`, `observers`, `assignments`), copies.xlsx (`copies`),
official.xlsx (`official_stations`, `official_totals`) and official_revised.xlsx (the same
sheets with `_revised`), beside the same JSON and TOML.
CSV files are byte-for-byte the same for the same parameters; XLSX files carry a timestamp.
Every file is written beside its destination and renamed into place once all are complete,
so an interrupted run never leaves a half-written set.
"""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.dtypes import StringDType
from openpyxl import Workbook

from pollwatch.core.synth.election import SyntheticElection
from pollwatch.core.synth.observed_tables import observed_tables
from pollwatch.core.synth.params import ELECTION_DATE, GENERATOR_VERSION, LANGUAGES, TIME_ZONE
from pollwatch.core.synth.protocol import LINE_KEYS, TEMPLATE_KEY, synth_template
from pollwatch.core.synth.table import Cell, Table, slices
from pollwatch.core.synth.truth import ground_truth

OutputFormat = Literal["csv", "xlsx"]
FORMATS: tuple[OutputFormat, ...] = ("csv", "xlsx")

COMMISSIONS_HEADER = ("code", "parent_code", "level", "name")
STATIONS_HEADER = (
    "code",
    "number",
    "commission_code",
    "registered_voters",
    "address",
    "latitude",
    "longitude",
)
RESULTS_HEADER = ("station_code", *LINE_KEYS)
ELECTION_FILE = "election.toml"
GROUND_TRUTH_FILE = "ground_truth.json"
# Workbook → its sheets, in the order the tables come.
WORKBOOKS = {
    "structure.xlsx": ("commissions", "stations"),
    "results.xlsx": ("results",),
    "observers.xlsx": ("organisations", "observers", "assignments"),
    "copies.xlsx": ("copies",),
    "official.xlsx": ("official_stations", "official_totals"),
    "official_revised.xlsx": ("official_stations_revised", "official_totals_revised"),
}
# A worksheet holds 1,048,576 rows, the header included.
XLSX_MAX_ROWS = 1_048_575

Progress = Callable[[int], object]


def tables(election: SyntheticElection) -> tuple[Table, ...]:
    structure = election.structure
    stations = len(structure.station_number)
    station_codes = structure.station_codes
    territorial_codes = np.array(structure.territorial_codes, dtype=StringDType())

    def commissions() -> Iterator[Sequence[Sequence[Cell]]]:
        yield [
            (code, "", "region", region.name)
            for code, region in zip(structure.region_codes, structure.regions, strict=True)
        ]
        yield [
            (code, structure.region_codes[region], "territorial", name)
            for code, region, name in zip(
                structure.territorial_codes,
                structure.territorial_region.tolist(),
                structure.territorial_names,
                strict=True,
            )
        ]

    def station_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        for part in slices(stations):
            yield list(
                zip(
                    station_codes[part].tolist(),
                    structure.station_number[part].tolist(),
                    territorial_codes[structure.station_territorial[part]].tolist(),
                    structure.registered[part].tolist(),
                    structure.address[part].tolist(),
                    structure.latitude[part].tolist(),
                    structure.longitude[part].tolist(),
                    strict=True,
                )
            )

    def result_rows() -> Iterator[Sequence[Sequence[Cell]]]:
        for part in slices(stations):
            columns = election.protocols.figures[part].T.tolist()
            yield list(zip(station_codes[part].tolist(), *columns, strict=True))

    return (
        Table(
            "commissions",
            COMMISSIONS_HEADER,
            len(structure.region_codes) + len(structure.territorial_codes),
            commissions,
        ),
        Table("stations", STATIONS_HEADER, stations, station_rows),
        Table("results", RESULTS_HEADER, stations, result_rows),
        *observed_tables(election),
    )


def output_rows(election: SyntheticElection) -> int:
    """Rows that write_files will write: the total for a progress bar."""
    return sum(table.rows for table in tables(election))


def write_files(
    election: SyntheticElection,
    out_dir: Path,
    output_format: OutputFormat = "csv",
    progress: Progress | None = None,
) -> list[Path]:
    """Write the election's files into `out_dir` (created if missing); returns their paths."""
    by_name = {table.name: table for table in tables(election)}
    if output_format == "xlsx":
        largest = max(by_name.values(), key=lambda table: table.rows)
        if largest.rows > XLSX_MAX_ROWS:
            raise ValueError(
                f"{largest.rows} rows of {largest.name} do not fit in a worksheet ({XLSX_MAX_ROWS})"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[Path, Path] = {}  # destination → partial file
    try:
        if output_format == "csv":
            for table in by_name.values():
                destination = out_dir / f"{table.name}.csv"
                written[destination] = _partial(destination)
                _write_csv(table, written[destination], progress)
        else:
            for workbook, sheets in WORKBOOKS.items():
                destination = out_dir / workbook
                written[destination] = _partial(destination)
                _write_xlsx([by_name[s] for s in sheets], written[destination], progress)
        for name, text in (
            (GROUND_TRUTH_FILE, _json(ground_truth(election, synth_template()))),
            (ELECTION_FILE, election_toml(election)),
        ):
            destination = out_dir / name
            written[destination] = _partial(destination)
            written[destination].write_text(text, encoding="utf-8")
    except BaseException:
        for partial in written.values():
            partial.unlink(missing_ok=True)
        raise
    for destination, partial in written.items():
        partial.replace(destination)
    return list(written)


def election_toml(election: SyntheticElection) -> str:
    params = election.params
    settings: dict[str, object] = {
        "slug": f"synth-{params.seed}-{params.stations}",
        "name": f"Synthetic referendum ({params.stations:,} stations, seed {params.seed})",
        "kind": "referendum",
        "date": ELECTION_DATE,
        "time_zone": TIME_ZONE,
        "languages": list(LANGUAGES),
        "template": TEMPLATE_KEY,
        "seed": params.seed,
    }
    generator: dict[str, object] = {
        "generator": "pollwatch synth",
        "version": GENERATOR_VERSION,
        "stations": params.stations,
        "regions": params.regions,
        "territorials": params.territorials,
    }
    lines = ["# A synthetic election generated by `pollwatch synth`: not real data."]
    lines += [f"{key} = {_toml_value(value)}" for key, value in settings.items()]
    lines += ["", "[synth]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in generator.items()]
    return "\n".join(lines) + "\n"


def _json(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def _toml_value(value: object) -> str:
    # A JSON string or number is also a TOML one; a date is written bare, as TOML wants.
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _write_csv(table: Table, path: Path, progress: Progress | None) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(table.header)
        for rows in table.chunks():
            writer.writerows(rows)
            _advance(progress, len(rows))


def _write_xlsx(sheets: Iterable[Table], path: Path, progress: Progress | None) -> None:
    workbook = Workbook(write_only=True)
    for table in sheets:
        worksheet = workbook.create_sheet(table.name)
        worksheet.append(table.header)
        for rows in table.chunks():
            for row in rows:
                worksheet.append(row)
            _advance(progress, len(rows))
    workbook.save(path)


def _advance(progress: Progress | None, rows: int) -> None:
    if progress is not None:
        progress(rows)


def _partial(destination: Path) -> Path:
    return destination.with_name(destination.name + ".partial")
