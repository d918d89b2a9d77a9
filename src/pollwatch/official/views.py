"""The tabulation page: official totals beside the observers', by level, with the outcomes.

Public: it shows totals, never an observer's raw copy.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from pollwatch.core.outcome import ADOPTED, REJECTED, Outcome
from pollwatch.official.outcome_rules import describe
from pollwatch.official.tabulation import ElectionTabulation, Totals, tabulate_election
from pollwatch.registry import selectors
from pollwatch.registry.models import Commission, Election


def tabulation(request: HttpRequest, slug: str) -> HttpResponse:
    election = get_object_or_404(Election.objects.select_related("template"), slug=slug)
    result = tabulate_election(election)
    context = {
        **_page(result, None),
        "election": election,
        "place_totals": result.national(),
        "place_cells": _cells(result.national(), _page_shown(result)),
        "outcome": _outcomes(result),
    }
    return render(request, "official/tabulation.html", context)


def commission_tabulation(request: HttpRequest, slug: str, commission_id: int) -> HttpResponse:
    commission = get_object_or_404(
        selectors.commissions_with_ancestors().select_related("election__template"),
        election__slug=slug,
        pk=commission_id,
    )
    result = tabulate_election(commission.election)
    index = result.commission_index(commission.pk)
    if index is None:  # created after the tabulation's data was read
        raise Http404
    context = {
        **_page(result, index),
        "election": commission.election,
        "commission": commission,
        "path": selectors.commission_path(commission),
        "place_totals": result.of(index),
        "place_cells": _cells(result.of(index), _page_shown(result)),
    }
    return render(request, "official/tabulation.html", context)


def _page(result: ElectionTabulation, index: int | None) -> dict[str, Any]:
    language = get_language() or "en"
    template = result.template
    shown = _page_shown(result)
    children = result.children(index)
    if index is None and len(children) == 1:
        # A single top (the central commission) totals the same as all stations: show the
        # level below it.
        only = result.commission_index(children[0][0])
        children = result.children(only)
    names = {
        c.pk: c
        for c in Commission.objects.filter(pk__in=[commission_id for commission_id, _ in children])
    }
    return {
        "lines": [template.lines[i].label(language) for i in shown],
        "rows": [
            {"commission": names[commission_id], "cells": _cells(totals, shown), "totals": totals}
            for commission_id, totals in children
            if commission_id in names
        ],
        "regions_that_change": result.region_ids(),
    }


def _page_shown(result: ElectionTabulation) -> list[int]:
    """Columns of registered voters and the options: what an outcome is decided on."""
    keys = result.template.line_keys
    shown = [key for key in keys if key == "registered"] + list(result.template.option_keys)
    return [keys.index(key) for key in shown]


def _cells(totals: Totals, shown: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "official": totals.official[i],
            "observed": totals.observed[i],
            "differs": totals.official[i] != totals.observed[i],
        }
        for i in shown
    ]


def _outcomes(result: ElectionTabulation) -> dict[str, Any]:
    comparison = result.comparison
    language = get_language() or "en"
    return {
        "official": _outcome(comparison.official, result, language),
        "observed": _outcome(comparison.observed, result, language),
        "changed": comparison.changed,
        "rule_default": result.rule.default,
        "rule": describe(result.rule.rule),
        "regions_changing": Commission.objects.filter(pk__in=result.region_ids()).order_by("code"),
        "published_stations": result.published_stations,
        "observed_stations": result.observed_stations,
        "stations": result.hierarchy.stations,
    }


def _outcome(outcome: Outcome, result: ElectionTabulation, language: str) -> dict[str, Any]:
    decision = outcome.decision
    if decision in (ADOPTED, REJECTED):
        shown_decision: str | None = decision
    elif decision is not None:
        shown_decision = result.template.line(decision).label(language)
    else:
        shown_decision = None
    return {
        "held": outcome.held,
        "decision": shown_decision,
        "adopted": decision == ADOPTED,
        "rejected": decision == REJECTED,
        "turnout": None if outcome.turnout is None else float(outcome.turnout) * 100,
        "shares": [
            (result.template.line(key).label(language), float(share) * 100)
            for key, share in outcome.shares.items()
        ],
        "regions_in_favour": outcome.regions_in_favour,
        "regions": outcome.regions,
    }
