"""An election's structure — commissions and polling stations — read from tables into a plan.

A *mapping* says which column holds which field, in the native shape (a commissions table and a
stations table) or the flat one (a row per station, a name column per commission level). The
*plan* is the validated result; every problem in the input is collected, and any problem means
no plan at all. One module per concern:

- `mapping`   — the mapping file format, its parser and the built-in presets
- `read`      — `read_plan`: open the files named by the user and read them into a plan
- `native`    — the two-table shape, with a quick path for plainly valid station rows
- `flat`      — the one-table shape (the Russian presets), codes derived from the names path
- `hierarchy` — a native plan's commissions in order, parents first; cycles are problems
- `rows`      — reading a table's mapped cells into values, duplicate station codes
- `problems`  — problems collected with file, row and column, raised together
- `plan`      — the plan itself, and the registry's column limits it respects
- `totals`    — depth and subtree totals of the stored tree, recomputed after an import
"""

from pollwatch.core.progress import OnRows
from pollwatch.core.structure.flat import path_segment
from pollwatch.core.structure.mapping import (
    MappingError,
    load_mapping,
    load_preset,
    parse_mapping,
    preset_names,
)
from pollwatch.core.structure.plan import StructurePlan
from pollwatch.core.structure.problems import StructureError
from pollwatch.core.structure.read import read_plan

__all__ = [
    "MappingError",
    "OnRows",
    "StructureError",
    "StructurePlan",
    "load_mapping",
    "load_preset",
    "parse_mapping",
    "path_segment",
    "preset_names",
    "read_plan",
]
