"""The Russian CEC files read into the figures the tests need (totals from data/README.md)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pollwatch.core.forensics import ForensicsInputError, StationResults, russia

pytestmark = pytest.mark.slow


def test_2018_totals_match_the_published_result(russia_2018: StationResults) -> None:
    r = russia_2018
    assert r.stations == 97_699
    assert int(r.registered.sum()) == 109_008_428
    assert int(r.counted.sum()) == 72_787_734 + 791_258  # valid + invalid
    assert int(r.leader.sum()) == 56_430_712
    totals = dict(zip(r.option_names, r.options.sum(axis=0).tolist(), strict=True))
    assert totals["Грудинин Павел Николаевич"] == 8_659_206
    assert totals["Бабурин Сергей Николаевич"] == 479_013
    assert len(r.region_names) == 87


def test_2020_uses_ballots_in_boxes_for_issued_and_counted(russia_2020: StationResults) -> None:
    r = russia_2020
    assert r.stations == 96_765
    assert int(r.registered.sum()) == 107_999_611
    assert int(r.issued.sum()) == int(r.counted.sum()) == 73_024_006
    assert int(r.leader.sum()) == 57_071_119
    assert int(r.options[:, 1].sum()) == 15_347_937


def test_a_file_that_is_not_a_zip_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "2018.csv.zip"
    path.write_text("not a zip")
    with pytest.raises(ForensicsInputError, match=r"2018\.csv\.zip: cannot read"):
        russia.load_2018(path)


def test_a_figure_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "2020.csv.zip"
    header = "name,region,tik,uik,registered,issued,in_boxes,invalid,yes,no,url\n"
    row = "vote,Region,TIK,UIK 1,100,ninety,90,1,60,29,http://x\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("2020.csv", header + row)
    with pytest.raises(ForensicsInputError, match="expected whole numbers"):
        russia.load_2020(path)
