"""Election forensics: statistical tests of per-station results for signs of falsification.

Each test says how far the figures are from what honest counting would produce, and no more: a
flagged test is a reason to ask, not a conclusion. Modules, one statistic each:

- `distributions` — turnout and vote-share histograms, the fingerprint (Klimek et al. 2012)
- `integer_percentages` — Kobak, Shpilkin & Pshenichnikov (AoAS 2016), exact binomial null
- `shpilkin` — anomalous votes beyond the clean turnout peak (Shpilkin 2009)
- `digits` — 2BL, last digit, Beber–Scacco χ², C05s, P05s with bootstrap intervals
- `klimek` — incremental and extreme fraud fractions from the fraud model (PNAS 2012)
- `observers` — stations with observers vs without, stratified by region
- `figures` — Matplotlib (Agg) renderings to PNG and SVG; `tables` — the data behind them
- `russia` — the Russian CEC per-station files as `StationResults`
"""

from pollwatch.core.forensics.stations import ForensicsInputError, StationResults
from pollwatch.core.forensics.suite import ForensicsReport, forensics_report

__all__ = ["ForensicsInputError", "ForensicsReport", "StationResults", "forensics_report"]
