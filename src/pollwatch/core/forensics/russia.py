"""Read the Russian CEC's per-station files (dkobak/elections `data/`) into `StationResults`.

Columns are picked by their place in the protocol (documented in ../shared/data/README.md):

- 2018 presidential election, protocol lines 1–20. V = line 1 (registered); G = lines 3 + 4 + 5
  (issued to early voters, in the station, outside it); R = lines 9 + 10 (invalid + valid);
  L = Putin's votes. These are the definitions of Kobak, Shpilkin & Pshenichnikov (AoAS 2016)
  and reproduce their 91,152 included stations and 19,271 integer-percentage stations.
- 2020 constitutional vote: V = registered participants; G = R = ballots found in the boxes
  (the issued count is not used, so that turnout and share share one denominator of ballots
  actually cast); L = Yes.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np

from pollwatch.core.forensics.stations import ForensicsInputError, StationResults

# 0-based CSV columns: region, tik, uik, then the protocol's lines.
_REGION = 0
_LINES_2018 = range(3, 23)  # protocol lines 1–20
_CANDIDATES_2018 = range(12, 20)  # lines 13–20, indices into the protocol lines
_LEADER_2018 = "Путин Владимир Владимирович"
_REGION_2020 = 1
_FIGURES_2020 = range(4, 10)  # registered, issued, in boxes, invalid, yes, no


def load_2018(path: Path) -> StationResults:
    """The 2018 presidential election, leader = Putin."""
    text = _read_zip(path)
    header = _header(text)
    lines = _numbers(text, path, _LINES_2018)
    names = tuple(header[3 + i] for i in _CANDIDATES_2018)
    if _LEADER_2018 not in names:
        raise ForensicsInputError(f"{path}: no column {_LEADER_2018!r} among {names}")
    options = lines[:, list(_CANDIDATES_2018)]
    region, region_names = _regions(text, _REGION)
    return StationResults(
        registered=lines[:, 0],
        issued=lines[:, 2] + lines[:, 3] + lines[:, 4],
        counted=lines[:, 8] + lines[:, 9],
        leader=options[:, names.index(_LEADER_2018)],
        region=region,
        region_names=region_names,
        options=options,
        option_names=names,
    )


def load_2020(path: Path) -> StationResults:
    """The 2020 all-Russian vote, leader = Yes; ballots in the boxes stand for both G and R."""
    text = _read_zip(path)
    figures = _numbers(text, path, _FIGURES_2020)
    in_boxes = figures[:, 2]
    region, region_names = _regions(text, _REGION_2020)
    return StationResults(
        registered=figures[:, 0],
        issued=in_boxes,
        counted=in_boxes,
        leader=figures[:, 4],
        region=region,
        region_names=region_names,
        options=figures[:, 4:6],
        option_names=("yes", "no"),
    )


def _read_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
            if len(names) != 1:
                raise ForensicsInputError(f"{path}: expected one CSV in the zip, found {names}")
            return archive.read(names[0]).decode("utf-8")
    except (OSError, zipfile.BadZipFile) as error:
        raise ForensicsInputError(f"{path}: cannot read ({error})") from error


def _header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text[: text.find("\n")])))


def _numbers(text: str, path: Path, columns: range) -> np.ndarray:
    try:
        return np.loadtxt(
            io.StringIO(text),
            delimiter=",",
            quotechar='"',
            skiprows=1,
            usecols=columns,
            dtype=np.int64,
            ndmin=2,
        )
    except ValueError as error:
        raise ForensicsInputError(f"{path}: expected whole numbers ({error})") from error


def _regions(text: str, column: int) -> tuple[np.ndarray, tuple[str, ...]]:
    names = np.loadtxt(
        io.StringIO(text), delimiter=",", quotechar='"', skiprows=1, usecols=(column,), dtype=str
    )
    unique, index = np.unique(names, return_inverse=True)
    return index.astype(np.intp), tuple(str(u) for u in unique)
