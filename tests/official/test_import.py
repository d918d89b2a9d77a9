"""Official results import: snapshots, idempotent re-import, silent changes, and every bad input.

A bad file raises an error naming the file, row and column, and stores nothing: no snapshot,
no result, no finding, no log entry.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pollwatch.core.synth import LINE_KEYS
from pollwatch.core.tabular import InputError
from pollwatch.findings.models import Finding
from pollwatch.findings.recheck import recheck_election
from pollwatch.ledger.models import LogEntry
from pollwatch.official.importing import file_sha256, import_official, read_official
from pollwatch.official.ledger_records import snapshot_record
from pollwatch.official.models import OfficialResult, OfficialSnapshot
from tests.official.elections import K, StoredElection, store_election

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored() -> StoredElection:
    return store_election(stations=12)


def _csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _station_rows(stored: StoredElection, **changes: dict[str, int]) -> list[list[object]]:
    """Native rows: the honest figures of every station, with changes by station code."""
    rows = []
    for position, station in enumerate(stored.stations):
        figures = stored.figures(position, **changes.get(station.code, {}))
        rows.append([station.code, *(figures[key] for key in LINE_KEYS)])
    return rows


def _import(stored: StoredElection, path: Path, **options: object):  # type: ignore[no-untyped-def]
    table = read_official(path, stored.election, **options)  # type: ignore[arg-type]
    return import_official(stored.election, table, source=str(path), sha256=file_sha256(path))


def _nothing_stored() -> None:
    assert not OfficialSnapshot.objects.exists()
    assert not OfficialResult.objects.exists()
    assert not LogEntry.objects.filter(kind="official-snapshot").exists()


def test_a_station_file_becomes_a_snapshot_of_current_results(
    stored: StoredElection, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "results.csv", ["code", *LINE_KEYS], _station_rows(stored))
    report = _import(stored, path)
    assert (report.created, report.rows, report.first_published, report.changed) == (
        True, 12, 12, 0,
    )  # fmt: skip
    snapshot = OfficialSnapshot.objects.get()
    assert snapshot.sha256 == file_sha256(path)
    assert snapshot.station_rows == 12
    result = OfficialResult.objects.get(station=stored.stations[4])
    assert result.current and result.figures == stored.figures(4)
    assert LogEntry.objects.filter(kind="official-snapshot").count() == 1


def test_the_same_file_again_changes_nothing(stored: StoredElection, tmp_path: Path) -> None:
    path = _csv(tmp_path / "results.csv", ["code", *LINE_KEYS], _station_rows(stored))
    first = _import(stored, path)
    again = _import(stored, path)
    assert not again.created
    assert again.snapshot == first.snapshot
    assert OfficialSnapshot.objects.count() == 1
    assert OfficialResult.objects.count() == 12


def test_a_changed_publication_raises_a_silent_change_for_every_changed_figure(
    stored: StoredElection, tmp_path: Path
) -> None:
    header = ["code", *LINE_KEYS]
    _import(stored, _csv(tmp_path / "first.csv", header, _station_rows(stored)))
    code = stored.stations[2].code
    yes, no = (int(stored.honest[2, K[key]]) for key in ("yes", "no"))
    changed = {code: {"yes": yes + 40, "no": no - 40}}
    report = _import(
        stored, _csv(tmp_path / "second.csv", header, _station_rows(stored, **changed))
    )
    assert (report.created, report.first_published, report.changed, report.unchanged) == (
        True, 0, 1, 11,
    )  # fmt: skip
    second = report.snapshot
    assert OfficialResult.objects.filter(station=stored.stations[2]).count() == 2
    current = OfficialResult.objects.get(station=stored.stations[2], current=True)
    assert current.snapshot == second and current.figures["yes"] == yes + 40
    findings = {f.lines[0]: f for f in Finding.objects.filter(kind="silent-change")}
    assert set(findings) == {"yes", "no"}
    assert (findings["yes"].right_value, findings["yes"].left_value, findings["yes"].delta) == (
        yes, yes + 40, 40,
    )  # fmt: skip
    assert findings["no"].delta == -40
    assert findings["yes"].station == stored.stations[2]
    assert findings["yes"].detail["snapshot"] == second.pk
    # The cross-check's recomputation never resolves a silent change.
    recheck_election(stored.election)
    assert Finding.objects.filter(kind="silent-change", present=True).count() == 2
    # Publishing the first figures again is a change back: two more findings, none resolved.
    _import(stored, tmp_path / "first.csv")
    assert Finding.objects.filter(kind="silent-change", present=True).count() == 4


def test_commission_totals_at_any_level(stored: StoredElection, tmp_path: Path) -> None:
    header = ["code", *LINE_KEYS]
    region, territorial = stored.regions[0], stored.territorials[0]
    rows = [[region.code, *range(len(LINE_KEYS))], [territorial.code, *range(len(LINE_KEYS))]]
    report = _import(stored, _csv(tmp_path / "totals.csv", header, rows), totals=True)
    assert report.snapshot.commission_rows == 2
    assert OfficialResult.objects.get(commission=region).figures["registered"] == 0
    assert not OfficialResult.objects.filter(station__isnull=False).exists()


def test_json_and_xlsx_publications(stored: StoredElection, tmp_path: Path) -> None:
    rows = _station_rows(stored)
    objects = [dict(zip(["code", *LINE_KEYS], row, strict=True)) for row in rows[:6]]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(objects), encoding="utf-8")
    assert _import(stored, path).rows == 6
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["code", *LINE_KEYS])
    for row in rows:
        sheet.append(row)
    workbook.save(tmp_path / "results.xlsx")
    report = _import(stored, tmp_path / "results.xlsx")
    assert (report.first_published, report.unchanged) == (6, 6)


def test_the_command_imports_and_rechecks(stored: StoredElection, tmp_path: Path) -> None:
    path = _csv(tmp_path / "results.csv", ["code", *LINE_KEYS], _station_rows(stored)[:-1])
    from io import StringIO

    out = StringIO()
    call_command(
        "import_official", str(path), election=stored.election.slug, source="https://cec.example",
        no_progress=True, stdout=out,
    )  # fmt: skip
    assert "11 published for the first time" in out.getvalue()
    assert OfficialSnapshot.objects.get().source == "https://cec.example"
    assert "Cross-check" in out.getvalue()
    call_command("import_official", str(path), election=stored.election.slug, stdout=out)
    assert "nothing changed" in out.getvalue()


# Each bad file: (header, rows, expected message parts).
BAD = {
    "unknown station": (
        ["code", *LINE_KEYS], [["NOWHERE", *range(len(LINE_KEYS))]],
        ["row 2", "column 'code'", "station 'NOWHERE' is not in the registry"],
    ),
    "station twice": (
        ["code", *LINE_KEYS], [["S001", *range(len(LINE_KEYS))]] * 2,
        ["row 3", "column 'code'", "already has a row in this file (row 2)"],
    ),
    "missing figure": (
        ["code", *LINE_KEYS], [["S001", "", *range(1, len(LINE_KEYS))]],
        ["row 2", "column 'registered'", "the cell is empty"],
    ),
    "negative figure": (
        ["code", *LINE_KEYS], [["S001", *range(len(LINE_KEYS) - 1), -3]],
        ["row 2", f"column '{LINE_KEYS[-1]}'", "expected zero or more, got -3"],
    ),
    "fractional figure": (
        ["code", *LINE_KEYS], [["S001", "12.5", *range(1, len(LINE_KEYS))]],
        ["row 2", "column 'registered'", "expected a whole number, got '12.5'"],
    ),
    "text figure": (
        ["code", *LINE_KEYS], [["S001", "many", *range(1, len(LINE_KEYS))]],
        ["row 2", "column 'registered'", "expected a whole number, got 'many'"],
    ),
    "absurd figure": (
        ["code", *LINE_KEYS], [["S001", 10**12, *range(1, len(LINE_KEYS))]],
        ["row 2", "column 'registered'", "expected at most 1,000,000,000"],
    ),
    "unknown column": (
        ["code", *LINE_KEYS, "turnout"], [["S001", *range(len(LINE_KEYS)), 5]],
        ["row 1", "column 'turnout'", "unknown column"],
    ),
    "missing column": (
        ["code", *LINE_KEYS[:-1]], [["S001", *range(len(LINE_KEYS) - 1)]],
        ["row 1", f"column '{LINE_KEYS[-1]}'", "expected this column"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_precisely_and_stores_nothing(
    stored: StoredElection, tmp_path: Path, case: str
) -> None:
    header, rows, expected = BAD[case]
    path = _csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(InputError) as raised:
        _import(stored, path)
    message = str(raised.value)
    for part in [str(path), *expected]:
        assert part in message
    assert "nothing was imported" in message
    _nothing_stored()


def test_a_bad_file_after_a_good_one_leaves_the_good_one_current(
    stored: StoredElection, tmp_path: Path
) -> None:
    header = ["code", *LINE_KEYS]
    _import(stored, _csv(tmp_path / "good.csv", header, _station_rows(stored)))
    rows = _station_rows(stored, S003={"yes": 1})
    rows.append(["NOWHERE", *range(len(LINE_KEYS))])
    with pytest.raises(InputError, match="NOWHERE"):
        _import(stored, _csv(tmp_path / "bad.csv", header, rows))
    assert OfficialSnapshot.objects.count() == 1
    assert OfficialResult.objects.filter(current=True).count() == 12
    assert not Finding.objects.filter(kind="silent-change").exists()


def test_the_command_reports_bad_input_as_an_error(stored: StoredElection, tmp_path: Path) -> None:
    path = _csv(tmp_path / "bad.csv", ["code", "yes"], [["S001", "x"]])
    with pytest.raises(CommandError, match="row 1"):
        call_command("import_official", str(path), election=stored.election.slug, no_progress=True)
    _nothing_stored()


def test_a_snapshot_record_is_spelled_the_same_in_any_time_zone(
    stored: StoredElection, tmp_path: Path
) -> None:
    """`verify database` rebuilds the record from the row; the time must not depend on the zone
    the row's datetime comes back in."""
    _import(stored, _csv(tmp_path / "results.csv", ["code", *LINE_KEYS], _station_rows(stored)))
    snapshot = OfficialSnapshot.objects.get()
    logged = json.loads(bytes(LogEntry.objects.get(kind="official-snapshot").canonical))
    almaty = datetime.timezone(datetime.timedelta(hours=5))
    snapshot.imported_at = snapshot.imported_at.astimezone(almaty)
    assert snapshot_record(snapshot) == logged
