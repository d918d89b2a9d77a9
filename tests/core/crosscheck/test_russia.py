"""The Russian 2018 presidential election as official results: the law's arithmetic holds at
every station, totals climb the hierarchy exactly, and the published national result comes out.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from pollwatch.core.crosscheck import Copies, Figures, FindingKind, OfficialResults, crosscheck
from pollwatch.core.outcome import MajorityRule, decide
from pollwatch.core.tabulation import tabulate
from tests.core.crosscheck.russia import Russia2018

pytestmark = pytest.mark.slow

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


def _official(russia: Russia2018) -> OfficialResults:
    return OfficialResults(np.arange(russia.hierarchy.stations, dtype=np.intp), russia.figures)


def _no_copies(russia: Russia2018) -> Copies:
    nothing = np.zeros(0, dtype=np.intp)
    return Copies(nothing, nothing.astype(np.int64), russia.figures.take(nothing))


def test_every_error_relation_holds_at_every_station(russia_2018: Russia2018) -> None:
    assert russia_2018.hierarchy.stations == 97_699
    result = crosscheck(
        russia_2018.template,
        russia_2018.hierarchy,
        _no_copies(russia_2018),
        _official(russia_2018),
        copy_expected=np.zeros(russia_2018.hierarchy.stations, dtype=np.bool_),
    )
    found = result.findings
    relations = russia_2018.template.relations
    # The law's relations (severity "error") hold everywhere. The template's one warning, more
    # ballots in the boxes than were issued, is broken at six stations, by one to three ballots.
    assert {relations[int(r)].severity for r in found.relation} == {"warning"}
    assert found.kind.tolist() == [FindingKind.RELATION_BROKEN_ON_OFFICIAL] * 6
    assert found.station.tolist() == [15830, 15872, 54103, 78290, 78891, 79010]
    assert found.delta.tolist() == [1, 1, 1, 3, 1, 1]


def test_tabulates_to_the_published_national_totals(russia_2018: Russia2018) -> None:
    table = tabulate(russia_2018.hierarchy, russia_2018.figures, russia_2018.template.line_keys)
    assert {key: table.national_figure(key) for key in PUBLISHED} == PUBLISHED
    centre = table.totals[0]
    assert centre.tolist() == table.national.tolist()
    regions = russia_2018.regions
    assert len(regions) == 87
    assert (table.totals[regions].sum(axis=0) == table.national).all()
    assert table.counted[0].tolist() == [97_699] * len(russia_2018.template.lines)


def test_the_winner_has_more_than_half_of_everyone_who_voted(russia_2018: Russia2018) -> None:
    table = tabulate(russia_2018.hierarchy, russia_2018.figures, russia_2018.template.line_keys)
    rule = MajorityRule(options=russia_2018.template.option_keys, out_of=("valid", "invalid"))
    outcome = decide(rule, table)
    assert outcome.decision == "putin"
    assert outcome.shares["putin"] == Fraction(56_430_712, 72_787_734 + 791_258)
    assert round(float(outcome.shares["putin"]) * 100, 2) == 76.69


def test_commission_totals_published_as_the_sums_check_out_and_one_changed_is_found(
    russia_2018: Russia2018,
) -> None:
    hierarchy = russia_2018.hierarchy
    keys = russia_2018.template.line_keys
    table = tabulate(hierarchy, russia_2018.figures, keys)
    totals = table.totals.copy()
    moscow = russia_2018.region_names.index("город Москва") + 1
    totals[moscow, keys.index("putin")] += 1000
    result = crosscheck(
        russia_2018.template,
        hierarchy,
        _no_copies(russia_2018),
        _official(russia_2018),
        OfficialResults(np.arange(hierarchy.commissions, dtype=np.intp), Figures.complete(totals)),
        copy_expected=np.zeros(hierarchy.stations, dtype=np.bool_),
    )
    found = result.findings
    # Moscow's total breaks valid == sum(options) and disagrees with its territorials; the
    # centre's total (the true sum) disagrees with what Moscow published.
    differs = found.of_kind(FindingKind.TOTAL_DIFFERS_FROM_CHILDREN)
    assert sorted(zip(differs.commission.tolist(), differs.delta.tolist(), strict=True)) == [
        (0, -1000),
        (moscow, 1000),
    ]
    relations = russia_2018.template.relations
    broken = found.of_kind(FindingKind.RELATION_BROKEN_ON_OFFICIAL)
    errors = broken.take(
        np.array([relations[int(r)].severity == "error" for r in broken.relation], dtype=bool)
    )
    assert errors.commission.tolist() == [moscow]
    assert relations[int(errors.relation[0])].expression == "valid == sum(options)"
    # The six stations' warnings, and the two territorials whose sums carry them.
    assert len(broken) - len(errors) == 6 + 2
    assert len(found) == 2 + 1 + 8
