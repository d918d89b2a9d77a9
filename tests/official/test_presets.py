"""The Russian presets on a few rows in the CEC's layout: places named as the structure import
names them (region/tik/uik), commission totals by name path, and mapping mistakes."""

from __future__ import annotations

import datetime
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from pollwatch.core.structure.mapping import MappingError
from pollwatch.core.tabular import InputError
from pollwatch.findings.models import Finding
from pollwatch.official.importing import file_sha256, import_official, read_official
from pollwatch.official.models import OfficialResult
from pollwatch.registry.models import Commission, Election
from pollwatch.registry.protocol_templates import load_shipped_template

pytestmark = pytest.mark.django_db

HEADER = (
    'name,region,tik,uik,"Число участников голосования, включенных в список участников '
    'голосования на момент окончания голосования","Число бюллетеней, выданных участникам '
    'голосования","Число бюллетеней, содержащихся в ящиках для голосования",'
    "Число недействительных бюллетеней,ДА,НЕТ,url"
)
ROWS = [
    "Vote,Region A,TIK 1,УИК №1,1000,600,600,10,400,190,http://x",
    "Vote,Region A,TIK 1,УИК №2,2000,900,899,9,700,190,http://x",
    "Vote,Region B,TIK 2,УИК №3,1500,700,700,0,500,200,http://x",
]


@pytest.fixture
def election(tmp_path: Path) -> Election:
    template = load_shipped_template("ru-vote-2020")
    assert template is not None
    election = Election.objects.create(
        slug="ru-2020", name="Vote 2020", kind="referendum", date=datetime.date(2020, 7, 1),
        template=template,
    )  # fmt: skip
    path = tmp_path / "structure.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    call_command(
        "import_structure", "--election=ru-2020", "--preset=ru-2020", f"--stations={path}",
        "--no-progress", stdout=StringIO(),
    )  # fmt: skip
    return election


def _import(election: Election, path: Path, **options: object) -> object:
    table = read_official(path, election, **options)  # type: ignore[arg-type]
    return import_official(election, table, source=str(path), sha256=file_sha256(path))


def test_stations_by_their_names_path(election: Election, tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    _import(election, path, preset="ru-2020")
    result = OfficialResult.objects.get(station__code="Region A/TIK 1/2")
    assert result.figures == {
        "registered": 2000, "ballots_issued": 900, "ballots_in_boxes": 899, "invalid": 9,
        "yes": 700, "no": 190,
    }  # fmt: skip


def test_commission_totals_by_name_path_at_any_level(election: Election, tmp_path: Path) -> None:
    path = tmp_path / "totals.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                "Vote,Region A,,,3000,1500,1499,19,1100,380,http://x",
                "Vote,Region A,TIK 1,,3000,1500,1499,19,1100,380,http://x",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    _import(election, path, preset="ru-2020", totals=True)
    assert OfficialResult.objects.get(commission__code="Region A").figures["yes"] == 1100
    assert OfficialResult.objects.get(commission__code="Region A/TIK 1").figures["no"] == 380


def test_a_changed_commission_total_is_a_silent_change(election: Election, tmp_path: Path) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(f"{HEADER}\nVote,Region B,,,1500,700,700,0,500,200,x\n", encoding="utf-8")
    second.write_text(f"{HEADER}\nVote,Region B,,,1500,700,700,0,520,180,x\n", encoding="utf-8")
    _import(election, first, preset="ru-2020", totals=True)
    _import(election, second, preset="ru-2020", totals=True)
    region = Commission.objects.get(code="Region B")
    changes = Finding.objects.filter(kind="silent-change", commission=region).order_by("lines")
    assert [(f.lines, f.right_value, f.left_value, f.delta) for f in changes] == [
        (["no"], 200, 180, -20),
        (["yes"], 500, 520, 20),
    ]


def test_a_station_missing_a_level_name_is_refused(election: Election, tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text(
        f"{HEADER}\nVote,Region A,,УИК №1,1000,600,600,10,400,190,x\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="row 2, column 'tik': expected a name"):
        _import(election, path, preset="ru-2020")


def test_a_mapping_for_another_template_or_with_unknown_lines(
    election: Election, tmp_path: Path
) -> None:
    path = tmp_path / "results.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="written for template 'ru-president-2018'"):
        _import(election, path, preset="ru-2018")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('code = "uik"\n[lines]\nturnout = "ДА"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="unknown line keys turnout"):
        _import(election, path, mapping_file=mapping)
    assert not OfficialResult.objects.exists()


def test_json_that_is_not_a_table_is_refused(election: Election, tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"code": "x"}', encoding="utf-8")
    with pytest.raises(InputError, match="expected an array of objects"):
        _import(election, path)
    keys = ["registered", "ballots_issued", "ballots_in_boxes", "invalid", "no"]
    row = {"code": "x", **dict.fromkeys(keys, 1), "yes": [1]}
    path.write_text(json.dumps([row]), encoding="utf-8")
    with pytest.raises(InputError, match="row 2, column 'yes': expected a value, got an array"):
        _import(election, path)
