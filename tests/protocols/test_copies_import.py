"""`pollwatch import-copies`: bulk import of protocol copies, all or nothing, idempotent."""

from __future__ import annotations

import csv
import datetime
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from pollwatch.accreditation.models import Organisation
from pollwatch.core.synth import LINE_KEYS, SyntheticElection, SynthParams, generate, write_files
from pollwatch.core.tlog import leaf_hash
from pollwatch.demo.election import load_synthetic_election
from pollwatch.ledger.appending import canonical_bytes
from pollwatch.ledger.database_check import check_database
from pollwatch.ledger.models import LogEntry, PendingEntry
from pollwatch.protocols import canonical
from pollwatch.protocols.copies_encoding import CopyEncoder
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.registry.models import Election, PollingStation

pytestmark = pytest.mark.django_db


@pytest.fixture
def synthetic(tmp_path: Path) -> tuple[Path, SyntheticElection]:
    election = generate(SynthParams.build(stations=300, seed=31))
    write_files(election, tmp_path)
    return tmp_path, election


@pytest.fixture
def loaded(synthetic: tuple[Path, SyntheticElection]) -> tuple[Path, SyntheticElection, Election]:
    directory, election = synthetic
    stored = load_synthetic_election(directory, official=False, copies=False, crosscheck=False)
    return directory, election, stored


def _import(election: Election, path: Path, *options: str) -> str:
    out = StringIO()
    call_command(
        "import_copies",
        str(path),
        *options,
        election=election.slug,
        no_progress=True,
        stdout=out,
    )
    return out.getvalue()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _write(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=header or list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_imports_every_copy_as_written(
    loaded: tuple[Path, SyntheticElection, Election],
) -> None:
    directory, synthetic, election = loaded
    printed = _import(election, directory / "copies.csv")
    observation = synthetic.observation
    assert f"{observation.copies:,} imported, 0 already stored" in printed
    stored = {
        str(copy.id): copy
        for copy in ProtocolCopy.objects.select_related("station", "organisation", "observer")
    }
    assert sorted(stored) == sorted(observation.copy_id.tolist())
    for row in _rows(directory / "copies.csv"):
        copy = stored[row["id"]]
        assert copy.election_id == election.pk
        assert copy.station.code == row["station"]
        assert copy.organisation.code == row["organisation"]
        assert copy.observer.code == row["observer"]
        assert copy.observer.organisation_id == copy.organisation_id
        assert copy.figures == {key: int(row[key]) for key in LINE_KEYS}
        assert copy.all_members_signed == (row["all_members_signed"] == "yes")
        assert copy.certified == (row["certified"] == "yes")
        assert copy.supersedes_id is None and copy.received_at is not None
        # The SHA-256 a submission of this very copy would carry.
        body = canonical.copy_body(
            election_slug=election.slug,
            station_code=row["station"],
            figures=copy.figures,
            all_members_signed=copy.all_members_signed,
            certified=copy.certified,
            photo_sha256s=[],
            supersedes=None,
        )
        assert copy.body_sha256 == canonical.body_sha256(body)


def test_the_findings_are_recomputed_unless_asked_not_to(
    loaded: tuple[Path, SyntheticElection, Election], tmp_path: Path
) -> None:
    directory, _synthetic, election = loaded
    rows = _rows(directory / "copies.csv")
    printed = _import(election, _write(tmp_path / "some.csv", rows[:5]), "--no-crosscheck")
    assert "Findings" not in printed and not election.findings.exists()
    printed = _import(election, directory / "copies.csv")
    assert "Findings: " in printed
    kinds = set(election.findings.values_list("kind", flat=True))
    # No official results were imported here: every station with copies lacks one.
    assert "missing-official-result" in kinds
    assert "Findings" not in _import(election, directory / "copies.csv")  # nothing new


def test_reimporting_skips_what_is_stored(
    loaded: tuple[Path, SyntheticElection, Election],
) -> None:
    directory, synthetic, election = loaded
    _import(election, directory / "copies.csv")
    before = list(ProtocolCopy.objects.order_by("id").values_list("id", "received_at"))
    printed = _import(election, directory / "copies.csv")
    assert f"0 imported, {synthetic.observation.copies:,} already stored" in printed
    assert list(ProtocolCopy.objects.order_by("id").values_list("id", "received_at")) == before


def test_a_file_with_some_copies_stored_adds_the_others(
    loaded: tuple[Path, SyntheticElection, Election], tmp_path: Path
) -> None:
    directory, _synthetic, election = loaded
    rows = _rows(directory / "copies.csv")
    _import(election, _write(tmp_path / "first.csv", rows[:10]))
    printed = _import(election, directory / "copies.csv")
    assert f"{len(rows) - 10:,} imported, 10 already stored" in printed
    assert ProtocolCopy.objects.count() == len(rows)


@pytest.mark.parametrize(
    ("station", "organisation"),
    [
        ("1", "ngo"),
        ("07/15", "a-b"),
        ('a "quoted" code', "back\\slash"),
        ("Алматы-12", "Әділ"),
        ("tab\there", "line\nbreak"),
        ("emoji 🗳", "{braces}"),
    ],
)
def test_body_and_log_record_are_the_canonical_ones(station: str, organisation: str) -> None:
    election = Election(slug='slug-with-"true"-{0}')
    figures = {key: 10**i for i, key in enumerate(LINE_KEYS)}
    received_at = datetime.datetime(2026, 3, 15, 22, 5, 7, 123456, tzinfo=datetime.UTC)
    encoder = CopyEncoder(election, LINE_KEYS, received_at)
    copy_id = uuid.UUID("5f0c1b3e-9a4d-4c2b-8e7f-0123456789ab")
    for signed, certified in ((True, False), (False, True), (True, True), (False, False)):
        body, record = encoder.texts(
            str(copy_id),
            station,
            organisation,
            signed,
            certified,
            [str(figures[key]) for key in LINE_KEYS],
        )
        expected_body = canonical.copy_body(
            election_slug=election.slug,
            station_code=station,
            figures=figures,
            all_members_signed=signed,
            certified=certified,
            photo_sha256s=[],
            supersedes=None,
        )
        assert body.encode() == canonical.canonical_bytes(expected_body)
        copy = ProtocolCopy(
            id=copy_id,
            election=election,
            station=PollingStation(code=station),
            organisation=Organisation(code=organisation),
            figures=figures,
            all_members_signed=signed,
            certified=certified,
            received_at=received_at,
        )
        assert record.encode() == canonical_bytes(canonical.copy_record(copy, photo_sha256s=[]))


def test_every_imported_copy_is_sealed_in_the_log_once(
    loaded: tuple[Path, SyntheticElection, Election],
) -> None:
    directory, _synthetic, election = loaded
    _import(election, directory / "copies.csv")
    entries = {
        entry.source_pk: entry
        for entry in LogEntry.objects.filter(election=election, kind=canonical.RECORD_KIND)
    }
    copies = ProtocolCopy.objects.select_related("election", "station", "organisation")
    assert sorted(entries) == sorted(str(copy.id) for copy in copies)
    for copy in copies:
        entry = entries[str(copy.id)]
        data = canonical_bytes(canonical.copy_record(copy, photo_sha256s=[]))
        assert bytes(entry.canonical) == data
        assert bytes(entry.leaf_hash) == leaf_hash(data)
    pending = set(PendingEntry.objects.values_list("entry_id", flat=True))
    assert {entry.pk for entry in entries.values()} <= pending
    _import(election, directory / "copies.csv")  # skipped copies are not logged again
    assert LogEntry.objects.filter(kind=canonical.RECORD_KIND).count() == len(entries)
    # The ledger's own check: every copy logged, each as its record builder rebuilds it.
    assert check_database(election).problems == []


# --- bad input: a precise error, nothing stored ---------------------------------------------


def _changed(rows: list[dict[str, str]], index: int, **cells: str) -> list[dict[str, str]]:
    changed = [dict(row) for row in rows]
    changed[index].update(cells)
    return changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"station": "999999"}, "row 4, column 'station': no polling station '999999'"),
        ({"organisation": "nobody"}, "row 4, column 'organisation': no organisation"),
        ({"observer": "ghost-1"}, "row 4, column 'observer': no observer 'ghost-1'"),
        ({"id": "not-a-uuid"}, "row 4, column 'id': expected a UUID"),
        ({"certified": "maybe"}, "row 4, column 'certified': expected yes or no"),
        ({"yes": "-4"}, "row 4, column 'yes': -4 is negative"),
        ({"no": "12.5"}, "row 4, column 'no': expected a whole number, got '12.5'"),
        ({"invalid": ""}, "row 4, column 'invalid': the figure is missing"),
        ({"invalid": "seven"}, "row 4, column 'invalid': expected a whole number"),
        ({"registered": "99999999999"}, "row 4, column 'registered': 99999999999 is absurdly"),
        ({"cancelled": "500000"}, "row 4, column 'cancelled': 500000 is more than"),
    ],
)
def test_bad_cells_are_refused_and_nothing_is_stored(
    loaded: tuple[Path, SyntheticElection, Election],
    tmp_path: Path,
    change: dict[str, str],
    message: str,
) -> None:
    directory, _synthetic, election = loaded
    rows = _changed(_rows(directory / "copies.csv"), 2, **change)
    with pytest.raises(CommandError) as error:
        _import(election, _write(tmp_path / "bad.csv", rows))
    assert "nothing was imported" in str(error.value)
    assert f"bad.csv, {message}" in str(error.value)
    assert not ProtocolCopy.objects.exists()


def test_an_observer_of_another_organisation_is_refused(
    loaded: tuple[Path, SyntheticElection, Election], tmp_path: Path
) -> None:
    directory, _synthetic, election = loaded
    rows = _rows(directory / "copies.csv")
    other = next(row for row in rows if row["organisation"] != rows[0]["organisation"])
    bad = _changed(rows, 0, organisation=other["organisation"])
    with pytest.raises(CommandError, match="row 2, column 'observer': no observer"):
        _import(election, _write(tmp_path / "bad.csv", bad))
    assert not ProtocolCopy.objects.exists()


def test_every_problem_is_reported_at_once(
    loaded: tuple[Path, SyntheticElection, Election], tmp_path: Path
) -> None:
    directory, _synthetic, election = loaded
    rows = _changed(_rows(directory / "copies.csv"), 0, yes="x")
    rows = _changed(rows, 5, id="nope")
    rows = _changed(rows, 9, station="0")
    with pytest.raises(CommandError) as error:
        _import(election, _write(tmp_path / "bad.csv", rows))
    text = str(error.value)
    # The cells first: a file with bad cells is not looked up in the registry.
    assert text.startswith("2 problems found; nothing was imported:")
    assert "row 2, column 'yes'" in text and "row 7, column 'id'" in text
    # The count agrees with its noun in each language (Russian: 1 ошибка, 2 ошибки, 5 ошибок).
    for language, first_line in [
        ("ru", "Найдены 2 ошибки; ничего не импортировано:"),
        ("kk", "2 қате табылды; ештеңе импортталған жоқ:"),
    ]:
        with translation.override(language), pytest.raises(CommandError) as error:
            _import(election, tmp_path / "bad.csv")
        assert str(error.value).startswith(first_line), language


def test_the_same_id_twice_in_a_file_is_refused(
    loaded: tuple[Path, SyntheticElection, Election], tmp_path: Path
) -> None:
    directory, _synthetic, election = loaded
    rows = _rows(directory / "copies.csv")
    rows = _changed(rows, 6, id=rows[1]["id"])
    with pytest.raises(CommandError) as error:
        _import(election, _write(tmp_path / "bad.csv", rows))
    assert f"row 8, column 'id': copy {rows[1]['id']} is already in row 3" in str(error.value)
    assert not ProtocolCopy.objects.exists()


def test_a_stored_id_with_another_body_is_refused(
    loaded: tuple[Path, SyntheticElection, Election], tmp_path: Path
) -> None:
    directory, _synthetic, election = loaded
    rows = _rows(directory / "copies.csv")
    _import(election, directory / "copies.csv")
    before = list(ProtocolCopy.objects.order_by("id").values_list("id", "figures"))
    changed = _changed(rows, 3, yes=str(int(rows[3]["yes"]) + 1))
    extra = {**rows[0], "id": str(uuid.uuid4())}
    with pytest.raises(CommandError) as error:
        _import(election, _write(tmp_path / "bad.csv", [*changed, extra]))
    assert "row 5, column 'id': a different protocol copy is already stored with the id " in str(
        error.value
    )
    assert list(ProtocolCopy.objects.order_by("id").values_list("id", "figures")) == before


@pytest.mark.parametrize(
    ("header_change", "message"),
    [
        (lambda h: [c for c in h if c != "not_counted"], "column 'not_counted': expected this"),
        (lambda h: [*h, "spoilt"], "column 'spoilt': unknown column"),
    ],
)
def test_a_wrong_header_is_refused(
    loaded: tuple[Path, SyntheticElection, Election],
    tmp_path: Path,
    header_change: object,
    message: str,
) -> None:
    directory, _synthetic, election = loaded
    rows = _rows(directory / "copies.csv")
    header = header_change(list(rows[0]))  # type: ignore[operator]
    with pytest.raises(CommandError, match=message):
        _import(election, _write(tmp_path / "bad.csv", rows, header))
    assert not ProtocolCopy.objects.exists()


def test_a_short_row_and_an_unknown_election_are_refused(
    loaded: tuple[Path, SyntheticElection, Election], tmp_path: Path
) -> None:
    directory, _synthetic, election = loaded
    lines = (directory / "copies.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = ",".join(lines[2].split(",")[:5])
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="row 3: expected 16 cells as in the header, found 5"):
        _import(election, short)
    with pytest.raises(CommandError, match="No election with the slug nope"):
        call_command("import_copies", str(short), election="nope")
    assert not ProtocolCopy.objects.exists()


def test_a_row_written_loosely_but_correctly_is_accepted(
    loaded: tuple[Path, SyntheticElection, Election], tmp_path: Path
) -> None:
    directory, _synthetic, election = loaded
    rows = _rows(directory / "copies.csv")[:2]
    copy_id = rows[0]["id"]
    loose = _changed(
        rows,
        0,
        id="{" + copy_id.upper() + "}",
        all_members_signed=" Yes",
        certified="NO ",
        yes="00" + rows[0]["yes"],
    )
    _import(election, _write(tmp_path / "loose.csv", loose))
    copy = ProtocolCopy.objects.get(pk=copy_id)
    assert copy.figures["yes"] == int(rows[0]["yes"])
    assert (copy.all_members_signed, copy.certified) == (True, False)
    # The same copy written plainly is the same copy: skipped on re-import.
    plain = _changed(rows, 0, all_members_signed="yes", certified="no")
    assert "0 imported, 2 already stored" in _import(election, _write(tmp_path / "p.csv", plain))


def test_an_xlsx_file_imports_the_same_copies(
    loaded: tuple[Path, SyntheticElection, Election], tmp_path: Path
) -> None:
    directory, synthetic, election = loaded
    write_files(synthetic, tmp_path / "xlsx", "xlsx")
    printed = _import(election, tmp_path / "xlsx" / "copies.xlsx")
    assert f"{synthetic.observation.copies:,} imported" in printed
    csv_election = ProtocolCopy.objects.order_by("id").values_list("id", "body_sha256")
    stored = list(csv_election)
    ProtocolCopy.objects.all().delete()
    _import(election, directory / "copies.csv", "--no-crosscheck")
    assert list(csv_election) == stored
