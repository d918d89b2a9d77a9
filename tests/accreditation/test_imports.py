"""Importing organisations, observers and assignments: happy paths, re-imports, and every bad
input refused with its file, row and column, leaving the database as it was."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from pollwatch.accounts.models import AuditEntry
from pollwatch.accreditation.imports import (
    import_assignments,
    import_observers,
    import_organisations,
)
from pollwatch.accreditation.models import Accreditation, Assignment, Observer, Organisation
from pollwatch.core.tabular import InputError
from tests.accreditation.conftest import People, accredit, organisation
from tests.web.factories import SmallElection

pytestmark = pytest.mark.django_db

ORGANISATIONS = """code,name,kind,share_with_mission,share_with_organisations
golos,Golos Kazakhstan,ngo,yes,no
osce,OSCE/ODIHR,international_mission,yes,yes
"""
OBSERVERS = """organisation,code,full_name,contact,languages,accreditation_number
golos,G-1,Aigerim Nurlanova,+7 701 000 0001,kk ru,KZ-0001
golos,G-2,Daniyar Sadykov,d@example.org,ru,
osce,O-1,Jane Doe,jane@example.org,en ru,KZ-0002
"""
ASSIGNMENTS = """organisation,observer,station,starts_at,ends_at
golos,G-1,0101101,2026-03-15T07:00+05:00,2026-03-15T20:00+05:00
golos,G-2,0101102,2026-03-15T07:00+05:00,2026-03-15T20:00+05:00
osce,O-1,0101101,2026-03-15T07:00+05:00,2026-03-15T12:00+05:00
osce,O-1,0201101,2026-03-15T12:00+05:00,2026-03-15T20:00+05:00
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def state() -> tuple[list[tuple[object, ...]], ...]:
    """Everything an import may touch, to show a refused one changed nothing."""
    return (
        list(Organisation.objects.order_by("code").values_list()),
        list(Observer.objects.order_by("pk").values_list()),
        list(Accreditation.objects.order_by("pk").values_list()),
        list(Assignment.objects.order_by("pk").values_list()),
        list(AuditEntry.objects.order_by("pk").values_list("pk")),
    )


def refused(call: object, *messages: str) -> str:
    """Run `call` expecting an InputError; check its text names each of `messages`."""
    before = state()
    with pytest.raises(InputError) as caught:
        call()  # type: ignore[operator]
    text = str(caught.value)
    for message in messages:
        assert message in text, text
    assert state() == before
    return text


@pytest.fixture
def organisations(tmp_path: Path, people: People) -> None:
    import_organisations(None, write(tmp_path, "organisations.csv", ORGANISATIONS))


# Organisations -----------------------------------------------------------------------------


def test_organisations_are_created_then_updated_by_code(tmp_path: Path, people: People) -> None:
    path = write(tmp_path, "organisations.csv", ORGANISATIONS)
    report = import_organisations(people.administrator, path)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    osce = Organisation.objects.get(code="osce")
    assert (osce.name, osce.kind, osce.share_with_mission, osce.share_with_organisations) == (
        "OSCE/ODIHR",
        "international_mission",
        True,
        True,
    )
    again = import_organisations(people.administrator, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    write(tmp_path, "organisations.csv", ORGANISATIONS.replace("yes,yes", "No,NO"))
    changed = import_organisations(people.administrator, path)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    assert not Organisation.objects.get(code="osce").share_with_mission
    entries = AuditEntry.objects.filter(action="organisation.import").order_by("pk")
    assert [(e.target_repr, e.before is None) for e in entries] == [
        ("Golos Kazakhstan", True),
        ("OSCE/ODIHR", True),
        ("OSCE/ODIHR", False),
    ]


def test_an_organisations_workbook_imports_too(tmp_path: Path, people: People) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in ORGANISATIONS.splitlines():
        sheet.append(line.split(","))
    workbook.save(tmp_path / "organisations.xlsx")
    report = import_organisations(None, tmp_path / "organisations.xlsx")
    assert report.created == 2


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("x,X,church,yes,no", "'kind'", "expected one of party, ngo, media"),
        ("x,X,ngo,true,no", "'share_with_mission'", "expected yes or no, got 'true'"),
        ("x,X,ngo,yes,", "'share_with_organisations'", "the cell is empty"),
        ("x y,X,ngo,yes,no", "'code'", "expected a code of letters, digits"),
        ("golos,Again,ngo,yes,no", "'code'", "'golos' is already given at row 2"),
    ],
)
def test_bad_organisation_rows_are_refused(
    tmp_path: Path, people: People, line: str, column: str, message: str
) -> None:
    path = write(tmp_path, "organisations.csv", ORGANISATIONS + line + "\n")
    refused(lambda: import_organisations(None, path), f"row 4, column {column}", message)


def test_a_missing_column_is_named(tmp_path: Path, people: People) -> None:
    path = write(tmp_path, "organisations.csv", "code,name,kind,share_with_mission\nx,X,ngo,yes\n")
    refused(
        lambda: import_organisations(None, path),
        "organisations.csv, row 1, column 'share_with_organisations': expected this column",
    )


@pytest.mark.parametrize("who", ["coordinator", "observer_user", "analyst", "data_clerk"])
def test_only_administrators_import_organisations(tmp_path: Path, people: People, who: str) -> None:
    path = write(tmp_path, "organisations.csv", ORGANISATIONS)
    before = state()
    with pytest.raises(PermissionDenied):
        import_organisations(getattr(people, who), path)
    assert state() == before


# Observers ---------------------------------------------------------------------------------


def test_observers_and_their_accreditations(
    tmp_path: Path, small: SmallElection, organisations: None
) -> None:
    path = write(tmp_path, "observers.csv", OBSERVERS)
    report = import_observers(None, path, election=small.election)
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert (report.accreditations_created, report.accreditations_updated) == (3, 0)
    aigerim = Observer.objects.get(organisation__code="golos", code="G-1")
    assert (aigerim.full_name, aigerim.contact, aigerim.languages) == (
        "Aigerim Nurlanova",
        "+7 701 000 0001",
        ["kk", "ru"],
    )
    statuses = dict(
        Accreditation.objects.filter(election=small.election).values_list(
            "observer__code", "status"
        )
    )
    assert statuses == {"G-1": "accredited", "G-2": "pending", "O-1": "accredited"}
    assert Accreditation.objects.get(observer=aigerim).number == "KZ-0001"

    again = import_observers(None, path, election=small.election)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (again.accreditations_created, again.accreditations_updated) == (0, 0)
    audit = AuditEntry.objects.filter(action="observers.import").order_by("pk")
    assert audit.count() == 4  # one per organisation per import
    first = audit.first()
    assert first is not None and first.after is not None
    assert first.after["election"] == small.election.slug


def test_a_reimport_updates_details_and_grants_numbers_but_never_undoes_a_revocation(
    tmp_path: Path, small: SmallElection, organisations: None
) -> None:
    path = write(tmp_path, "observers.csv", OBSERVERS)
    import_observers(None, path, election=small.election)
    Accreditation.objects.filter(observer__code="O-1").update(status="revoked")
    changed = (
        OBSERVERS.replace("d@example.org,ru,", "d@example.org,ru kk,KZ-0003")
        .replace("Jane Doe", "Jane Smith")
        .replace(",KZ-0002", ",KZ-0009")
    )
    write(tmp_path, "observers.csv", changed)
    report = import_observers(None, path, election=small.election)
    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    assert (report.accreditations_created, report.accreditations_updated) == (0, 1)
    daniyar = Accreditation.objects.get(observer__code="G-2")
    assert (daniyar.status, daniyar.number) == ("accredited", "KZ-0003")
    assert daniyar.decided_at is not None
    jane = Accreditation.objects.get(observer__code="O-1")
    assert (jane.status, jane.number) == ("revoked", "KZ-0002")
    assert Observer.objects.get(code="G-2").languages == ["ru", "kk"]
    # A blank number leaves a granted accreditation alone.
    write(tmp_path, "observers.csv", OBSERVERS.replace(",KZ-0001", ","))
    import_observers(None, path, election=small.election)
    assert Accreditation.objects.get(observer__code="G-1").status == "accredited"


def test_observers_without_an_election_get_no_accreditation(
    tmp_path: Path, organisations: None
) -> None:
    report = import_observers(None, write(tmp_path, "observers.csv", OBSERVERS))
    assert report.created == 3
    assert Observer.objects.filter(organisation__code__in=["golos", "osce"]).count() == 3
    assert not Accreditation.objects.exists()


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("nobody,N-1,No One,,ru,", "'organisation'", "no organisation has the code 'nobody'"),
        ("golos,G-1,Twice,,ru,", "'code'", "'G-1' of 'golos' is already given at row 2"),
        ("golos,G-9,Copycat,,ru,KZ-0001", "'accreditation_number'", "already given at row 2"),
        ("golos,G-9,Bad Language,,kazakh!,", "'languages'", "expected language codes"),
        ("golos,G-9,,,ru,", "'full_name'", "the cell is empty"),
        ("golos,G-9", None, "expected at least 6 cells as in the header, found 2"),
    ],
)
def test_bad_observer_rows_are_refused(
    tmp_path: Path,
    small: SmallElection,
    organisations: None,
    line: str,
    column: str | None,
    message: str,
) -> None:
    path = write(tmp_path, "observers.csv", OBSERVERS + line + "\n")
    where = f"row 5, column {column}" if column else "row 5"
    refused(lambda: import_observers(None, path, election=small.election), where, message)


def test_a_number_held_by_another_observer_is_refused(
    tmp_path: Path, small: SmallElection, people: People, organisations: None
) -> None:
    accredit(people.observer, small.election)  # number A-obs-1
    path = write(tmp_path, "observers.csv", OBSERVERS.replace("KZ-0002", "A-obs-1"))
    refused(
        lambda: import_observers(None, path, election=small.election),
        "row 4, column 'accreditation_number'",
        "'A-obs-1' is already Observer obs-1's",
    )


def test_a_coordinator_imports_only_their_organisations_observers(
    tmp_path: Path, small: SmallElection, people: People, organisations: None
) -> None:
    coordinator = people.coordinator
    coordinator.membership.organisation = Organisation.objects.get(code="golos")
    coordinator.membership.save()
    text = refused(
        lambda: import_observers(
            coordinator, write(tmp_path, "o.csv", OBSERVERS), election=small.election
        ),
        "row 4, column 'organisation': you may import only your own organisation's rows",
        "row 2, column 'accreditation_number': only an administrator may record",
    )
    assert "row 3" not in text
    own_only = "\n".join(OBSERVERS.splitlines()[:3]).replace(",KZ-0001", ",") + "\n"
    report = import_observers(
        coordinator, write(tmp_path, "o.csv", own_only), election=small.election
    )
    assert (report.created, report.accreditations_created) == (2, 2)
    assert set(Accreditation.objects.values_list("status", flat=True)) == {"pending"}
    entry = AuditEntry.objects.get(action="observers.import")
    assert entry.actor == coordinator


@pytest.mark.parametrize("who", ["observer_user", "analyst", "data_clerk"])
def test_other_roles_cannot_import_observers(
    tmp_path: Path, people: People, organisations: None, who: str
) -> None:
    path = write(tmp_path, "observers.csv", OBSERVERS)
    before = state()
    with pytest.raises(PermissionDenied):
        import_observers(getattr(people, who), path)
    assert state() == before


# Assignments -------------------------------------------------------------------------------


@pytest.fixture
def observers(tmp_path: Path, small: SmallElection, organisations: None) -> None:
    import_observers(None, write(tmp_path, "observers.csv", OBSERVERS), election=small.election)


def _assignments() -> set[tuple[str, str, str]]:
    return {
        (code, station, starts.isoformat())
        for code, station, starts in Assignment.objects.values_list(
            "observer__code", "station__code", "starts_at"
        )
    }


def test_assignments_are_imported_and_replaced_per_observer(
    tmp_path: Path, small: SmallElection, observers: None
) -> None:
    path = write(tmp_path, "assignments.csv", ASSIGNMENTS)
    report = import_assignments(None, path, election=small.election)
    assert (report.created, report.removed, report.unchanged) == (4, 0, 0)
    first = Assignment.objects.get(observer__code="G-1")
    assert first.starts_at == datetime.datetime(2026, 3, 15, 2, 0, tzinfo=datetime.UTC)
    assert first.ends_at == datetime.datetime(2026, 3, 15, 15, 0, tzinfo=datetime.UTC)
    ids = set(Assignment.objects.values_list("pk", flat=True))

    again = import_assignments(None, path, election=small.election)
    assert (again.created, again.removed, again.unchanged) == (0, 0, 4)
    assert set(Assignment.objects.values_list("pk", flat=True)) == ids  # untouched rows

    # O-1 now covers only 0201101, all day; G-1 and G-2 are not in the file and keep theirs.
    replan = (
        "organisation,observer,station,starts_at,ends_at\n"
        "osce,O-1,0201101,2026-03-15T07:00+05:00,2026-03-15T20:00+05:00\n"
    )
    report = import_assignments(None, write(tmp_path, "a.csv", replan), election=small.election)
    assert (report.created, report.removed, report.unchanged) == (1, 2, 0)
    assert _assignments() == {
        ("G-1", "0101101", "2026-03-15T02:00:00+00:00"),
        ("G-2", "0101102", "2026-03-15T02:00:00+00:00"),
        ("O-1", "0201101", "2026-03-15T02:00:00+00:00"),
    }
    entries = AuditEntry.objects.filter(action="assignments.import").order_by("pk")
    last = entries.last()
    assert last is not None and last.after is not None
    assert (last.after["added"], last.after["removed"]) == (1, 2)


def test_assignments_in_another_election_are_left_alone(
    tmp_path: Path, small: SmallElection, observers: None
) -> None:
    from tests.accreditation.conftest import assign
    from tests.web.factories import build_small_election

    other = build_small_election("second-round")
    jane = Observer.objects.get(code="O-1")
    assign(jane, other.station_101)
    replan = (
        "organisation,observer,station,starts_at,ends_at\n"
        "osce,O-1,0201101,2026-03-15T07:00+05:00,2026-03-15T20:00+05:00\n"
    )
    import_assignments(None, write(tmp_path, "a.csv", replan), election=small.election)
    assert Assignment.objects.filter(station__election=other.election).count() == 1


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("nobody,X,0101101,2026-03-15T07:00+05:00,2026-03-15T20:00+05:00", "'organisation'",
         "no organisation has the code 'nobody'"),
        ("golos,G-404,0101101,2026-03-15T07:00+05:00,2026-03-15T20:00+05:00", "'observer'",
         "'golos' has no observer with the code 'G-404'"),
        ("golos,G-1,9999999,2026-03-15T07:00+05:00,2026-03-15T20:00+05:00", "'station'",
         "test-referendum has no polling station with the code '9999999'"),
        ("golos,G-1,0101101,15.03.2026 07:00,2026-03-15T20:00+05:00", "'starts_at'",
         "expected a date and time in ISO 8601 with its UTC offset"),
        ("golos,G-1,0101101,2026-03-15T07:00,2026-03-15T20:00+05:00", "'starts_at'",
         "got '2026-03-15T07:00'"),
        ("golos,G-1,0101101,2026-03-15T20:00+05:00,2026-03-15T07:00+05:00", "'ends_at'",
         "expected the end after the start"),
        ("golos,G-1,0101101,2026-03-15T07:00+05:00,2026-03-15T20:00+05:00", "'station'",
         "the same assignment is already given at row 2"),
    ],
)  # fmt: skip
def test_bad_assignment_rows_are_refused(
    tmp_path: Path,
    small: SmallElection,
    observers: None,
    line: str,
    column: str,
    message: str,
) -> None:
    path = write(tmp_path, "assignments.csv", ASSIGNMENTS + line + "\n")
    refused(
        lambda: import_assignments(None, path, election=small.election),
        f"assignments.csv, row 6, column {column}",
        message,
    )


def test_every_problem_is_reported_at_once(
    tmp_path: Path, small: SmallElection, observers: None
) -> None:
    bad = ASSIGNMENTS.replace("0101102", "nowhere").replace("O-1,0201101", "O-404,0201101")
    text = refused(
        lambda: import_assignments(None, write(tmp_path, "a.csv", bad), election=small.election),
        "2 problem(s) found; nothing was imported",
        "row 3, column 'station'",
        "row 5, column 'observer'",
    )
    assert "row 2" not in text


def test_a_coordinator_assigns_only_their_organisations_observers(
    tmp_path: Path, small: SmallElection, people: People, observers: None
) -> None:
    coordinator = people.coordinator
    coordinator.membership.organisation = Organisation.objects.get(code="golos")
    coordinator.membership.save()
    path = write(tmp_path, "assignments.csv", ASSIGNMENTS)
    refused(
        lambda: import_assignments(coordinator, path, election=small.election),
        "row 4, column 'organisation': you may import only your own organisation's rows",
        "row 5, column 'organisation'",
    )
    own = "\n".join(ASSIGNMENTS.splitlines()[:3]) + "\n"
    report = import_assignments(coordinator, write(tmp_path, "a.csv", own), election=small.election)
    assert report.created == 2


# Commands ----------------------------------------------------------------------------------


def test_the_commands_import_the_three_files(
    tmp_path: Path, small: SmallElection, capsys: pytest.CaptureFixture[str]
) -> None:
    organisation("unrelated")
    call_command("import_organisations", str(write(tmp_path, "organisations.csv", ORGANISATIONS)))
    call_command(
        "import_observers",
        str(write(tmp_path, "observers.csv", OBSERVERS)),
        "--election",
        small.election.slug,
        "--no-progress",
    )
    call_command(
        "import_assignments",
        str(write(tmp_path, "assignments.csv", ASSIGNMENTS)),
        "--election",
        small.election.slug,
        "--no-progress",
    )
    out = capsys.readouterr().out
    assert "Organisations: 2 created, 0 updated, 0 unchanged." in out
    assert "Observers: 3 created, 0 updated, 0 unchanged." in out
    assert "Accreditations: 3 created, 0 given their number." in out
    assert "Assignments: 4 added, 0 removed, 0 unchanged." in out
    assert Assignment.objects.count() == 4


def test_a_dry_run_changes_nothing(
    tmp_path: Path, small: SmallElection, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command(
        "import_organisations",
        str(write(tmp_path, "organisations.csv", ORGANISATIONS)),
        "--dry-run",
    )
    assert "Dry run: nothing was changed" in capsys.readouterr().out
    assert not Organisation.objects.exists()


def test_command_errors_name_the_file_row_and_column(tmp_path: Path, small: SmallElection) -> None:
    path = write(tmp_path, "organisations.csv", ORGANISATIONS.replace("ngo,yes", "ngo,maybe"))
    with pytest.raises(CommandError, match=r"row 2, column 'share_with_mission'.*'maybe'"):
        call_command("import_organisations", str(path))
    with pytest.raises(CommandError, match="No election with the slug nope"):
        call_command("import_assignments", str(path), "--election", "nope")
    with pytest.raises(CommandError, match="file not found"):
        call_command("import_observers", str(tmp_path / "missing.csv"))
