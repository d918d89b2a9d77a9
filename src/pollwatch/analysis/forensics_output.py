"""A forensics report as plain JSON-ready values, and as text for a person to read.

Every test's line says what it measures in plain words: the reader is an observer or a
journalist, not a statistician, and an anomaly is a reason to ask, not proof of fraud.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from pollwatch.core.forensics import ForensicsReport
from pollwatch.core.forensics.digits import DigitTests
from pollwatch.core.forensics.integer_percentages import IntegerCount
from pollwatch.core.forensics.klimek import KlimekFit


@dataclass(frozen=True)
class ForensicsRun:
    """One run of the tests on one file: what was tested and what came out."""

    report: ForensicsReport
    source: str
    stations: int
    leader: str
    klimek: KlimekFit | None
    figures: list[str]  # paths written


def number(value: float) -> float | None:
    """JSON has no NaN or infinity: an undefined statistic is null."""
    return float(value) if math.isfinite(value) else None


def _count(count: IntegerCount) -> dict[str, Any]:
    return {
        "observed": count.observed,
        "expected": count.expected,
        "excess": count.excess,
        "sd": count.sd,
        "z": count.z,
        "p_value": number(count.p_value),
    }


def _digits(tests: DigitTests) -> dict[str, Any]:
    out: dict[str, Any] = {
        s.name: {
            "value": number(s.value),
            "null": s.null,
            "ci_low": number(s.ci_low),
            "ci_high": number(s.ci_high),
            "level": s.level,
            "n": s.n,
            "flagged": s.flagged,
        }
        for s in tests.statistics
    }
    chi = tests.last_digit_chi_square
    out["last_digit_chi_square"] = {
        "statistic": number(chi.statistic),
        "df": chi.df,
        "p_value": number(chi.p_value),
    }
    return out


def report_json(run: ForensicsRun) -> dict[str, Any]:
    report, klimek = run.report, run.klimek
    test, shpilkin = report.integer_percentages, report.shpilkin
    return {
        "source": run.source,
        "stations": run.stations,
        "leader": run.leader,
        "integer_percentage": {
            "included": test.included,
            **_count(test.either),
            "turnout": _count(test.turnout),
            "leader_share": _count(test.leader_share),
        },
        "shpilkin": {
            "peak_turnout": shpilkin.peak_turnout,
            "peak_share": shpilkin.peak_share,
            "expected_votes": shpilkin.expected,
            "excess_votes": shpilkin.excess,
            "excess_share": shpilkin.excess_share,
        },
        "digits": {
            "leader": _digits(report.leader_digits),
            "options": {name: _digits(t) for name, t in report.option_digits.items()},
        },
        "klimek": None
        if klimek is None
        else {
            "incremental": klimek.incremental,
            "extreme": klimek.extreme,
            "sigma_x": klimek.sigma_x,
            "alpha": klimek.alpha,
            "residual": klimek.residual,
        },
        "observers": None,
        "observers_note": OBSERVERS_NOT_APPLICABLE,
        "figures": run.figures,
    }


OBSERVERS_NOT_APPLICABLE = (
    "not applicable: a results file says nothing about where observers were; the observer "
    "effect needs the database's observer assignments"
)


def report_text(run: ForensicsRun) -> list[str]:
    report, klimek, figures = run.report, run.klimek, run.figures
    test, shpilkin = report.integer_percentages, report.shpilkin
    either = test.either
    lines = [
        _("Election forensics: %(source)s") % {"source": run.source},
        _("%(stations)s polling stations; leader: %(leader)s")
        % {"stations": f"{run.stations:,}", "leader": run.leader},
        "",
        _("Integer percentages (Kobak, Shpilkin & Pshenichnikov 2016)"),
        _(
            "  %(observed)s of %(included)s included stations have a turnout or leader's share "
            "within 0.05 of a whole percentage; honest counting gives %(expected)s ± %(sd)s"
        )
        % {
            "observed": f"{either.observed:,}",
            "included": f"{test.included:,}",
            "expected": f"{either.expected:,.0f}",
            "sd": f"{either.sd:,.0f}",
        },
        _("  excess %(excess)s stations, z = %(z).1f, one-sided p = %(p).2g")
        % {"excess": f"{either.excess:+,.0f}", "z": either.z, "p": either.p_value},
        _(
            "  Meaning: an excess of round percentages suggests results written down to a "
            "target rather than counted."
        ),
        "",
        _("Shpilkin's estimate (Shpilkin 2009)"),
        _(
            "  clean peak at %(turnout).1f %% turnout, leader %(share).1f %% there; votes for "
            "the leader beyond that share: %(excess)s (%(excess_share).1f %% of his votes)"
        )
        % {
            "turnout": 100 * shpilkin.peak_turnout,
            "share": 100 * shpilkin.peak_share,
            "excess": f"{shpilkin.excess:,.0f}",
            "excess_share": 100 * shpilkin.excess_share,
        },
        _(
            "  Meaning: votes that rise with turnout beyond the peak look like added ballots; "
            "it is an estimate that assumes one homogeneous electorate, not a test."
        ),
        "",
        _("Digit tests on the leader's votes (Mebane; Beber & Scacco)"),
        *_digit_lines(report.leader_digits),
        _(
            "  Meaning: invented numbers favour some digits (0 and 5); 2BL also flags honest "
            "counts that lie within one order of magnitude."
        ),
        "",
        _("Klimek's fraud model (Klimek et al. 2012)"),
    ]
    if klimek is None:
        lines.append(_("  not run (--no-klimek)"))
    else:
        lines += [
            _("  incremental fraud f_i = %(fi).2f, extreme fraud f_e = %(fe).2f")
            % {"fi": klimek.incremental, "fe": klimek.extreme},
            _(
                "  Meaning: the share of stations whose turnout and share look stuffed in part "
                "(f_i) or almost wholly (f_e); f_i also absorbs honest differences between regions."
            ),
        ]
    lines += [
        "",
        _("Observers' effect: %(note)s") % {"note": OBSERVERS_NOT_APPLICABLE},
    ]
    if figures:
        lines += ["", _("Figures written:"), *(f"  {path}" for path in figures)]
    lines += ["", _("An anomaly is a reason to ask, not proof of fraud.")]
    return lines


def _digit_lines(tests: DigitTests) -> list[str]:
    lines = [
        _(
            "  %(name)s = %(value).3f (honest: %(null).3f; "
            "%(level)g %% interval %(low).3f–%(high).3f)%(flag)s"
        )
        % {
            "name": s.name,
            "value": s.value,
            "null": s.null,
            "level": 100 * s.level,
            "low": s.ci_low,
            "high": s.ci_high,
            "flag": _(" — flagged") if s.flagged else "",
        }
        for s in tests.statistics
    ]
    chi = tests.last_digit_chi_square
    lines.append(
        _("  last digit χ² = %(chi).1f on %(df)d degrees of freedom, p = %(p).2g")
        % {"chi": chi.statistic, "df": chi.df, "p": chi.p_value}
    )
    return lines
