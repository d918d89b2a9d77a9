"""The Russian and Kazakh catalogues: complete, placeholders intact, .mo compiled from the .po."""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import pollwatch

LOCALE = Path(pollwatch.__file__).parent / "locale"
LANGUAGES = ["ru", "kk"]
_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdiouxXeEfFgGcr%]")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


@dataclass
class Entry:
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text.strip()[1:-1])


def _entries(po: Path) -> list[Entry]:
    """The entries of a .po file (the header excluded), obsolete ones skipped."""
    entries = []
    for block in po.read_text(encoding="utf-8").strip().split("\n\n"):
        entry, key = Entry(), ""
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry.fields[key] += _unquote(line)
            else:
                key, value = line.split(" ", 1)
                entry.fields[key] = _unquote(value)
        if entry.fields and entry.fields["msgid"]:
            entries.append(entry)
    return entries


def _translations(entry: Entry) -> dict[str | tuple[str, int], str]:
    """Keyed as gettext keys its catalogue: "context\x04msgid", and (msgid, n) for plurals."""
    msgid = entry.fields["msgid"]
    if "msgctxt" in entry.fields:
        msgid = f"{entry.fields['msgctxt']}\x04{msgid}"
    if "msgid_plural" not in entry.fields:
        return {msgid: entry.fields["msgstr"]}
    return {
        (msgid, int(key[7:-1])): value
        for key, value in entry.fields.items()
        if key.startswith("msgstr[")
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language: str) -> None:
    entries = _entries(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert entries
    fuzzy = [e.fields["msgid"] for e in entries if "fuzzy" in e.flags]
    empty = [key for e in entries for key, text in _translations(e).items() if not text.strip()]
    assert fuzzy == []
    assert empty == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language: str) -> None:
    for entry in _entries(LOCALE / language / "LC_MESSAGES" / "django.po"):
        if "python-format" not in entry.flags:
            continue
        source = sorted(
            _PLACEHOLDER.findall(entry.fields.get("msgid_plural", entry.fields["msgid"]))
        )
        for key, text in _translations(entry).items():
            assert sorted(_PLACEHOLDER.findall(text)) == source, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_the_po_file(language: str) -> None:
    directory = LOCALE / language / "LC_MESSAGES"
    with (directory / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    expected: dict[str | tuple[str, int], str] = {}
    for entry in _entries(directory / "django.po"):
        expected.update(_translations(entry))
    compiled = {key: text for key, text in compiled.items() if key != ""}  # "" is the header
    assert compiled == expected, "run compilemessages after editing the .po file"
