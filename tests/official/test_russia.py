"""The Russian 2018 presidential election's per-station file, imported as official results.

Its arithmetic is known to hold: the law's control relations (severity error) hold at all
97,699 stations. The template's one warning — ballots in the boxes at most the ballots issued
— fails at six stations, listed here. Tabulated, the file gives the CEC's published totals.
"""

from __future__ import annotations

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from pollwatch.core.crosscheck import figures_for_stations
from pollwatch.core.tabulation import tabulate
from pollwatch.findings.inputs import load_inputs
from pollwatch.findings.models import Finding
from pollwatch.findings.recheck import recheck_election, template_spec
from pollwatch.registry.models import Election
from pollwatch.registry.protocol_templates import load_shipped_template

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

IN_BOXES_AT_MOST_ISSUED = (
    "ballots_portable + ballots_stationary <= issued_early + issued_in_station + issued_outside"
)
# (station code, ballots in boxes, ballots issued) where more ballots were found than issued.
WARNING_STATIONS = [
    ("Московская область/1 Балашихинская городская/3663", 1014, 1013),
    ("Свердловская область/26 Екатеринбург, Ленинская/1495", 864, 861),
    ("Свердловская область/40 Кировградская городская/1979", 1413, 1412),
    ("Свердловская область/44 Красноуфимская/484", 181, 180),
    ("Удмуртская Республика/10 Завьяловская/1716", 780, 779),
    ("Удмуртская Республика/10 Завьяловская/1758", 1136, 1135),
]
# The CEC's published national result (see ../shared/data/README.md).
PUBLISHED = {
    "registered": 109_008_428,
    "valid": 72_787_734,
    "invalid": 791_258,
    "putin": 56_430_712,
    "grudinin": 8_659_206,
    "zhirinovsky": 4_154_985,
    "sobchak": 1_238_031,
    "yavlinsky": 769_644,
    "titov": 556_801,
    "suraykin": 499_342,
    "baburin": 479_013,
}


def test_russia_2018_official_results(shared_data: Path) -> None:
    template = load_shipped_template("ru-president-2018")
    assert template is not None
    election = Election.objects.create(
        slug="ru-2018", name="Russia 2018", kind="election", date=datetime.date(2018, 3, 18),
        template=template,
    )  # fmt: skip
    path = shared_data / "russia" / "2018.csv.zip"
    out = StringIO()
    call_command(
        "import_structure", "--election=ru-2018", "--preset=ru-2018", f"--stations={path}",
        "--no-progress", stdout=out,
    )  # fmt: skip
    call_command(
        "import_official", str(path), "--election=ru-2018", "--preset=ru-2018",
        "--no-crosscheck", "--no-progress", stdout=out,
    )  # fmt: skip
    assert "97699 rows, 97699 published for the first time" in out.getvalue()

    recheck_election(election)
    relation = Finding.objects.filter(kind="relation-broken-on-official", present=True)
    assert not relation.filter(severity="error").exists()
    warnings = sorted(
        (f.station.code, f.left_value, f.right_value) for f in relation.select_related("station")
    )
    assert warnings == WARNING_STATIONS
    assert {f.relation for f in relation} == {IN_BOXES_AT_MOST_ISSUED}
    assert Finding.objects.filter(present=True).count() == len(WARNING_STATIONS)

    spec = template_spec(election.template)
    inputs = load_inputs(election, spec)
    assert inputs.hierarchy.stations == 97_699
    figures = figures_for_stations(inputs.official_stations, inputs.hierarchy.stations)
    national = tabulate(inputs.hierarchy, figures, spec.line_keys)
    assert {key: national.national_figure(key) for key in PUBLISHED} == PUBLISHED
    assert national.national_counted.min() == 97_699
