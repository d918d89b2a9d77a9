"""Tabulation from the database: official beside observed, the outcomes, and the page."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from pollwatch.core.outcome import OutcomeRuleError
from pollwatch.official.models import OutcomeRuleSetting
from pollwatch.official.outcome_rules import parse_rule
from pollwatch.official.tabulation import tabulate_election
from pollwatch.registry.protocol_templates import spec_of
from tests.official.elections import K, StoredElection, store_election

pytestmark = pytest.mark.django_db

REGIONAL = {
    "kind": "regional-majority",
    "participants": ["issued_in_station", "issued_outside"],
    "option": "yes",
    "region_depth": 1,
}


def _honest_and_stuffed(stored: StoredElection, stuffed: int) -> None:
    """Official results everywhere, with ``stuffed`` No votes moved to Yes at every station
    of the first region; observers' copies (the honest figures) at those stations."""
    region = stored.regions[0]
    official = {}
    for position, station in enumerate(stored.stations):
        figures = stored.figures(position)
        if station.commission.parent_id == region.pk:
            moved = min(stuffed, figures["no"])
            figures = stored.figures(position, yes=figures["yes"] + moved, no=figures["no"] - moved)
            stored.add_copy(position, 0)
            stored.add_copy(position, 1)
        official[position] = figures
    stored.publish(official)


def test_official_and_observed_totals_and_the_difference(db: None) -> None:
    stored = store_election(stations=16)
    _honest_and_stuffed(stored, stuffed=5)
    result = tabulate_election(stored.election)
    national = result.national()
    honest_yes = int(stored.honest[:, K["yes"]].sum())
    assert national.observed[K["yes"]] == honest_yes
    assert national.official[K["yes"]] > honest_yes
    assert national.official[K["registered"]] == int(stored.honest[:, K["registered"]].sum())
    region = result.commission_index(stored.regions[0].pk)
    other = result.commission_index(stored.regions[1].pk)
    assert region is not None and other is not None
    assert result.of(region).differs[K["yes"]]
    assert not any(result.of(other).differs)
    assert result.of(region).consensus_stations == result.of(region).stations
    assert result.of(other).consensus_stations == 0


def test_the_outcome_from_each_side_under_the_regional_rule(db: None) -> None:
    stored = store_election(stations=16)
    OutcomeRuleSetting.objects.create(election=stored.election, rule=REGIONAL)
    _honest_and_stuffed(stored, stuffed=10_000)  # every No vote of the first region moved
    result = tabulate_election(stored.election)
    comparison = result.comparison

    def in_favour(region: int) -> bool:
        """More than half of the region's participants voted Yes, by the honest figures."""
        under = [
            p for p, s in enumerate(stored.stations)
            if s.commission.parent_id == stored.regions[region].pk
        ]  # fmt: skip
        honest = stored.honest[under]
        took_part = int(
            honest[:, K["issued_in_station"]].sum() + honest[:, K["issued_outside"]].sum()
        )
        return 2 * int(honest[:, K["yes"]].sum()) > took_part

    honest_count = sum(in_favour(region) for region in (0, 1))
    assert comparison.observed.regions_in_favour == honest_count
    assert comparison.official.regions_in_favour == 1 + int(in_favour(1))
    assert comparison.official.regions == comparison.observed.regions == 2
    assert result.region_ids() == (set() if in_favour(0) else {stored.regions[0].pk})
    # Two-thirds of two regions needs both: the outcome changes exactly when the first region
    # is not in favour by the honest count while the second is.
    assert comparison.changed == (not in_favour(0) and in_favour(1))


def test_rules_are_checked_against_the_template(db: None) -> None:
    stored = store_election(stations=4)
    template = spec_of(stored.election.template)
    with pytest.raises(OutcomeRuleError, match="unknown lines"):
        parse_rule({**REGIONAL, "participants": ["voters"]}, template)
    with pytest.raises(OutcomeRuleError, match="kind"):
        parse_rule({"kind": "lottery"}, template)
    with pytest.raises(OutcomeRuleError, match="unknown keys"):
        parse_rule({**REGIONAL, "colour": "red"}, template)
    with pytest.raises(OutcomeRuleError, match="not a fraction"):
        parse_rule({**REGIONAL, "turnout": "half"}, template)


def test_the_page_shows_both_sides_and_drills_down(client: Client) -> None:
    stored = store_election(stations=16)
    _honest_and_stuffed(stored, stuffed=5)
    response = client.get(reverse("tabulation", args=[stored.election.slug]))
    assert response.status_code == 200
    text = response.content.decode()
    assert text.count("<h1>") == 1
    assert "Would the outcome change?" in text
    assert 'data-answer="no"' in text
    for region in stored.regions:
        assert reverse("commission_tabulation", args=[stored.election.slug, region.pk]) in text
    assert "data-differs" in text
    response = client.get(
        reverse("commission_tabulation", args=[stored.election.slug, stored.regions[1].pk])
    )
    assert response.status_code == 200
    assert "data-differs" not in response.content.decode()
    assert stored.territorials[-1].name in response.content.decode()


def test_unknown_places_are_404(client: Client) -> None:
    stored = store_election(stations=4)
    assert client.get(reverse("tabulation", args=["nowhere"])).status_code == 404
    url = reverse("commission_tabulation", args=[stored.election.slug, 10**9])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("language", "regions", "words"),
    [
        ("en", 1, "in favour in 1 of 1 region<"),
        ("en", 3, "in favour in 1 of 3 regions<"),
        ("ru", 1, "«за» в 1 из 1 региона<"),
        ("ru", 21, "«за» в 1 из 21 региона<"),
        ("ru", 5, "«за» в 1 из 5 регионов<"),
        ("kk", 5, "5 өңірдің 1 өңірінде «иә»<"),
    ],
)
def test_the_regions_in_favour_are_counted_in_each_language(
    language: str, regions: int, words: str
) -> None:
    result = SimpleNamespace(
        held=True, adopted=True, turnout=None, regions=regions, regions_in_favour=1, shares=()
    )
    with translation.override(language):
        html = render_to_string("official/partials/outcome.html", {"result": result})
    assert words in html
