"""From the files a user names to a plan: open each table, then read it in the mapping's shape."""

from __future__ import annotations

from pathlib import Path

from pollwatch.core.progress import OnRows
from pollwatch.core.structure.flat import plan_flat
from pollwatch.core.structure.mapping import Mapping, MappingError
from pollwatch.core.structure.native import plan_native
from pollwatch.core.structure.plan import StructurePlan
from pollwatch.core.tabular import is_workbook, open_table


def read_plan(
    mapping: Mapping,
    stations: Path,
    commissions: Path | None = None,
    *,
    stations_sheet: str | None = None,
    commissions_sheet: str | None = None,
    on_rows: OnRows | None = None,
) -> StructurePlan:
    """Read the files named by the command line into a validated plan.

    Native mappings read commissions from `commissions`, or from the stations workbook when
    that is an XLSX file holding both sheets.
    """
    station_sheet = stations_sheet or mapping.stations.sheet
    if mapping.is_flat:
        if commissions is not None:
            raise MappingError(
                f"mapping {mapping.name!r} reads commissions from the stations table's "
                "name columns; it takes no commissions file"
            )
        with open_table(stations, station_sheet) as table:
            return plan_flat(mapping, table, on_rows)
    assert mapping.commissions is not None
    if commissions is None:
        if not is_workbook(Path(stations)):
            raise MappingError(
                f"mapping {mapping.name!r} needs a commissions file as well as the stations file "
                "(or one XLSX workbook holding both sheets)"
            )
        commissions = stations
    commission_sheet = commissions_sheet or mapping.commissions.sheet
    with (
        open_table(commissions, commission_sheet) as commission_table,
        open_table(stations, station_sheet) as station_table,
    ):
        return plan_native(mapping, commission_table, station_table, on_rows)
