"""What cross-checking reads: figures matrices with a missing mask, copies, official results.

Everything is a plain NumPy array indexed by position. Stations are ``0 … stations-1`` and
commissions ``0 … commissions-1`` (see ``Hierarchy``); a figures matrix has one column per line of
the protocol template, in the template's order. The caller resolves everything that needs the
database first: which copies are current (a superseded copy is left out), which official
snapshot is the latest, which station and commission each row belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Int64Array: TypeAlias = npt.NDArray[np.int64]
IndexArray: TypeAlias = npt.NDArray[np.intp]
BoolArray: TypeAlias = npt.NDArray[np.bool_]


class CrosscheckInputError(ValueError):
    """Arrays that do not describe figures, copies or results consistently; says which and why."""


@dataclass(frozen=True)
class Figures:
    """Protocol figures: one row per protocol (copy, station or commission), one column per line.

    ``missing`` marks cells nobody filled in (an unreadable photo, a line left blank, a
    publication that omits it); the value under a missing cell is ignored.
    """

    values: Int64Array
    missing: BoolArray

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.dtype != np.int64:
            raise CrosscheckInputError(
                f"figures are a {self.values.ndim}-dimensional {self.values.dtype} array; "
                "expected a two-dimensional int64 matrix (rows × template lines)"
            )
        if self.missing.shape != self.values.shape or self.missing.dtype != np.bool_:
            raise CrosscheckInputError(
                f"missing mask is {self.missing.shape} {self.missing.dtype}; "
                f"expected a bool matrix shaped like the figures {self.values.shape}"
            )

    @classmethod
    def complete(cls, values: npt.ArrayLike) -> Figures:
        """Figures with nothing missing."""
        matrix = np.asarray(values, dtype=np.int64)
        return cls(matrix, np.zeros(matrix.shape, dtype=np.bool_))

    @classmethod
    def empty(cls, lines: int) -> Figures:
        return cls.complete(np.zeros((0, lines), dtype=np.int64))

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def lines(self) -> int:
        return int(self.values.shape[1])

    @cached_property
    def has_blanks(self) -> bool:
        """Whether any cell is missing: usually none, which spares work on the mask."""
        return bool(self.missing.any())

    def take(self, rows: IndexArray | Int64Array) -> Figures:
        """The given rows; np.take is several times faster than fancy indexing on a matrix.

        Taking every row in order returns these figures themselves, uncopied: a publication
        with one row per station, in station order, is the usual case.
        """
        if rows.size == self.rows and _in_order(rows):
            return self
        values = np.take(self.values, rows, axis=0)
        if not self.has_blanks:
            return Figures(values, np.zeros(values.shape, dtype=np.bool_))
        return Figures(values, np.take(self.missing, rows, axis=0))


@dataclass(frozen=True)
class Copies:
    """Observers' current protocol copies: row i is one copy of station ``station[i]``.

    ``organisation`` is the submitting organisation's id (any integers); ``ids`` are the copies'
    stable ids (database keys) used in fingerprints, defaulting to the row number.
    """

    station: IndexArray
    organisation: Int64Array
    figures: Figures
    ids: Int64Array | None = None

    def __post_init__(self) -> None:
        rows = self.figures.rows
        _check_vector("copy stations", self.station, rows)
        _check_vector("copy organisations", self.organisation, rows)
        if self.ids is not None:
            _check_vector("copy ids", self.ids, rows)

    @property
    def copy_ids(self) -> Int64Array:
        if self.ids is None:
            return np.arange(self.figures.rows, dtype=np.int64)
        return self.ids


@dataclass(frozen=True)
class OfficialResults:
    """Published figures: row i is the official result of place ``place[i]``.

    The place is a station index (per-station publication) or a commission index (a
    commission's published total), depending on where the results are passed. A place has at
    most one row: the caller picks the snapshot in force.
    """

    place: IndexArray
    figures: Figures

    def __post_init__(self) -> None:
        _check_vector("official result places", self.place, self.figures.rows)

    @classmethod
    def none(cls, lines: int) -> OfficialResults:
        return cls(np.zeros(0, dtype=np.intp), Figures.empty(lines))

    def row_of(self, places: int, what: str) -> IndexArray:
        """For each place ``0 … places-1`` its row here, or -1 where nothing is published."""
        check_indexes(f"official {what} results", self.place, places)
        rows = np.full(places, -1, dtype=np.intp)
        rows[self.place] = np.arange(self.figures.rows, dtype=np.intp)
        if np.count_nonzero(rows >= 0) != self.figures.rows:
            repeated = np.flatnonzero(np.bincount(self.place, minlength=places) > 1)
            raise CrosscheckInputError(
                f"official {what} results: {what} {repeated[:5].tolist()} appear more than once; "
                "expected at most one published result per place (the snapshot in force)"
            )
        return rows


def _check_vector(what: str, array: npt.NDArray[np.generic], rows: int) -> None:
    if array.ndim != 1 or array.dtype.kind not in "iu" or array.size != rows:
        raise CrosscheckInputError(
            f"{what}: a {array.ndim}-dimensional {array.dtype} array of {array.size}; "
            f"expected {rows} integers, one per figures row"
        )


def _in_order(rows: IndexArray | Int64Array) -> bool:
    return rows.size == 0 or (int(rows[0]) == 0 and bool(np.all(np.diff(rows) == 1)))


def check_indexes(what: str, index: npt.NDArray[np.integer], size: int) -> None:
    """Raise CrosscheckInputError unless every index lies in ``0 … size-1``."""
    if index.size and (int(index.min()) < 0 or int(index.max()) >= size):
        bad = index[(index < 0) | (index >= size)]
        raise CrosscheckInputError(
            f"{what}: indexes {bad[:5].tolist()} out of range; expected 0 … {size - 1}"
        )
