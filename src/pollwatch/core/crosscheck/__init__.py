"""Cross-checking count protocols: per station and per commission, for one station or millions.

- control relations on each observer's copy and on the official figures (stations and
  commission totals);
- copy against copy: which lines disagree, and the observers' consensus (``consensus``
  explains the rule: a strict majority of distinct organisations);
- copies and consensus against the official figures, line by line, with the delta;
- every published commission total against the sum of its children's official figures, at
  every level;
- missing pieces: copies with no official result, official results with no copy.

Inputs are plain arrays (``inputs``, ``hierarchy``); the output is columns of findings with
stable fingerprints (``findings``). A difference is a reason to ask, not a conclusion.
"""

from pollwatch.core.crosscheck.check import CrossCheck, crosscheck, figures_for_stations
from pollwatch.core.crosscheck.consensus import Consensus, consensus
from pollwatch.core.crosscheck.findings import FindingKind, Findings, FingerprintNames
from pollwatch.core.crosscheck.hierarchy import Hierarchy, roll_up, sum_by
from pollwatch.core.crosscheck.inputs import (
    Copies,
    CrosscheckInputError,
    Figures,
    OfficialResults,
)

__all__ = [
    "Consensus",
    "Copies",
    "CrossCheck",
    "CrosscheckInputError",
    "Figures",
    "FindingKind",
    "Findings",
    "FingerprintNames",
    "Hierarchy",
    "OfficialResults",
    "consensus",
    "crosscheck",
    "figures_for_stations",
    "roll_up",
    "sum_by",
]
