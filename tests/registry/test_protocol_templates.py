"""Loading protocol templates into the database, and rebuilding the spec from a row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pollwatch.core.protocol import TemplateError, parse_template
from pollwatch.registry.models import ProtocolTemplate
from pollwatch.registry.protocol_templates import (
    load_shipped_template,
    load_shipped_templates,
    load_template,
    load_templates,
    read_template,
    shipped_template_keys,
    shipped_template_paths,
    spec_of,
)

pytestmark = pytest.mark.django_db

SHIPPED_KEYS = ["kz-referendum", "ru-president-2018", "ru-vote-2020"]

TINY = """
key = "tiny"
name = "A tiny protocol"
kind = "referendum"

[[lines]]
key = "in_boxes"
number = "1"
label.en = "Ballots in the boxes"

[[lines]]
key = "yes"
number = "2"
option = true
label.en = "Yes"

[[relations]]
expression = "in_boxes == sum(options)"
severity = "error"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_templates_are_named_after_their_keys() -> None:
    assert shipped_template_keys() == SHIPPED_KEYS
    for path in shipped_template_paths():
        assert read_template(path)[0].key == path.stem


def test_load_template_creates_the_row_with_json_and_source(tmp_path: Path) -> None:
    path = write(tmp_path, "tiny.toml", TINY)
    row = load_template(path)
    assert (row.key, row.name) == ("tiny", "A tiny protocol")
    assert row.lines[1] == {"key": "yes", "number": "2", "label": {"en": "Yes"}, "option": True}
    assert row.relations == [
        {"expression": "in_boxes == sum(options)", "severity": "error", "description": {}}
    ]
    assert row.source == TINY


def test_loading_again_updates_in_place(tmp_path: Path) -> None:
    first = load_template(write(tmp_path, "tiny.toml", TINY))
    load_template(write(tmp_path, "tiny.toml", TINY))
    renamed = load_template(write(tmp_path, "tiny.toml", TINY.replace("A tiny", "A small")))
    assert renamed.pk == first.pk
    assert ProtocolTemplate.objects.filter(key="tiny").count() == 1
    assert ProtocolTemplate.objects.get(key="tiny").name == "A small protocol"


def test_load_shipped_template_loads_only_that_one() -> None:
    row = load_shipped_template("ru-vote-2020")
    assert row is not None
    assert row.key == "ru-vote-2020"
    assert list(ProtocolTemplate.objects.values_list("key", flat=True)) == ["ru-vote-2020"]
    assert load_shipped_template("no-such-template") is None


def test_spec_of_rebuilds_the_same_spec_as_the_file() -> None:
    for row, path in zip(load_shipped_templates(), shipped_template_paths(), strict=True):
        row.refresh_from_db()
        assert spec_of(row) == parse_template(path.read_text(encoding="utf-8"), str(path))


def test_spec_of_validates_what_the_admin_edited(tmp_path: Path) -> None:
    row = load_template(write(tmp_path, "tiny.toml", TINY))
    row.relations = [{"expression": "in_boxes == maybe", "severity": "error", "description": {}}]
    row.save()
    with pytest.raises(TemplateError, match=r"tiny.*database.*relation 1.*unknown line key.*maybe"):
        spec_of(row)


def test_spec_of_keeps_the_kind_and_refuses_a_bad_one(tmp_path: Path) -> None:
    row = load_template(write(tmp_path, "tiny.toml", TINY))
    assert row.kind == "referendum"
    assert spec_of(row).kind == "referendum"
    row.kind = "plebiscite"
    with pytest.raises(TemplateError, match=r"tiny.*database.*'kind' is 'plebiscite'"):
        spec_of(row)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TINY.replace("in_boxes == sum", "in_boxez == sum"), r"relation 1.*unknown.*in_boxez"),
        (TINY.replace('kind = "referendum"', 'kind = "referendum'), r"not valid TOML"),
        (TINY.replace('key = "yes"', 'key = "in_boxes"'), r"duplicate line key 'in_boxes'"),
    ],
)
def test_a_bad_file_changes_nothing(tmp_path: Path, text: str, expected: str) -> None:
    good = write(tmp_path, "good.toml", TINY.replace('"tiny"', '"good"'))
    bad = write(tmp_path, "bad.toml", text)
    with pytest.raises(TemplateError, match=expected) as err:
        load_templates([good, bad])
    assert str(err.value).startswith(str(bad))
    assert not ProtocolTemplate.objects.exists()


def test_two_files_with_one_key_are_refused(tmp_path: Path) -> None:
    first, second = write(tmp_path, "a.toml", TINY), write(tmp_path, "b.toml", TINY)
    with pytest.raises(TemplateError, match=r"b\.toml: template key tiny is also the key of"):
        load_templates([first, second])
    assert not ProtocolTemplate.objects.exists()


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"missing\.toml: cannot read the file"):
        load_template(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00key")
    with pytest.raises(TemplateError, match=r"binary\.toml: not UTF-8"):
        load_template(binary)


def test_command_without_files_loads_the_shipped_templates() -> None:
    call_command("load_templates")
    call_command("load_templates")  # idempotent
    assert list(ProtocolTemplate.objects.order_by("key").values_list("key", flat=True)) == (
        SHIPPED_KEYS
    )


def test_command_loads_given_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_templates", str(write(tmp_path, "tiny.toml", TINY)))
    assert "tiny: 2 lines, 1 relations" in capsys.readouterr().out
    assert list(ProtocolTemplate.objects.values_list("key", flat=True)) == ["tiny"]


def test_command_refuses_a_bad_file_changing_nothing(tmp_path: Path) -> None:
    good = write(tmp_path, "good.toml", TINY.replace('"tiny"', '"good"'))
    bad = write(tmp_path, "bad.toml", TINY.replace('severity = "error"', 'severity = "fatal"'))
    with pytest.raises(CommandError, match=r"bad\.toml: relation 1: severity is 'fatal'"):
        call_command("load_templates", str(good), str(bad))
    assert not ProtocolTemplate.objects.exists()


def test_the_cli_exits_non_zero_printing_the_error(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.toml", TINY.replace("in_boxes == sum", "in_boxez == sum"))
    env = {**os.environ, "POLLWATCH_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pollwatch", "load-templates", str(bad)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert f"{bad}: relation 1: " in result.stderr
    assert "unknown line key(s) in_boxez" in result.stderr
