"""A whole synthetic election from one seed: structure, honest protocols, observers and their
copies, and the official publication with its injected (and recorded) faults."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pollwatch.core.synth.faults import Faults, Publication, inject_faults
from pollwatch.core.synth.observers import Observation, generate_observation
from pollwatch.core.synth.params import SynthParams
from pollwatch.core.synth.protocol import Protocols, generate_protocols
from pollwatch.core.synth.structure import Structure, generate_structure

# Each stage draws from its own child of the seed, so that adding a stage (anomalies, say)
# or changing how one stage draws leaves what the other stages produce unchanged.
_STRUCTURE_STREAM, _PROTOCOL_STREAM, _OBSERVATION_STREAM, _FAULT_STREAM = 0, 1, 2, 3
_STREAMS = 4


@dataclass(frozen=True)
class SyntheticElection:
    params: SynthParams
    structure: Structure
    protocols: Protocols  # the honest count: what the precinct protocols say
    observation: Observation
    faults: Faults
    publication: Publication


@dataclass(frozen=True)
class Summary:
    regions: int
    territorials: int
    stations: int
    registered: int
    ballots_issued: int
    yes: int
    no: int

    @property
    def turnout(self) -> float:
        return self.ballots_issued / self.registered

    @property
    def yes_share(self) -> float:
        """Yes as a share of valid votes."""
        return self.yes / (self.yes + self.no) if self.yes + self.no else 0.0


def generate(params: SynthParams) -> SyntheticElection:
    streams = np.random.SeedSequence(params.seed).spawn(_STREAMS)
    structure = generate_structure(
        params, np.random.Generator(np.random.PCG64(streams[_STRUCTURE_STREAM]))
    )
    protocols = generate_protocols(
        structure, np.random.Generator(np.random.PCG64(streams[_PROTOCOL_STREAM]))
    )
    observation = generate_observation(
        params,
        len(structure.station_number),
        np.random.Generator(np.random.PCG64(streams[_OBSERVATION_STREAM])),
    )
    faults, publication = inject_faults(
        params,
        structure,
        protocols,
        observation,
        np.random.Generator(np.random.PCG64(streams[_FAULT_STREAM])),
    )
    return SyntheticElection(
        params=params,
        structure=structure,
        protocols=protocols,
        observation=observation,
        faults=faults,
        publication=publication,
    )


def summarise(election: SyntheticElection) -> Summary:
    protocols = election.protocols
    return Summary(
        regions=len(election.structure.region_codes),
        territorials=len(election.structure.territorial_codes),
        stations=len(election.structure.station_number),
        registered=int(protocols.line("registered").sum()),
        ballots_issued=int(
            protocols.line("issued_in_station").sum() + protocols.line("issued_outside").sum()
        ),
        yes=int(protocols.line("yes").sum()),
        no=int(protocols.line("no").sum()),
    )
