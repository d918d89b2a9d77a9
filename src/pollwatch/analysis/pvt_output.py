"""A PVT estimate beside the full count of the same file, as JSON-ready values and as text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from pollwatch.core.forensics.source import StationFigures
from pollwatch.core.pvt import Comparison, PvtEstimate, compare_with_official


@dataclass(frozen=True)
class EstimateReport:
    estimate: PvtEstimate
    option_names: tuple[str, ...]
    official_shares: np.ndarray
    official_turnout: float
    shares: Comparison
    turnout: Comparison
    sample: int
    strata: int


def estimate_report(
    estimate: PvtEstimate, official: StationFigures, sample: int, strata: int
) -> EstimateReport:
    """Compare with the full count: shares of ballots counted, turnout of registered voters."""
    shares = official.options.sum(axis=0) / official.counted.sum()
    turnout = float(official.issued.sum() / official.registered.sum())
    return EstimateReport(
        estimate=estimate,
        option_names=official.option_names,
        official_shares=shares,
        official_turnout=turnout,
        shares=compare_with_official(estimate.shares, shares),
        turnout=compare_with_official(estimate.turnout, np.array(turnout)),
        sample=sample,
        strata=strata,
    )


def _row(
    value: Any, moe95: Any, moe99: Any, official: Any, c: Comparison, k: Any
) -> dict[str, Any]:
    return {
        "estimate": float(value),
        "moe95": float(moe95),
        "moe99": float(moe99),
        "official": float(official),
        "difference": float(c.difference[k]),
        "within95": bool(c.within95[k]),
        "within99": bool(c.within99[k]),
    }


def report_json(report: EstimateReport) -> dict[str, Any]:
    shares, turnout = report.estimate.shares, report.estimate.turnout
    return {
        "sample": report.sample,
        "reported": report.estimate.reported,
        "strata": report.strata,
        "strata_missing": report.estimate.strata_missing,
        "options": [
            {"name": name}
            | _row(
                shares.value[k],
                shares.moe95[k],
                shares.moe99[k],
                report.official_shares[k],
                report.shares,
                k,
            )
            for k, name in enumerate(report.option_names)
        ],
        "turnout": _row(
            turnout.value, turnout.moe95, turnout.moe99, report.official_turnout, report.turnout, ()
        ),
    }


def report_text(report: EstimateReport) -> list[str]:
    data = report_json(report)
    width = max(len(name) for name in [*report.option_names, _("turnout")])
    lines = [
        _("Parallel vote tabulation: %(reported)s of %(sample)s sample stations reported")
        % {"reported": f"{data['reported']:,}", "sample": f"{data['sample']:,}"},
    ]
    if data["strata_missing"]:
        lines.append(
            _("  %(missing)d of %(strata)d strata have no report yet: the estimate covers the rest")
            % {"missing": data["strata_missing"], "strata": data["strata"]}
        )
    lines += [
        "",
        f"{'':<{width}}  {_('estimate'):>9}  {'± 95 %':>7}  {'± 99 %':>7}  "
        f"{_('official'):>9}  {_('within 99 %')}",
    ]
    rows = [(o["name"], o) for o in data["options"]] + [(_("turnout"), data["turnout"])]
    for name, row in rows:
        lines.append(
            f"{name:<{width}}  {100 * row['estimate']:8.2f}%  {100 * row['moe95']:7.2f}  "
            f"{100 * row['moe99']:7.2f}  {100 * row['official']:8.2f}%  "
            f"{_('yes') if row['within99'] else _('NO')}"
        )
    lines += [
        "",
        _(
            "Shares are of ballots counted (valid + invalid), turnout of registered voters; "
            "'official' is the full count of the same file. An official figure outside the "
            "99 % margin is a reason to ask, not proof of fraud."
        ),
    ]
    return lines
