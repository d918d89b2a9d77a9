"""The flat shape: one table, a row per station, the hierarchy as one name column per level.

This is how the Russian CEC publishes its stations (presets ru-2018, ru-2020). Codes are never
read but derived: a commission's from its names path, top down ("Region/TIK"), and a station's
from its commission's and its number ("Region/TIK/1234"), so that importing the same file twice
names the same things.
"""

from __future__ import annotations

from collections.abc import Sequence

from pollwatch.core.progress import Counted, OnRows
from pollwatch.core.structure.mapping import (
    FLAT_STATION_FIELDS,
    LEVEL_FIELD,
    LevelMapping,
    Mapping,
    TableMapping,
)
from pollwatch.core.structure.plan import (
    CODE_MAX,
    NAME_MAX,
    NUMBER_MAX,
    CommissionPlan,
    StationColumns,
    StructurePlan,
)
from pollwatch.core.structure.problems import Problems
from pollwatch.core.structure.rows import RowReader, StationCodes
from pollwatch.core.tabular import Table


def path_segment(name: str) -> str:
    """A name as one segment of a derived code: "/" is the separator, so it is escaped."""
    return name.replace("%", "%25").replace("/", "%2F")


def plan_flat(mapping: Mapping, stations: Table, on_rows: OnRows | None = None) -> StructurePlan:
    problems = Problems()
    level_fields = {f"{LEVEL_FIELD}{level.level}": level.name for level in mapping.levels}
    table_mapping = TableMapping(
        sheet=mapping.stations.sheet, fields={**mapping.stations.fields, **level_fields}
    )
    required = {**FLAT_STATION_FIELDS, **dict.fromkeys(level_fields, True)}
    reader = RowReader(stations, table_mapping, required, problems)
    problems.raise_if_any()

    commissions: dict[str, CommissionPlan] = {}
    columns = StationColumns()
    seen = StationCodes(reader, columns.code)
    counted = Counted(stations.rows, on_rows)
    for row, cells in counted:
        if not reader.start(row, cells):
            continue
        names = [reader.text(name, max_length=NAME_MAX) for name in level_fields]
        number = reader.text("number", max_length=NUMBER_MAX)
        voters = reader.count("registered_voters")
        address = reader.text("address", required=False)
        coordinates = reader.coordinates()
        if (
            None in names
            or number is None
            or voters is None
            or address is None
            or coordinates is None
        ):
            continue
        commission_code = _flat_commissions(mapping.levels, names, commissions)  # type: ignore[arg-type]
        code = f"{commission_code}/{path_segment(number)}"
        if len(code) > CODE_MAX:
            reader.fail("number", f"the derived station code is longer than {CODE_MAX} characters")
            continue
        if not seen.add(code, row, "number"):
            continue
        columns.append(code, number, commission_code, voters, address, coordinates)
    if counted.count == 0:
        problems.add(reader.source, None, None, "expected at least one station, found none")
    for commission in commissions.values():
        if len(commission.code) > CODE_MAX:
            problems.add(
                stations.source,
                None,
                None,
                f"the derived commission code {commission.code[:60]!r}… is longer than {CODE_MAX} "
                "characters",
            )
    problems.raise_if_any()
    ordered = sorted(commissions.values(), key=lambda commission: commission.depth)
    return StructurePlan(commissions=ordered, stations=columns, warnings=reader.warnings)


def _flat_commissions(
    levels: Sequence[LevelMapping], names: list[str], commissions: dict[str, CommissionPlan]
) -> str:
    """Registers the row's commissions (top down) and returns the lowest one's code."""
    parent: str | None = None
    code = ""
    for depth, (level, name) in enumerate(zip(levels, names, strict=True)):
        code = path_segment(name) if parent is None else f"{parent}/{path_segment(name)}"
        known = commissions.get(code)
        if known is None:
            commissions[code] = CommissionPlan(code, name, level.level, parent, depth)
        else:
            code = known.code  # share one string per commission across its stations
        parent = code
    return code
