"""Synthetic national elections, deterministic from a seed (`pollwatch synth`).

    election = generate(SynthParams.build(stations=10_411, seed=2026))
    write_files(election, Path("out"))

The default is a Kazakhstan-like referendum: 20 regions, ~200 territorial commissions,
10,411 polling stations and ~12.4 M registered voters; any size up to millions of stations
keeps the same structure.
"""

from pollwatch.core.synth.election import Summary, SyntheticElection, generate, summarise
from pollwatch.core.synth.files import (
    FORMATS,
    XLSX_MAX_ROWS,
    OutputFormat,
    output_rows,
    write_files,
)
from pollwatch.core.synth.params import (
    DEFAULT_SEED,
    DEFAULT_STATIONS,
    SynthParameterError,
    SynthParams,
)
from pollwatch.core.synth.protocol import LINE_KEYS, TEMPLATE_KEY

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_STATIONS",
    "FORMATS",
    "LINE_KEYS",
    "TEMPLATE_KEY",
    "XLSX_MAX_ROWS",
    "OutputFormat",
    "Summary",
    "SynthParameterError",
    "SynthParams",
    "SyntheticElection",
    "generate",
    "output_rows",
    "summarise",
    "write_files",
]
