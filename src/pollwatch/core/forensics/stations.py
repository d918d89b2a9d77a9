"""Per-station figures the forensic tests read, named by what they mean on the protocol.

Kobak, Shpilkin & Pshenichnikov (Annals of Applied Statistics 10(1), 2016, §2) work with four
numbers per polling station: V registered voters, G ballots issued, R ballots found in the boxes
and counted (valid + invalid) and L votes for the leader. Turnout is G/V and the leader's share
L/R. Every test in this package takes a `StationResults`, so it serves a national file, one
region or a synthetic election alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


class ForensicsInputError(ValueError):
    """Figures that cannot describe polling stations (negative counts, ragged columns, …)."""


@dataclass(frozen=True)
class StationResults:
    """One entry per station; `region` indexes `region_names`.

    `options` holds every option's votes (one column each, named by `option_names`) for the
    digit tests; the leader is whichever option the caller says it is.
    """

    registered: IntArray
    issued: IntArray
    counted: IntArray
    leader: IntArray
    region: NDArray[np.intp]
    region_names: tuple[str, ...] = ()
    options: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    option_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.registered)
        columns = {
            "registered": self.registered,
            "issued": self.issued,
            "counted": self.counted,
            "leader": self.leader,
            "region": self.region,
        }
        for name, column in columns.items():
            if column.ndim != 1 or len(column) != n:
                raise ForensicsInputError(
                    f"{name}: expected one value per station ({n}), got shape {column.shape}"
                )
            if n and column.min() < 0:
                raise ForensicsInputError(f"{name}: negative value at station {column.argmin()}")
        if n and (self.leader > self.counted).any():
            station = int(np.argmax(self.leader > self.counted))
            raise ForensicsInputError(
                f"leader: more votes than ballots counted at station {station}"
                f" ({self.leader[station]} > {self.counted[station]})"
            )
        if self.options.size and self.options.shape != (n, len(self.option_names)):
            raise ForensicsInputError(
                f"options: expected shape ({n}, {len(self.option_names)}), got {self.options.shape}"
            )

    @property
    def stations(self) -> int:
        return len(self.registered)

    def turnout(self) -> FloatArray:
        """G/V per station (NaN where nobody is registered)."""
        return _ratio(self.issued, self.registered)

    def leader_share(self) -> FloatArray:
        """L/R per station (NaN where no ballot was counted)."""
        return _ratio(self.leader, self.counted)

    def subset(self, mask: NDArray[np.bool_] | NDArray[np.intp]) -> StationResults:
        """The same election restricted to some stations (a boolean mask or indices)."""
        return StationResults(
            registered=self.registered[mask],
            issued=self.issued[mask],
            counted=self.counted[mask],
            leader=self.leader[mask],
            region=self.region[mask],
            region_names=self.region_names,
            options=self.options[mask] if self.options.size else self.options,
            option_names=self.option_names,
        )


def _ratio(numerator: IntArray, denominator: IntArray) -> FloatArray:
    out = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out
