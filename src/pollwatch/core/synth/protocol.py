"""Honest count protocols for the Kazakhstan-style referendum (template `kz-referendum`).

Each station gets a turnout and a Yes propensity, beta-distributed around its region's mean,
shifted for urban or rural and for its territorial; the protocol lines are then drawn as
binomial counts so that the law's control relations hold exactly:

    ballots_received == issued_in_station + issued_outside + cancelled
    ballots_in_boxes == invalid + not_counted + yes + no
    ballots_in_boxes <= issued_in_station + issued_outside <= registered

The propensities are kept beside the figures so that anomaly injection (ballot stuffing,
rewritten figures) can later start from the same honest election.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.protocol import ProtocolTemplateSpec, parse_template
from pollwatch.core.synth.structure import Structure

TEMPLATE_KEY = "kz-referendum"
TEMPLATE_FILE = Path(__file__).parents[2] / "protocol_templates" / f"{TEMPLATE_KEY}.toml"
LINE_KEYS: tuple[str, ...] = (
    "registered",
    "ballots_received",
    "issued_in_station",
    "issued_outside",
    "cancelled",
    "ballots_in_boxes",
    "invalid",
    "not_counted",
    "yes",
    "no",
)

# Shifts on the logit scale: towns vote less, and less Yes, than villages.
URBAN_TURNOUT_SHIFT, URBAN_YES_SHIFT = -0.2, -0.2
TERRITORIAL_EFFECT_SD = 0.15
# Beta concentration: higher means stations cluster more tightly around their mean.
TURNOUT_CONCENTRATION, YES_CONCENTRATION = 30.0, 50.0
# Small shares: home voting (more in villages), spare ballots, ballots missing from the box,
# ballots not subject to counting and invalid ballots.
OUTSIDE_SHARE_URBAN, OUTSIDE_SHARE_RURAL = 0.01, 0.03
VOTERS_PER_SPARE_BALLOT = 100  # at most one spare ballot per hundred voters
MISSING_SHARE = 0.0008
NOT_COUNTED_SHARE = 0.0003
INVALID_MEAN, INVALID_CONCENTRATION = 0.012, 200.0


@dataclass(frozen=True)
class Protocols:
    """One row per station, one column per line of LINE_KEYS."""

    figures: NDArray[np.int64]
    turnout_propensity: NDArray[np.float64]
    yes_propensity: NDArray[np.float64]

    def line(self, key: str) -> NDArray[np.int64]:
        return self.figures[:, LINE_KEYS.index(key)]


@cache
def synth_template() -> ProtocolTemplateSpec:
    """The template as shipped with pollwatch, whose lines are LINE_KEYS."""
    return parse_template(TEMPLATE_FILE.read_text(encoding="utf-8"), str(TEMPLATE_FILE))


def generate_protocols(structure: Structure, rng: np.random.Generator) -> Protocols:
    urban = structure.station_urban
    region = structure.station_region
    stations = len(region)
    territorial_turnout = rng.normal(0.0, TERRITORIAL_EFFECT_SD, len(structure.territorial_codes))
    territorial_yes = rng.normal(0.0, TERRITORIAL_EFFECT_SD, len(structure.territorial_codes))
    turnout_mean = _expit(
        _logit(np.array([r.turnout for r in structure.regions]))[region]
        + np.where(urban, URBAN_TURNOUT_SHIFT, -URBAN_TURNOUT_SHIFT)
        + territorial_turnout[structure.station_territorial]
    )
    yes_mean = _expit(
        _logit(np.array([r.yes_share for r in structure.regions]))[region]
        + np.where(urban, URBAN_YES_SHIFT, -URBAN_YES_SHIFT)
        + territorial_yes[structure.station_territorial]
    )
    turnout = _beta_around(turnout_mean, TURNOUT_CONCENTRATION, rng)
    yes_share = _beta_around(yes_mean, YES_CONCENTRATION, rng)

    registered = structure.registered
    received = registered + rng.integers(0, registered // VOTERS_PER_SPARE_BALLOT + 1)
    issued = rng.binomial(registered, turnout)
    outside = rng.binomial(issued, np.where(urban, OUTSIDE_SHARE_URBAN, OUTSIDE_SHARE_RURAL))
    in_boxes = issued - rng.binomial(issued, MISSING_SHARE)
    not_counted = rng.binomial(in_boxes, NOT_COUNTED_SHARE)
    invalid = rng.binomial(
        in_boxes - not_counted,
        _beta_around(np.full(stations, INVALID_MEAN), INVALID_CONCENTRATION, rng),
    )
    valid = in_boxes - not_counted - invalid
    yes = rng.binomial(valid, yes_share)
    columns = {
        "registered": registered,
        "ballots_received": received,
        "issued_in_station": issued - outside,
        "issued_outside": outside,
        "cancelled": received - issued,
        "ballots_in_boxes": in_boxes,
        "invalid": invalid,
        "not_counted": not_counted,
        "yes": yes,
        "no": valid - yes,
    }
    figures = np.column_stack([columns[key] for key in LINE_KEYS]).astype(np.int64)
    return Protocols(figures=figures, turnout_propensity=turnout, yes_propensity=yes_share)


def _logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.log(p / (1.0 - p))


def _expit(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def _beta_around(
    mean: NDArray[np.float64], concentration: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    return rng.beta(mean * concentration, (1.0 - mean) * concentration)
