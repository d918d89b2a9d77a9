"""Synthetic national elections, deterministic from a seed (`pollwatch synth`).

    election = generate(SynthParams.build(stations=10_411, seed=2026))
    write_files(election, Path("out"))

The default is a Kazakhstan-like referendum: 20 regions, ~200 territorial commissions,
10,411 polling stations and ~12.4 M registered voters; any size up to millions of stations
keeps the same structure. Observer organisations hand in copies of the protocols at a share of
the stations, and the official publication carries injected faults whose findings ``truth``
derives exactly (the ground truth a cross-check must reproduce).
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
from pollwatch.core.synth.protocol import LINE_KEYS, TEMPLATE_KEY, synth_template
from pollwatch.core.synth.truth import (
    SILENT_CHANGE,
    CrosscheckInputs,
    FindingRecord,
    crosscheck_inputs,
    expected_findings,
    findings_as_records,
    ground_truth,
    read_ground_truth,
)

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_STATIONS",
    "FORMATS",
    "LINE_KEYS",
    "SILENT_CHANGE",
    "TEMPLATE_KEY",
    "XLSX_MAX_ROWS",
    "CrosscheckInputs",
    "FindingRecord",
    "OutputFormat",
    "Summary",
    "SynthParameterError",
    "SynthParams",
    "SyntheticElection",
    "crosscheck_inputs",
    "expected_findings",
    "findings_as_records",
    "generate",
    "ground_truth",
    "output_rows",
    "read_ground_truth",
    "summarise",
    "synth_template",
    "write_files",
]
