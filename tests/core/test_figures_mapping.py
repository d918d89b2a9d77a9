"""The [figures] table of an import mapping: where each station's results are."""

from __future__ import annotations

import pytest

from pollwatch.core.structure import MappingError, load_preset, parse_mapping

FLAT = (
    "[[levels]]\nlevel = 'region'\nname = 'r'\n"
    "[stations.columns]\nnumber = 'n'\nregistered_voters = 'v'\n"
)


def test_russian_presets_name_their_figures() -> None:
    figures = load_preset("ru-2018").figures
    assert figures is not None
    assert len(figures.issued) == 3 and len(figures.counted) == 2
    assert len(figures.options) == 8
    assert figures.registered == (load_preset("ru-2018").stations.fields["registered_voters"],)
    figures_2020 = load_preset("ru-2020").figures
    assert figures_2020 is not None
    assert [name for name, _ in figures_2020.options] == ["yes", "no"]
    assert [spec.column for _, spec in figures_2020.options] == ["ДА", "НЕТ"]
    assert load_preset("pollwatch").figures is None


def test_options_as_a_list_are_named_by_their_columns_and_leader_is_kept() -> None:
    mapping = parse_mapping(
        FLAT + "[figures]\nregistered = 'V'\nissued = 'G'\ncounted = ['inv', 'val']\n"
        "options = ['A', { column = 'B', pattern = '^(\\d+)$' }]\nleader = 'B'\n"
        "region = 'r2'\n",
        source="m.toml",
    )
    figures = mapping.figures
    assert figures is not None
    assert [spec.column for spec in figures.registered] == ["V"]
    assert [spec.column for spec in figures.counted] == ["inv", "val"]
    assert [name for name, _ in figures.options] == ["A", "B"]
    assert figures.options[1][1].pattern is not None
    assert figures.leader == "B"
    assert figures.region is not None and figures.region.column == "r2"


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        ("issued = 'G'\ncounted = 'R'", r"\[figures\] must name the column\(s\) for options"),
        ("issued = 'G'\ncounted = []\noptions = ['A']", r"figures.counted must name at least one"),
        ("issued = 'G'\ncounted = 'R'\noptions = []", r"figures.options must name at least one"),
        ("issued = 'G'\ncounted = 'R'\noptions = ['A', 'A']", r"names a column twice"),
        ("issued = 'G'\ncounted = 'R'\noptions = 3", r"a list of columns or a table"),
        ("issued = 'G'\ncounted = 'R'\noptions = ['A']\nleader = 'Z'", r"'Z' is not one of"),
        ("issued = 'G'\ncounted = 'R'\noptions = ['A']\ncolour = 'x'", r"unknown key\(s\) colour"),
        ("issued = 5\ncounted = 'R'\noptions = ['A']", r"figures.issued must be a column name"),
    ],
)
def test_bad_figures_are_refused_naming_the_key(figures: str, expected: str) -> None:
    with pytest.raises(MappingError, match=rf"^m\.toml: .*{expected}"):
        parse_mapping(FLAT + "[figures]\n" + figures + "\n", source="m.toml")
