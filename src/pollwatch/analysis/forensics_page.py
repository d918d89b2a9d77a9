"""A stored forensics report as the page shows it: numbers rounded for a reader, percentages
as percentages, an undefined statistic as a dash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

DASH = "–"

# Digit statistics by the names core.forensics.digits gives them.
DIGIT_NAMES = {
    "2BL": _("Second-digit mean (2BL)"),
    "last digit mean": _("Last-digit mean"),
    "C05s": _("Counts ending in 0 or 5"),
    "P05s": _("Percentages ending in 0 or 5"),
}


def fixed(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


def percent(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{100 * value:.{digits}f} %"


def p_value(value: float | None) -> str:
    return DASH if value is None else f"{value:.2g}"


@dataclass(frozen=True)
class CountRow:
    label: Any
    observed: str
    expected: str
    excess: str
    sd: str
    z: str
    p: str


@dataclass(frozen=True)
class DigitRow:
    name: str
    label: Any
    value: str
    null: str
    interval: str
    flagged: bool


@dataclass(frozen=True)
class DigitTable:
    subject: str
    rows: list[DigitRow]
    chi_square: str
    chi_df: int
    chi_p: str


def integer_rows(test: dict[str, Any]) -> list[CountRow]:
    def row(label: Any, count: dict[str, Any]) -> CountRow:
        return CountRow(
            label=label,
            observed=f"{count['observed']:,}",
            expected=fixed(count["expected"], 1),
            excess=f"{count['excess']:+,.1f}" if count["excess"] is not None else DASH,
            sd=fixed(count["sd"], 1),
            z=fixed(count["z"], 2),
            p=p_value(count["p_value"]),
        )

    return [
        row(_("Turnout or leader's share"), test),
        row(_("Turnout"), test["turnout"]),
        row(_("Leader's share"), test["leader_share"]),
    ]


def digit_tables(digits: dict[str, Any], leader: str) -> list[DigitTable]:
    subjects = [(leader, digits["leader"])]
    subjects += [(name, t) for name, t in digits["options"].items() if name != leader]
    return [_digit_table(name, tests) for name, tests in subjects]


def _digit_table(subject: str, tests: dict[str, Any]) -> DigitTable:
    rows = [
        DigitRow(
            name=name,
            label=label,
            value=fixed(tests[name]["value"], 3),
            null=fixed(tests[name]["null"], 3),
            interval=f"{fixed(tests[name]['ci_low'], 3)} – {fixed(tests[name]['ci_high'], 3)}",
            flagged=bool(tests[name]["flagged"]),
        )
        for name, label in DIGIT_NAMES.items()
        if name in tests
    ]
    chi = tests["last_digit_chi_square"]
    return DigitTable(
        subject=subject,
        rows=rows,
        chi_square=fixed(chi["statistic"], 1),
        chi_df=chi["df"],
        chi_p=p_value(chi["p_value"]),
    )


def difference_row(label: Any, d: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": label,
        "observed": percent(d["observed_mean"]),
        "unobserved": percent(d["unobserved_mean"]),
        "difference": _points(d["difference"]),
        "interval": f"{_points(d['ci_low'])} … {_points(d['ci_high'])}",
        "significant": d["significant"],
    }


def _points(value: float | None) -> str:
    """A difference of two percentages, in percentage points."""
    return DASH if value is None else f"{100 * value:+.2f}"


def observer_context(observers: dict[str, Any]) -> dict[str, Any]:
    return {
        "level": f"{100 * observers['level']:g}",
        "observed_stations": observers["observed_stations"],
        "unobserved_stations": observers["unobserved_stations"],
        "stratified": [
            difference_row(_("Turnout"), observers["turnout"]),
            difference_row(_("Leader's share"), observers["leader_share"]),
        ],
        "unstratified": [
            difference_row(_("Turnout"), observers["turnout_unstratified"]),
            difference_row(_("Leader's share"), observers["leader_share_unstratified"]),
        ],
        "regions": [
            {
                "region": r["region"],
                "observed": r["observed"],
                "unobserved": r["unobserved"],
                "turnout": _points(r["turnout_difference"]),
                "share": _points(r["share_difference"]),
                "compared": r["weight"] is not None and r["weight"] > 0,
            }
            for r in observers["regions"]
        ],
    }


def page_context(results: dict[str, Any]) -> dict[str, Any]:
    shpilkin = results["shpilkin"]
    klimek = results["klimek"]
    return {
        "stations": results["stations"],
        "leader": results["leader"],
        "integer": {
            "included": results["integer_percentage"]["included"],
            "rows": integer_rows(results["integer_percentage"]),
        },
        "shpilkin": {
            "peak_turnout": percent(shpilkin["peak_turnout"]),
            "peak_share": percent(shpilkin["peak_share"]),
            "expected_votes": fixed(shpilkin["expected_votes"], 0),
            "excess_votes": fixed(shpilkin["excess_votes"], 0),
            "excess_share": percent(shpilkin["excess_share"]),
        },
        "digits": digit_tables(results["digits"], results["leader"]),
        "klimek": None
        if klimek is None
        else {
            "incremental": fixed(klimek["incremental"]),
            "extreme": fixed(klimek["extreme"]),
            "sigma_x": fixed(klimek["sigma_x"]),
        },
        "observers": None
        if results.get("observers") is None
        else observer_context(results["observers"]),
    }
