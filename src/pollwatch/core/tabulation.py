"""Tabulation: totals of protocol figures for every commission, at every level of the hierarchy.

The same code adds up the official station figures, the observers' consensus figures, or the
official figures with the observers' put in where they differ — so that the tables (and the
outcomes decided from them, see ``outcome``) can be put side by side. Totals are sums over
the stations under a commission, never a commission's own published total: that one is
checked against these sums by the cross-check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pollwatch.core.crosscheck.hierarchy import Hierarchy, roll_up
from pollwatch.core.crosscheck.inputs import CrosscheckInputError, Figures, IndexArray, Int64Array


@dataclass(frozen=True)
class Tabulation:
    """Totals per commission (rows) and line (columns), and nationally over every station.

    A missing cell adds nothing; ``counted`` says how many stations each total is made of, so
    that a reader can tell a small total from an incomplete one.
    """

    line_keys: tuple[str, ...]
    totals: Int64Array  # commissions × lines
    counted: Int64Array  # commissions × lines: stations whose figure is in the total
    national: Int64Array  # lines
    national_counted: Int64Array  # lines

    def column(self, key: str) -> int:
        try:
            return self.line_keys.index(key)
        except ValueError:
            raise KeyError(
                f"no line {key!r} in this tabulation; expected one of {', '.join(self.line_keys)}"
            ) from None

    def national_figure(self, *keys: str) -> int:
        """The national total of the given lines added together."""
        return int(sum(int(self.national[self.column(key)]) for key in keys))

    def figures_of(self, commissions: IndexArray, *keys: str) -> Int64Array:
        """The listed commissions' totals of the given lines added together."""
        columns = np.array([self.column(key) for key in keys], dtype=np.intp)
        return self.totals[commissions][:, columns].sum(axis=1, dtype=np.int64)


def tabulate(hierarchy: Hierarchy, figures: Figures, line_keys: Sequence[str]) -> Tabulation:
    """Add up station figures (stations × lines) under every commission and nationally."""
    if figures.values.shape != (hierarchy.stations, len(line_keys)):
        raise CrosscheckInputError(
            f"station figures are {figures.values.shape}; expected "
            f"({hierarchy.stations}, {len(line_keys)}): one row per station, one column per line"
        )
    counted = ~figures.missing
    totals, stations = roll_up(hierarchy, figures.values, counted)
    return Tabulation(
        line_keys=tuple(line_keys),
        totals=totals,
        counted=stations,
        national=np.where(counted, figures.values, 0).sum(axis=0, dtype=np.int64),
        national_counted=counted.sum(axis=0, dtype=np.int64),
    )


def observed_in_place_of_official(official: Figures, observed: Figures) -> Figures:
    """Official station figures with every cell the observers agree on put in their place.

    ``observed`` is the observers' consensus (``Consensus.figures``): missing where the
    observers have no agreed value, so the official figure stays there. A cell missing from
    both stays missing.
    """
    if observed.values.shape != official.values.shape:
        raise CrosscheckInputError(
            f"observers' figures are {observed.values.shape}; expected the official "
            f"figures' shape {official.values.shape}"
        )
    use_observed = ~observed.missing
    return Figures(
        np.where(use_observed, observed.values, official.values),
        official.missing & observed.missing,
    )
