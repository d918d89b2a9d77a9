"""Parallel vote tabulation (quick count): sample, estimate, margin of error, convergence.

After NDI, "The Quick Count and Election Observation" (Estok, Nevitte & Cowan, 2002).

- `sample_size` — the handbook's formula n = P(1−P) / ((E/Z)² + P(1−P)/N)
- `frame` — the sampling frame and a stratified random sample, reproducible from a seed
- `estimate` — stratified ratio estimators with finite-population correction, margins of error
  at 95 % and 99 %, comparison with the official result
- `convergence` — the estimates as sample reports arrive
"""

from pollwatch.core.pvt.convergence import Convergence, convergence
from pollwatch.core.pvt.estimate import (
    Comparison,
    PvtEstimate,
    Ratio,
    compare_with_official,
    pvt_estimate,
    ratio_estimate,
)
from pollwatch.core.pvt.frame import (
    FrameError,
    SamplingFrame,
    StratifiedSample,
    allocate,
    strata_codes,
    stratified_sample,
)
from pollwatch.core.pvt.sample_size import (
    HANDBOOK_Z,
    SampleSizeError,
    ndi_sample_size,
    stations_for,
)

__all__ = [
    "HANDBOOK_Z",
    "Comparison",
    "Convergence",
    "FrameError",
    "PvtEstimate",
    "Ratio",
    "SampleSizeError",
    "SamplingFrame",
    "StratifiedSample",
    "allocate",
    "compare_with_official",
    "convergence",
    "ndi_sample_size",
    "pvt_estimate",
    "ratio_estimate",
    "stations_for",
    "strata_codes",
    "stratified_sample",
]
