"""Setting up elections: from arguments, from election.toml, from the command line."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from pollwatch.registry.elections import (
    ElectionSpecError,
    create_or_update_election,
    load_election_file,
)
from pollwatch.registry.models import BallotOption, Election, ProtocolTemplate
from pollwatch.registry.protocol_templates import load_template

pytestmark = pytest.mark.django_db

KZ: dict[str, Any] = {
    "slug": "kz-2026",
    "name": "Republican referendum 2026",
    "kind": "referendum",
    "date": datetime.date(2026, 3, 15),
    "time_zone": "Asia/Almaty",
    "languages": ["kk", "ru"],
    "template_key": "kz-referendum",
}

ELECTION_TOML = """
slug = "kz-2026"
name = "Republican referendum 2026"
kind = "referendum"
date = 2026-03-15
time_zone = "Asia/Almaty"
languages = ["kk", "ru"]
template = "kz-referendum"
seed = 42  # a tool's own note: ignored
"""


def options_of(election: Election) -> list[tuple[str, str, int]]:
    return list(election.options.values_list("line_key", "name", "position"))


def test_creates_the_election_and_its_ballot_options_loading_shipped_templates() -> None:
    assert not ProtocolTemplate.objects.exists()
    election = create_or_update_election(**KZ)
    election.refresh_from_db()
    assert election.slug == "kz-2026"
    assert election.kind == "referendum"
    assert election.date == datetime.date(2026, 3, 15)
    assert election.time_zone == "Asia/Almaty"
    assert election.languages == ["kk", "ru"]
    assert election.template.key == "kz-referendum"
    assert options_of(election) == [("yes", "Yes", 1), ("no", "No", 2)]


def test_candidates_become_ballot_options_in_protocol_order() -> None:
    election = create_or_update_election(
        **{**KZ, "slug": "ru-2018", "kind": "election", "template_key": "ru-president-2018"}
    )
    options = options_of(election)
    assert len(options) == 8
    assert options[3] == ("putin", "Putin Vladimir Vladimirovich", 4)


def test_rerun_updates_in_place_and_follows_the_template() -> None:
    first = create_or_update_election(**KZ)
    again = create_or_update_election(**KZ)
    assert again.pk == first.pk
    assert BallotOption.objects.count() == 2
    switched = create_or_update_election(
        **{**KZ, "name": "Renamed", "languages": ["ru"], "template_key": "ru-vote-2020"}
    )
    switched.refresh_from_db()
    assert switched.pk == first.pk
    assert (switched.name, switched.languages) == ("Renamed", ["ru"])
    assert switched.template.key == "ru-vote-2020"
    assert Election.objects.count() == 1
    assert options_of(switched) == [("yes", "Yes", 1), ("no", "No", 2)]


def test_options_no_longer_in_the_template_are_removed(tmp_path: Path) -> None:
    create_or_update_election(**KZ)
    referendum = tmp_path / "three.toml"
    referendum.write_text(
        """
key = "three-answers"
name = "Three answers"
kind = "referendum"
[[lines]]
key = "no"
number = "1"
option = true
label.en = "No"
[[lines]]
key = "maybe"
number = "2"
option = true
label.en = "Maybe"
""",
        encoding="utf-8",
    )
    load_template(referendum)
    election = create_or_update_election(**{**KZ, "template_key": "three-answers"})
    assert options_of(election) == [("no", "No", 1), ("maybe", "Maybe", 2)]


def test_loading_a_missing_template_leaves_edited_ones_alone() -> None:
    create_or_update_election(**KZ)
    ProtocolTemplate.objects.filter(key="kz-referendum").update(name="Edited in the admin")
    create_or_update_election(
        **{**KZ, "slug": "ru-2018", "kind": "election", "template_key": "ru-president-2018"}
    )
    assert ProtocolTemplate.objects.get(key="kz-referendum").name == "Edited in the admin"
    assert ProtocolTemplate.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("slug", "kz 2026", r"field slug: 'kz 2026' is not a slug"),
        ("slug", "x" * 101, r"field slug: .*up to 100"),
        ("name", "  ", r"field name: '  ' is not a name"),
        ("kind", "poll", r"field kind: 'poll' is not a kind of election; expected .*referendum"),
        ("date", "2026-03-15", r"field date: '2026-03-15' is not a date"),
        ("date", datetime.datetime(2026, 3, 15, 8, 0), r"field date: .* is not a date"),
        ("time_zone", "Mars/Olympus", r"field time_zone: 'Mars/Olympus' is not a known time"),
        ("time_zone", "/etc/passwd", r"field time_zone: '/etc/passwd' is not a known time"),
        ("time_zone", "", r"field time_zone: '' is not a known time zone"),
        ("languages", [], r"field languages: \[\] is not a list of languages; .*en, ru, kk"),
        ("languages", "kk", r"field languages: 'kk' is not a list"),
        ("languages", ["kk", "fr"], r"field languages: 'fr' is not a language of this site"),
        ("languages", ["kk", "kk"], r"field languages: \['kk', 'kk'\] lists a language twice"),
        ("template_key", "nope", r"field template: no protocol template 'nope'; .*kz-referendum"),
        (
            "template_key",
            "ru-president-2018",
            r"field template: .*has kind election; expected one of kind referendum",
        ),
    ],
)
def test_bad_fields_are_named_and_change_nothing(field: str, value: object, expected: str) -> None:
    with pytest.raises(ElectionSpecError, match=expected) as err:
        create_or_update_election(**{**KZ, field: value})
    assert err.value.field == ("template" if field == "template_key" else field)
    assert not Election.objects.exists()
    assert not BallotOption.objects.exists()


def test_a_rejected_update_leaves_the_election_as_it_was() -> None:
    create_or_update_election(**KZ)
    with pytest.raises(ElectionSpecError):
        create_or_update_election(**{**KZ, "name": "Changed", "time_zone": "Nowhere/Land"})
    assert Election.objects.get().name == "Republican referendum 2026"


def test_load_election_file(tmp_path: Path) -> None:
    path = tmp_path / "election.toml"
    path.write_text(ELECTION_TOML, encoding="utf-8")
    election = load_election_file(path)
    assert (election.slug, election.template.key) == ("kz-2026", "kz-referendum")
    assert election.date == datetime.date(2026, 3, 15)
    assert load_election_file(path).pk == election.pk


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('time_zone = "Asia/Almaty"\n', "", r"field time_zone: missing"),
        ("date = 2026-03-15", 'date = "2026-03-15"', r"field date: '2026-03-15' is not a date"),
        ("date = 2026-03-15", "date = 2026-03-15T08:00:00", r"field date: .* is not a date"),
        ('languages = ["kk", "ru"]', 'languages = ["kz"]', r"field languages: 'kz' is not a"),
        ('template = "kz-referendum"', 'template = "kz"', r"field template: no protocol"),
        ('kind = "referendum"', 'kind = "referendum', r"not valid TOML"),
    ],
)
def test_bad_election_files_name_the_file_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in ELECTION_TOML
    path = tmp_path / "election.toml"
    path.write_text(ELECTION_TOML.replace(old, new), encoding="utf-8")
    with pytest.raises(ElectionSpecError, match=expected) as err:
        load_election_file(path)
    assert str(err.value).startswith(f"{path}: ")
    assert not Election.objects.exists()


def test_a_missing_election_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ElectionSpecError, match=r"election\.toml: cannot read the file"):
        load_election_file(tmp_path / "election.toml")


def test_command_from_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "election.toml"
    path.write_text(ELECTION_TOML, encoding="utf-8")
    call_command("create_election", file=str(path))
    assert "Election kz-2026 saved" in capsys.readouterr().out
    assert Election.objects.get().slug == "kz-2026"


def test_command_from_options() -> None:
    call_command(
        "create_election",
        "--slug=ru-2020",
        "--name=All-Russian vote 2020",
        "--kind=referendum",
        "--date=2020-07-01",
        "--time-zone=Europe/Moscow",
        "--languages=ru, en",
        "--template=ru-vote-2020",
    )
    election = Election.objects.get()
    assert election.languages == ["ru", "en"]
    assert election.date == datetime.date(2020, 7, 1)
    assert options_of(election) == [("yes", "Yes", 1), ("no", "No", 2)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--slug=x"], r"missing --name, --kind, --date, --time-zone, --languages, --template"),
        (["--file=e.toml", "--slug=x"], r"either --file or the election's fields.*--slug"),
        (
            [
                "--slug=x",
                "--name=X",
                "--kind=referendum",
                "--date=15.03.2026",
                "--time-zone=UTC",
                "--languages=ru",
                "--template=kz-referendum",
            ],
            r"--date '15\.03\.2026' is not a date; expected YYYY-MM-DD",
        ),
        (
            [
                "--slug=x",
                "--name=X",
                "--kind=referendum",
                "--date=2026-03-15",
                "--time-zone=Almaty",
                "--languages=ru",
                "--template=kz-referendum",
            ],
            r"field time_zone: 'Almaty' is not a known time zone",
        ),
    ],
)
def test_command_refuses_bad_arguments(args: list[str], expected: str) -> None:
    with pytest.raises(CommandError, match=expected):
        call_command("create_election", *args)
    assert not Election.objects.exists()
