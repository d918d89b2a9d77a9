"""Synthetic elections for the forensic tests: honest ones from `pollwatch.core.synth`, and the
same elections with one kind of falsification injected at a known share of stations."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.forensics import StationResults
from pollwatch.core.synth import SynthParams, generate


def honest_election(stations: int, seed: int) -> StationResults:
    """A synthetic referendum read as the forensic tests read Russia: the leader is Yes."""
    election = generate(SynthParams.build(stations=stations, seed=seed))
    line = election.protocols.line
    yes, no = line("yes"), line("no")
    return StationResults(
        registered=line("registered"),
        issued=line("issued_in_station") + line("issued_outside"),
        counted=line("invalid") + yes + no,
        leader=yes,
        region=election.structure.station_region,
        region_names=election.structure.region_codes,
        options=np.column_stack([yes, no]),
        option_names=("yes", "no"),
    )


def pick(results: StationResults, fraction: float, seed: int) -> NDArray[np.bool_]:
    """A random `fraction` of the stations."""
    return np.random.default_rng(seed).random(results.stations) < fraction


def stuff_ballots(
    results: StationResults,
    stations: NDArray[np.bool_],
    seed: int,
    low: float = 0.5,
    high: float = 1.0,
) -> StationResults:
    """Ballot stuffing: at `stations`, a fraction x ~ U(low, high) of the non-voters' ballots
    is added to the box, all for the leader (Klimek's incremental fraud; extreme fraud is
    x close to 1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, results.stations)
    added = np.where(stations, np.floor(x * (results.registered - results.issued)), 0)
    added = added.astype(np.int64)
    options = results.options.copy()
    options[:, 0] += added
    return dataclasses.replace(
        results,
        issued=results.issued + added,
        counted=results.counted + added,
        leader=results.leader + added,
        options=options,
    )


def round_percentages(
    results: StationResults, stations: NDArray[np.bool_], seed: int, step: int = 1
) -> StationResults:
    """A commission writing down a made-up result: turnout and the leader's share rounded to
    a multiple of `step` percent, a few points above the honest ones."""
    rng = np.random.default_rng(seed)
    n = results.stations
    turnout = step * np.rint((100 * results.turnout() + rng.integers(0, 6, n)) / step)
    share = step * np.rint((100 * results.leader_share() + rng.integers(0, 6, n)) / step)
    turnout = np.clip(np.nan_to_num(turnout), 0, 99)
    share = np.clip(np.nan_to_num(share), 0, 99)
    issued = np.where(stations, np.rint(results.registered * turnout / 100), results.issued)
    issued = issued.astype(np.int64)
    # Ballots counted move with ballots issued; the leader's votes are set from the share.
    counted = np.where(stations, issued, results.counted).astype(np.int64)
    leader = np.where(stations, np.rint(counted * share / 100), results.leader).astype(np.int64)
    options = results.options.copy()
    options[:, 0] = leader
    options[:, 1] = np.maximum(counted - leader - (results.counted - results.options.sum(1)), 0)
    return dataclasses.replace(
        results, issued=issued, counted=counted, leader=leader, options=options
    )


def invent_counts(
    results: StationResults, stations: NDArray[np.bool_], seed: int
) -> StationResults:
    """Made-up leader counts: rounded to the nearest multiple of five (people favour 0 and 5)."""
    del seed  # deterministic: the rounding needs no draw
    leader = np.where(stations, 5 * np.rint(results.leader / 5), results.leader).astype(np.int64)
    leader = np.minimum(leader, results.counted)
    options = results.options.copy()
    options[:, 0] = leader
    return dataclasses.replace(results, leader=leader, options=options)


def extreme_fraud(
    results: StationResults, stations: NDArray[np.bool_], seed: int
) -> StationResults:
    """Klimek's extreme fraud: at `stations` nearly every registered voter "votes", nearly all
    for the leader (x ~ 1 − |N(0, 0.03)| of non-voters stuffed and of the others' votes taken)."""
    rng = np.random.default_rng(seed)
    x = np.clip(1.0 - np.abs(rng.normal(0.0, 0.03, results.stations)), 0.0, 1.0)
    stuffed = np.floor(x * (results.registered - results.issued)).astype(np.int64)
    others = results.counted - results.leader
    taken = np.floor(x**2 * others).astype(np.int64)
    issued = np.where(stations, results.issued + stuffed, results.issued)
    counted = np.where(stations, results.counted + stuffed, results.counted)
    leader = np.where(stations, results.leader + stuffed + taken, results.leader)
    options = results.options.copy()
    options[:, 0] = leader
    options[:, 1] = np.where(stations, np.maximum(options[:, 1] - taken, 0), options[:, 1])
    return dataclasses.replace(
        results, issued=issued, counted=counted, leader=leader, options=options
    )
