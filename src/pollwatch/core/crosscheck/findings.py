"""Findings as columns: one row per discrepancy, with a stable fingerprint.

A finding names its place (a station, a copy at a station, or a commission), the line or the
control relation it is about, the values on each side and the delta. Its fingerprint is built
from kind, place and lines only — never from the values — so that recomputing after new data
updates the same finding (and keeps its human status) instead of adding a duplicate.
"""

from __future__ import annotations

import enum
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
        filled = {
            column: _column(columns.get(column, NONE if column in _INDEX_COLUMNS else 0), count)
            for column in _COLUMNS_GIVEN
        }
        filled["delta"] = filled["left"] - filled["right"]
        return cls(kind=np.full(count, kind, dtype=np.uint8), names=names, **filled)

    @classmethod
    def concatenate(cls, parts: Sequence[Findings], names: FingerprintNames) -> Findings:
        joined = {
            column: np.concatenate([getattr(part, column) for part in parts])
            if parts
            else np.zeros(0, dtype=np.uint8 if column == "kind" else np.int64)
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
        slugs = np.array(["", *(kind.slug for kind in FindingKind)], dtype=_TEXT)
        place = np.where(
            self.station >= 0,
            _named("station:", names.station_ids, self.station),
            _named("commission:", names.commission_ids, self.commission),
        )
        on_copy = self.copy >= 0
        place = np.where(
            on_copy, np.strings.add(place, _named("/copy:", names.copy_ids, self.copy)), place
        )
        line_names = np.array(["-", *(f"line:{key}" for key in names.line_keys)], dtype=_TEXT)
        relation_names = np.array(
            ["-", *(f"relation:{expression}" for expression in names.relation_texts)], dtype=_TEXT
        )
        lines = np.where(
            self.relation >= 0, relation_names[self.relation + 1], line_names[self.line + 1]
        )
        head = np.strings.add(np.strings.add(slugs[self.kind], "|"), place)
        return np.asarray(np.strings.add(np.strings.add(head, "|"), lines))


@dataclass(frozen=True)
class FingerprintNames:
    """The stable names fingerprints are made of."""

    line_keys: tuple[str, ...]
    relation_texts: tuple[str, ...]
    station_ids: Int64Array
    commission_ids: Int64Array
    copy_ids: Int64Array


def _named(prefix: str, ids: Int64Array, index: Int64Array) -> npt.NDArray[np.str_]:
    """``prefix`` + the id at each index; empty where the index is -1."""
    named = np.full(index.size, "", dtype=_TEXT)
    applies = index >= 0
    if applies.any():
        named[applies] = np.strings.add(prefix, ids[index[applies]].astype(_TEXT))
    return cast(npt.NDArray[np.str_], named)


def _column(given: npt.ArrayLike, count: int) -> Int64Array:
    """``count`` int64s of the finding's own: a scalar repeated, or an array's copy."""
    if isinstance(given, int):
        return np.full(count, given, dtype=np.int64)
    array = np.array(given, dtype=np.int64)
    if array.shape != (count,):
        array = np.broadcast_to(array, (count,)).copy()
    return array


def _empty(dtype: type[np.generic]) -> npt.NDArray[np.generic]:
    array = np.zeros(0, dtype=dtype)
    array.flags.writeable = False
    return array


_TEXT = StringDType()
_COLUMNS = tuple(f.name for f in fields(Findings) if f.name not in ("kind", "names"))
_COLUMNS_GIVEN = tuple(column for column in _COLUMNS if column != "delta")
_INDEX_COLUMNS = frozenset({"station", "commission", "copy", "relation", "line"})
_NO_KINDS = cast(npt.NDArray[np.uint8], _empty(np.uint8))
_NO_VALUES = cast(Int64Array, _empty(np.int64))
