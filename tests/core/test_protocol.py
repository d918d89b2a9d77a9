"""Protocol templates: parsing and validation of the TOML, and the shipped templates."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pollwatch.core import synth
from pollwatch.core.protocol import (
    ProtocolTemplateSpec,
    TemplateError,
    parse_template,
    template_from_data,
)
from tests.core.shipped_templates import SHIPPED, shipped

VALID = """
key = "tiny"
name = "A tiny protocol"
kind = "referendum"

[[lines]]
key = "in_boxes"
number = "1"
label.en = "Ballots in the boxes"
label.ru = "Бюллетени в ящиках"

[[lines]]
key = "yes"
number = "2"
option = true
label.en = "Yes"

[[lines]]
key = "no"
number = "3"
option = true
label.en = "No"

[[relations]]
expression = "in_boxes == sum(options)"
severity = "error"
description.en = "Every ballot is a vote"

[[relations]]
expression = "yes >= 0"
severity = "warning"
"""


def test_parses_a_valid_template() -> None:
    spec = parse_template(VALID, "tiny.toml")
    assert (spec.key, spec.name, spec.kind) == ("tiny", "A tiny protocol", "referendum")
    assert spec.line_keys == ("in_boxes", "yes", "no")
    assert spec.option_keys == ("yes", "no")
    assert spec.line("in_boxes").labels == {
        "en": "Ballots in the boxes",
        "ru": "Бюллетени в ящиках",
    }
    assert spec.line("in_boxes").label("ru") == "Бюллетени в ящиках"
    assert spec.line("yes").label("kk") == "Yes"  # falls back to English
    first, second = spec.relations
    assert (first.severity, second.severity) == ("error", "warning")
    assert first.description == {"en": "Every ballot is a vote"}
    assert second.description == {}
    assert first.parsed.line_keys == ("in_boxes", "yes", "no")
    assert first.evaluate({"in_boxes": [3, 4], "yes": [2, 2], "no": [1, 1]}).holds.tolist() == [
        True,
        False,
    ]


def test_data_round_trips_through_plain_dicts() -> None:
    spec = parse_template(VALID, "tiny.toml")
    data = {
        "key": spec.key,
        "name": spec.name,
        "kind": spec.kind,
        "lines": spec.lines_data(),
        "relations": spec.relations_data(),
    }
    assert template_from_data(data, "db") == spec


def edited(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key = [", r"tiny\.toml: not valid TOML"),
        (edited('key = "tiny"\n', ""), r"template field 'key' is missing"),
        (edited('key = "tiny"', 'key = "Tiny Template"'), r"template key 'Tiny Template'"),
        (edited('name = "A tiny protocol"', "name = 3"), r"field 'name' is 3"),
        (edited('kind = "referendum"', 'kind = "poll"'), r"'kind' is 'poll'.*election"),
        (edited('kind = "referendum"', 'kind = "referendum"\nauthor = "x"'), r"unknown.*author"),
        (
            'key = "t"\nname = "T"\nkind = "election"\n',
            r"no protocol lines; expected at least one \[\[lines\]\]",
        ),
        (
            edited('key = "yes"', 'key = "in_boxes"'),
            r"line 2 \('in_boxes'\).*duplicate line key 'in_boxes' \(also line 1\)",
        ),
        (edited('number = "2"', 'number = "1"'), r"line 2 \('yes'\).*number '1'.*'in_boxes'"),
        (edited('key = "in_boxes"', 'key = "In Boxes"'), r"line 1 \('In Boxes'\).*not valid"),
        (edited('key = "in_boxes"', 'key = "lambda"'), r"line 1 \('lambda'\).*keyword"),
        (edited('key = "in_boxes"', 'key = "_hidden"'), r"line 1 \('_hidden'\).*not valid"),
        (edited('label.en = "Yes"\n', ""), r"line 2 \('yes'\) field 'label' is missing"),
        (edited('key = "in_boxes"', 'key = "options"'), r"line 1 \('options'\)"),
        (edited('label.en = "Yes"', 'label.ru = "Да"'), r"line 2 \('yes'\).*no English label"),
        (edited('label.en = "Yes"', 'label.en = ""'), r"line 2 \('yes'\).*label'\.en is ''"),
        (edited('label.en = "Yes"', 'label.EN = "Yes"'), r"'EN' is not a language code"),
        (edited('number = "2"', "number = 2"), r"line 2 \('yes'\) field 'number' is 2"),
        (edited('number = "2"\n', 'number = "2"\nlable.en = "x"\n'), r"line 2.*unknown.*lable"),
        (edited("option = true", 'option = "yes"'), r"'option' is 'yes'; expected true or false"),
        (
            VALID.replace("option = true\n", ""),
            r"no ballot-option line; expected at least one line with option = true",
        ),
        (
            edited('expression = "yes >= 0"', 'expression = "yes >= maybe"'),
            r"tiny\.toml: relation 2: .*unknown line key\(s\) maybe",
        ),
        (
            edited('expression = "yes >= 0"', "expression = \"__import__('os') == 1\""),
            r"relation 2: .*a call other than sum\(options\)",
        ),
        (
            edited('expression = "yes >= 0"', 'expression = "yes ** 2 >= 0"'),
            r"relation 2: .*the operator \*\* is not allowed",
        ),
        (edited('severity = "warning"', 'severity = "fatal"'), r"relation 2: severity is 'fatal'"),
        (edited('severity = "warning"\n', ""), r"relation 2: severity is missing"),
        (edited('expression = "yes >= 0"', "expression = 0"), r"relation 2 field 'expression'"),
        (edited('description.en = "Every', 'descr.en = "Every'), r"relation 1: unknown.*descr"),
        (VALID + "\n[[relations]]\n", r"relation 3 field 'expression' is missing"),
    ],
)
def test_bad_templates_are_refused_saying_where_and_what(text: str, expected: str) -> None:
    with pytest.raises(TemplateError, match=expected) as err:
        parse_template(text, "tiny.toml")
    assert str(err.value).startswith("tiny.toml: ")


def test_relations_must_be_tables() -> None:
    with pytest.raises(TemplateError, match="'relations' is not a list"):
        parse_template('relations = "yes == no"\n' + VALID.split("[[relations]]")[0], "t.toml")


def test_shipped_kz_referendum_has_the_agreed_lines_and_relations() -> None:
    spec = shipped("kz-referendum")
    assert spec.key == "kz-referendum"
    assert spec.kind == "referendum"
    # The synthetic-data generator writes its protocols under this template: exactly its
    # lines, in this order.
    assert spec.line_keys == synth.LINE_KEYS
    assert spec.key == synth.TEMPLATE_KEY
    assert spec.option_keys == ("yes", "no")
    assert {(r.expression, r.severity) for r in spec.relations} == {
        ("ballots_received == issued_in_station + issued_outside + cancelled", "error"),
        ("ballots_in_boxes == invalid + not_counted + yes + no", "error"),
        ("ballots_in_boxes <= issued_in_station + issued_outside", "error"),
        ("issued_in_station + issued_outside <= registered", "error"),
    }
    for line in spec.lines:
        assert set(line.labels) == {"en", "ru", "kk"}, line.key


def test_kz_referendum_relations_catch_a_stuffed_box() -> None:
    spec = shipped("kz-referendum")
    honest = dict(
        registered=1000,
        ballots_received=800,
        issued_in_station=600,
        issued_outside=20,
        cancelled=180,
        ballots_in_boxes=620,
        invalid=10,
        not_counted=5,
        yes=400,
        no=205,
    )
    stuffed = {**honest, "ballots_in_boxes": 650, "yes": 430}
    values = {key: np.array([honest[key], stuffed[key]]) for key in spec.line_keys}
    broken = {r.expression: r.evaluate(values).holds.tolist() for r in spec.relations}
    assert broken["ballots_in_boxes <= issued_in_station + issued_outside"] == [True, False]
    assert all(holds[0] for holds in broken.values())


def test_every_shipped_template_parses() -> None:
    keys = {shipped(path.stem).key for path in SHIPPED.glob("*.toml")}
    assert keys == {"kz-referendum", "ru-president-2018", "ru-vote-2020"}
    for key in keys:
        assert key == shipped(key).key  # file name and key agree


def read_zipped_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with zipfile.ZipFile(path) as archive, archive.open(archive.namelist()[0]) as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8"))
        header = next(reader)
        return header, list(reader)


def check_publication(
    spec: ProtocolTemplateSpec, path: Path, first_column: int, stations: int
) -> None:
    """Every error relation holds at every station; the columns are the template's lines."""
    header, rows = read_zipped_csv(path)
    assert len(rows) == stations
    columns = header[first_column : first_column + len(spec.lines)]
    # The publication's column titles are the protocol's Russian wording, in the same order.
    assert [c.casefold() for c in columns] == [ln.labels["ru"].casefold() for ln in spec.lines]
    figures = np.array([row[first_column : first_column + len(spec.lines)] for row in rows])
    values = {key: figures[:, i].astype(np.int64) for i, key in enumerate(spec.line_keys)}
    errors = [r for r in spec.relations if r.severity == "error"]
    assert errors
    for relation in errors:
        result = relation.evaluate(values)
        assert result.holds.shape == (stations,)
        assert result.holds.all(), (relation.expression, int((~result.holds).sum()))


@pytest.mark.slow
def test_ru_president_2018_relations_hold_at_every_station(shared_data: Path) -> None:
    spec = shipped("ru-president-2018")
    assert len(spec.lines) == 20
    assert [ln.number for ln in spec.lines] == [str(n) for n in range(1, 21)]
    assert len(spec.option_keys) == 8
    check_publication(spec, shared_data / "russia" / "2018.csv.zip", 3, 97_699)


@pytest.mark.slow
def test_ru_vote_2020_relations_hold_at_every_station(shared_data: Path) -> None:
    spec = shipped("ru-vote-2020")
    assert spec.line_keys == (
        "registered",
        "ballots_issued",
        "ballots_in_boxes",
        "invalid",
        "yes",
        "no",
    )
    check_publication(spec, shared_data / "russia" / "2020.csv.zip", 4, 96_765)


@pytest.mark.slow
def test_the_2018_warning_flags_the_few_stations_it_should(shared_data: Path) -> None:
    spec = shipped("ru-president-2018")
    (warning,) = [r for r in spec.relations if r.severity == "warning"]
    _, rows = read_zipped_csv(shared_data / "russia" / "2018.csv.zip")
    figures = np.array([row[3:23] for row in rows]).astype(np.int64)
    values = {key: figures[:, i] for i, key in enumerate(spec.line_keys)}
    result = warning.evaluate(values)
    # Documented in the template: it fails at 6 stations, which is why it is only a warning.
    assert int((~result.holds).sum()) == 6
    assert (result.delta[~result.holds] > 0).all()


STATISTICS = """
[statistics]
registered = "in_boxes + 10"
issued = "in_boxes"
counted = "sum(options)"
"""


def test_statistics_say_what_the_forensic_tests_read() -> None:
    spec = parse_template(VALID + STATISTICS, "tiny.toml")
    assert spec.statistics is not None
    figures = {"in_boxes": np.array([100, 50]), "yes": np.array([60, 20]), "no": [30, 29]}
    assert spec.statistics.registered.evaluate(figures).tolist() == [110, 60]
    assert spec.statistics.issued.evaluate(figures).tolist() == [100, 50]
    assert spec.statistics.counted.evaluate(figures).tolist() == [90, 49]
    again = template_from_data({**_data_of(spec), "statistics": spec.statistics.data()}, "db")
    assert again.statistics == spec.statistics


def test_statistics_are_optional() -> None:
    assert parse_template(VALID, "tiny.toml").statistics is None


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('registered = "in_boxes"\nissued = "in_boxes"', "statistics field 'counted'"),
        (
            'registered = "x"\nissued = "in_boxes"\ncounted = "yes"',
            "statistics field 'registered': quantity 'x': unknown line key(s) x",
        ),
        (
            'registered = "in_boxes"\nissued = "in_boxes == 1"\ncounted = "yes"',
            "statistics field 'issued': quantity 'in_boxes == 1': a second comparison",
        ),
        (
            'registered = "in_boxes"\nissued = "in_boxes"\ncounted = "7"',
            "statistics field 'counted': quantity '7': no protocol line",
        ),
        (
            'registered = "in_boxes"\nissued = "in_boxes"\ncounted = "yes"\nvalid = "yes"',
            "unknown field(s) valid",
        ),
    ],
)
def test_bad_statistics_are_refused_saying_which_and_why(table: str, expected: str) -> None:
    with pytest.raises(TemplateError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        parse_template(VALID + "\n[statistics]\n" + table + "\n", "tiny.toml")


def test_every_shipped_template_says_what_the_forensic_tests_read() -> None:
    for path in SHIPPED.glob("*.toml"):
        assert shipped(path.stem).statistics is not None, path.name


def _data_of(spec: ProtocolTemplateSpec) -> dict[str, object]:
    return {
        "key": spec.key,
        "name": spec.name,
        "kind": spec.kind,
        "lines": spec.lines_data(),
        "relations": spec.relations_data(),
    }
