"""Klimek's fraud model: simulation and the fit of f_i and f_e."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.core.forensics.klimek import FairModel, fit, simulate
from tests.core.forensics.conftest import honest
from tests.core.forensics.synthetic import extreme_fraud, pick

FAIR = FairModel(turnout_mean=0.6, turnout_sd=0.08, share_mean=0.6, share_sd=0.07)
SIMULATED = 50_000  # fewer than the default: tests stay quick, fits stay within tolerance


def test_the_fair_model_alone_produces_no_fraud_signature() -> None:
    registered = honest(1).registered
    clean = simulate(registered, FAIR, incremental=0.0, extreme=0.0, sigma_x=0.1, seed=1)
    assert (clean.issued <= clean.registered).all()
    assert np.mean(clean.turnout()) == pytest.approx(0.6, abs=0.01)
    assert np.mean(clean.turnout() > 0.95) < 0.001


def test_extreme_fraud_puts_stations_near_full_turnout_and_share() -> None:
    registered = honest(1).registered
    stuffed = simulate(registered, FAIR, incremental=0.0, extreme=0.1, sigma_x=0.05, seed=1)
    corner = (stuffed.turnout() > 0.9) & (stuffed.leader_share() > 0.9)
    assert np.mean(corner) == pytest.approx(0.1, abs=0.01)


@pytest.mark.parametrize(
    ("incremental", "extreme", "sigma_x"), [(0.0, 0.0, 0.1), (0.3, 0.05, 0.1), (0.4, 0.03, 0.2)]
)
def test_fractions_are_recovered_when_the_fair_model_is_known(
    incremental: float, extreme: float, sigma_x: float
) -> None:
    election = simulate(honest(2).registered, FAIR, incremental, extreme, sigma_x, seed=3)
    result = fit(election, simulated=SIMULATED, fair=FAIR)
    # Incremental fraud with x of a few percent barely moves a station, hence the wider margin.
    assert result.incremental == pytest.approx(incremental, abs=0.1)
    assert result.extreme == pytest.approx(extreme, abs=0.01)


def test_extreme_fraud_is_recovered_by_the_full_fit_on_a_synthetic_election() -> None:
    clean = honest(3)
    fitted_clean = fit(clean, simulated=SIMULATED, max_evaluations=60)
    assert fitted_clean.extreme <= 0.01
    falsified = extreme_fraud(clean, pick(clean, 0.05, 3), 3)
    fitted = fit(falsified, simulated=SIMULATED, max_evaluations=60)
    assert fitted.extreme == pytest.approx(0.05, abs=0.02)
    assert fitted.observed.sum() == pytest.approx(1.0)
    assert fitted.fitted.sum() == pytest.approx(1.0)
