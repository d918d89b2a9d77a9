"""The native shape: a commissions table and a stations table, each row naming its codes.

Commissions name their parent by code, stations their commission; every code is checked against
the commissions table, and the hierarchy is ordered and checked for cycles (`hierarchy`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator

from pollwatch.core.progress import Counted, OnRows
from pollwatch.core.structure.hierarchy import CommissionRow, order_hierarchy
from pollwatch.core.structure.mapping import COMMISSION_FIELDS, STATION_FIELDS, Mapping
from pollwatch.core.structure.plan import (
    CODE_MAX,
    LEVEL_MAX,
    NAME_MAX,
    NUMBER_MAX,
    VOTERS_MAX,
    StationColumns,
    StructurePlan,
)
from pollwatch.core.structure.problems import Problems
from pollwatch.core.structure.rows import RowReader, StationCodes
from pollwatch.core.tabular import Table


def plan_native(
    mapping: Mapping, commissions: Table, stations: Table, on_rows: OnRows | None = None
) -> StructurePlan:
    assert mapping.commissions is not None
    problems = Problems()
    commission_reader = RowReader(commissions, mapping.commissions, COMMISSION_FIELDS, problems)
    station_reader = RowReader(stations, mapping.stations, STATION_FIELDS, problems)
    # Without the columns every row would repeat the same complaint.
    problems.raise_if_any()

    rows = _read_commissions(commission_reader, commissions.rows, problems)
    parent = mapping.commissions.fields.get("parent_code")
    planned = order_hierarchy(rows, commissions.source, parent.column if parent else None, problems)
    # Stations refer to commissions by code; each code string is then shared, not copied.
    known = {code: code for code in rows}
    columns = _read_stations(station_reader, stations.rows, known, problems, on_rows)
    problems.raise_if_any()
    return StructurePlan(
        commissions=planned,
        stations=columns,
        warnings=commission_reader.warnings + station_reader.warnings,
    )


def _read_commissions(
    reader: RowReader, rows: Iterator[tuple[int, list[str]]], problems: Problems
) -> dict[str, CommissionRow]:
    found: dict[str, CommissionRow] = {}
    for row, cells in rows:
        if not reader.start(row, cells):
            continue
        code = reader.text("code", max_length=CODE_MAX)
        name = reader.text("name", max_length=NAME_MAX)
        level = reader.text("level", max_length=LEVEL_MAX)
        parent = reader.text("parent_code", required=False, max_length=CODE_MAX)
        if code is None or name is None or level is None or parent is None:
            continue
        if code in found:
            reader.fail(
                "code", f"commission code {code!r} is already used at row {found[code].row}"
            )
            continue
        found[code] = CommissionRow(row, code, name, level, parent or None)
    if not found and problems.total == 0:
        problems.add(reader.source, None, None, "expected at least one commission, found none")
    return found


def _read_stations(
    reader: RowReader,
    rows: Iterator[tuple[int, list[str]]],
    commissions: dict[str, str],
    problems: Problems,
    on_rows: OnRows | None,
) -> StationColumns:
    columns = StationColumns()
    seen = StationCodes(reader, columns.code)
    fast = _fast_station_reader(reader, commissions)
    counted = Counted(rows, on_rows)
    for row, cells in counted:
        if fast is not None and len(cells) >= reader.width:
            station = fast(cells)
            if station is not None and seen.add_if_new(station[0], row):
                columns.append(*station)
                continue
        if not reader.start(row, cells):
            continue
        code = reader.text("code", max_length=CODE_MAX)
        number = reader.text("number", max_length=NUMBER_MAX)
        commission_code = reader.text("commission_code", max_length=CODE_MAX)
        voters = reader.count("registered_voters")
        address = reader.text("address", required=False)
        coordinates = reader.coordinates()
        if commission_code is not None:
            commission = commissions.get(commission_code)
            if commission is None:
                reader.fail(
                    "commission_code",
                    f"expected the code of a commission in the commissions table, "
                    f"got {commission_code!r}",
                )
            commission_code = commission
        if (
            code is None
            or number is None
            or commission_code is None
            or voters is None
            or address is None
            or coordinates is None
            or not seen.add(code, row, "code")
        ):
            continue
        columns.append(code, number, commission_code, voters, address, coordinates)
    if counted.count == 0:
        problems.add(reader.source, None, None, "expected at least one station, found none")
    return columns


StationValues = tuple[str, str, str, int, str, tuple[float | None, float | None]]


def _fast_station_reader(
    reader: RowReader, commissions: dict[str, str]
) -> Callable[[list[str]], StationValues | None] | None:
    """A quick reader for the common row, where every value is plainly valid.

    The per-cell reader (RowReader) costs several calls per cell, which a million rows feel. This
    one reads a row in a few C-level operations and accepts only what the per-cell reader would
    accept, with the same result; any doubt (None) sends the row to the per-cell reader, which
    decides and writes the message. Mappings with patterns or absent columns always take the
    per-cell path.
    """
    names = list(STATION_FIELDS)
    if any(reader.specs[name].pattern for name in names) or set(names) - set(reader.index):
        return None
    get = operator.itemgetter(*(reader.index[name] for name in names))
    digits_max = len(str(VOTERS_MAX)) - 1  # shorter numbers cannot exceed VOTERS_MAX

    def read(cells: list[str]) -> StationValues | None:
        code, number, commission, voters, address, lat, lon = (c.strip() for c in get(cells))
        if not (
            code
            and number
            and len(code) <= CODE_MAX
            and len(number) <= NUMBER_MAX
            and voters.isascii()
            and voters.isdigit()
            and len(voters) <= digits_max
        ):
            return None
        commission = commissions.get(commission)
        if commission is None:
            return None
        if not (lat or lon):
            return code, number, commission, int(voters), address, (None, None)
        try:
            latitude, longitude = float(lat), float(lon)
        except ValueError:
            return None
        # NaN fails both comparisons, so it goes to the per-cell reader too.
        if -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0:
            return code, number, commission, int(voters), address, (latitude, longitude)
        return None

    return read
