"""Findings as columns: one row per discrepancy, with a stable fingerprint.

A finding names its place (a station, a copy at a station, or a commission), the line or the
control relation it is about, the values on each side and the delta. Its fingerprint is built
from kind, place and lines only — never from the values — so that recomputing after new data
updates the same finding (and keeps its human status) instead of adding a duplicate.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from typing import cast

import numpy as np
import numpy.typing as npt
from numpy.dtypes import StringDType

from pollwatch.core.crosscheck.inputs import Int64Array


class FindingKind(enum.IntEnum):
    """What was found; the slug is the fingerprint's first part, so never rename one."""

    RELATION_BROKEN_ON_COPY = 1
    RELATION_BROKEN_ON_OFFICIAL = 2
    COPIES_DISAGREE = 3
    COPY_DIFFERS_FROM_OFFICIAL = 4
    CONSENSUS_DIFFERS_FROM_OFFICIAL = 5
    TOTAL_DIFFERS_FROM_CHILDREN = 6
    MISSING_OFFICIAL_RESULT = 7
    MISSING_COPY = 8

    @property
    def slug(self) -> str:
        return self.name.lower().replace("_", "-")


NONE = -1  # in an index column: not applicable to this kind


@dataclass(frozen=True)
class Findings:
    """Columns of equal length; -1 in an index column means "not applicable".

    ``left``/``right``/``delta`` (delta = left − right) by kind:

    - relation broken (on a copy, or on official station or commission figures): the
      relation's two sides.
    - copies disagree: the highest and the lowest value the station's copies report (so the
      delta is the spread, never negative).
    - copy / consensus differs from official: the observers' value and the official one.
    - commission total differs from its children: the published total and the sum of its
      children's official figures.
    - missing official result / missing copy: zero (nothing to compare).

    ``copies`` and ``organisations`` count the copies and distinct organisations involved: for
    copies disagree, those reporting the line; for consensus, the organisations agreeing on it
    (copies: those reporting the line); for a missing official result, the station's copies.
    """

    kind: npt.NDArray[np.uint8]
    station: Int64Array
    commission: Int64Array
    copy: Int64Array  # row in the copies given
    relation: Int64Array  # index into the template's relations
    line: Int64Array  # index into the template's lines
    left: Int64Array
    right: Int64Array
    delta: Int64Array
    copies: Int64Array
    organisations: Int64Array
    names: FingerprintNames

    def __len__(self) -> int:
        return int(self.kind.size)

    @classmethod
    def build(
        cls,
        kind: FindingKind,
        names: FingerprintNames,
        count: int,
        **columns: npt.ArrayLike,
    ) -> Findings:
        """``count`` findings of one kind; columns not given are -1 (indexes) or 0 (values).

        ``delta`` is not given: it is always ``left - right``.
        """
        unknown = [column for column in columns if column not in _COLUMNS_GIVEN]
        if unknown:
            raise TypeError(f"unknown finding columns: {', '.join(unknown)}")
        if count == 0:
            # Most kinds find nothing in a small check: share one empty column.
            return cls(kind=_NO_KINDS, names=names, **dict.fromkeys(_COLUMNS, _NO_VALUES))
        # One block for every column, a row each: the defaults in one assignment, then each
        # column given (a scalar or an array) in one more.
        block = np.empty((len(_COLUMNS), count), dtype=np.int64)
        block[...] = _DEFAULTS
        for column, given in columns.items():
            block[_ROW[column]] = given
        filled = dict(zip(_COLUMNS, block, strict=True))
        np.subtract(filled["left"], filled["right"], out=filled["delta"])
        return cls(kind=np.full(count, kind, dtype=np.uint8), names=names, **filled)

    @classmethod
    def concatenate(cls, parts: Sequence[Findings], names: FingerprintNames) -> Findings:
        found = [part for part in parts if len(part)]
        if not found:
            return cls(kind=_NO_KINDS, names=names, **dict.fromkeys(_COLUMNS, _NO_VALUES))
        if len(found) == 1 and found[0].names is names:
            return found[0]
        joined = {
            column: np.concatenate([getattr(part, column) for part in found])
            for column in ("kind", *_COLUMNS)
        }
        return cls(names=names, **joined)

    def of_kind(self, kind: FindingKind) -> Findings:
        return self.take(np.flatnonzero(self.kind == kind))

    def take(self, rows: npt.NDArray[np.integer] | npt.NDArray[np.bool_]) -> Findings:
        picked = {column: getattr(self, column)[rows] for column in ("kind", *_COLUMNS)}
        return Findings(names=self.names, **picked)

    @cached_property
    def fingerprint(self) -> npt.NDArray[np.str_]:
        """``kind|place|lines`` per finding, e.g. ``copies-disagree|station:1042|line:yes``.

        Built from stable ids (the caller's station, commission and copy ids) and line keys
        or relation expressions, so it survives reordering of the arrays between runs.
        """
        names = self.names
        # The place: the station, else the commission, else none; then the copy, if any.
        on_station, on_commission = self.station >= 0, self.commission >= 0
        place_id = np.where(
            on_station,
            _ids_at(names.station_ids, self.station),
            _ids_at(names.commission_ids, self.commission),
        )
        place_kind = np.where(on_station, 0, np.where(on_commission, 1, 2))
        place = np.strings.add(_PLACE_PREFIXES[place_kind], place_id.astype(_TEXT))
        placeless = ~(on_station | on_commission)
        if placeless.any():
            place[placeless] = ""
        on_copy = self.copy >= 0
        if on_copy.any():
            copy_id = _ids_at(names.copy_ids, self.copy[on_copy]).astype(_TEXT)
            place[on_copy] = np.strings.add(place[on_copy], np.strings.add("/copy:", copy_id))
        # What it is about: a relation, else a line, else "-" (index 0).
        about = np.where(
            self.relation >= 0, self.relation + 1 + len(names.line_keys), self.line + 1
        )
        head = np.strings.add(_KIND_HEADS[self.kind], place)
        return np.asarray(
            np.strings.add(head, _about_names(names.line_keys, names.relation_texts)[about])
        )


@dataclass(frozen=True)
class FingerprintNames:
    """The stable names fingerprints are made of."""

    line_keys: tuple[str, ...]
    relation_texts: tuple[str, ...]
    station_ids: Int64Array
    commission_ids: Int64Array
    copy_ids: Int64Array


def _ids_at(ids: Int64Array, index: Int64Array) -> Int64Array:
    """The id at each index; meaningless where the index is -1 (the caller drops those)."""
    if ids.size == 0:
        return np.zeros(index.size, dtype=np.int64)  # every index is -1
    return ids[index]


@functools.lru_cache(maxsize=64)
def _about_names(
    line_keys: tuple[str, ...], relation_texts: tuple[str, ...]
) -> npt.NDArray[np.str_]:
    """``|-``, then ``|line:<key>`` per line, then ``|relation:<expression>`` per relation:
    made once per template rather than for every set of findings."""
    lines = (f"|line:{key}" for key in line_keys)
    relations = (f"|relation:{expression}" for expression in relation_texts)
    return np.array(["|-", *lines, *relations], dtype=_TEXT)


def _empty(dtype: type[np.generic]) -> npt.NDArray[np.generic]:
    array = np.zeros(0, dtype=dtype)
    array.flags.writeable = False
    return array


_TEXT = StringDType()
_PLACE_PREFIXES = np.array(["station:", "commission:", ""], dtype=_TEXT)
# ``<slug>|`` by kind value (0 is no kind).
_KIND_HEADS = np.array(["|", *(f"{kind.slug}|" for kind in FindingKind)], dtype=_TEXT)
_COLUMNS = tuple(f.name for f in fields(Findings) if f.name not in ("kind", "names"))
_COLUMNS_GIVEN = tuple(column for column in _COLUMNS if column != "delta")
_INDEX_COLUMNS = frozenset({"station", "commission", "copy", "relation", "line"})
_ROW = {column: row for row, column in enumerate(_COLUMNS)}
# Per column, as a column vector: -1 for indexes (not applicable), 0 for values.
_DEFAULTS = np.array([[NONE if c in _INDEX_COLUMNS else 0] for c in _COLUMNS], dtype=np.int64)
_NO_KINDS = cast(npt.NDArray[np.uint8], _empty(np.uint8))
_NO_VALUES = cast(Int64Array, _empty(np.int64))
