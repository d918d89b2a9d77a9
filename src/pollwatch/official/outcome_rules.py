"""An election's outcome rule from data: JSON stored with the election, or the default.

    {"kind": "majority", "options": ["putin", …], "threshold": "1/2", "inclusive": false,
     "out_of": ["valid", "invalid"],
     "turnout": {"participants": ["…"], "registered": "registered", "threshold": "1/2"}}

    {"kind": "regional-majority", "participants": ["issued_in_station", "issued_outside"],
     "option": "yes", "registered": "registered", "turnout": "1/2",
     "regional_share": "1/2", "regions_needed": "2/3", "region_depth": 1}

Every key but ``kind`` (and a regional rule's ``participants``) is optional; shares are
fractions written "p/q"; ``regions_needed`` is reached inclusively (two-thirds or more), the
other thresholds must be exceeded. ``region_depth`` says which level of the hierarchy counts
as the regions (0: the top commissions). Every line key must be one of the template's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _

from pollwatch.core.outcome import (
    MajorityRule,
    OutcomeRule,
    OutcomeRuleError,
    RegionalMajorityRule,
    Threshold,
    TurnoutRule,
)
from pollwatch.core.protocol import ProtocolTemplateSpec


@dataclass(frozen=True)
class ElectionRule:
    rule: OutcomeRule
    region_depth: int | None  # the regions' depth for a regional rule
    default: bool  # no rule stored: the template's default


def default_rule(template: ProtocolTemplateSpec) -> ElectionRule:
    return ElectionRule(MajorityRule(options=template.option_keys), None, default=True)


def parse_rule(data: Mapping[str, Any], template: ProtocolTemplateSpec) -> ElectionRule:
    """Raises OutcomeRuleError naming what is wrong."""
    if not isinstance(data, Mapping):
        raise OutcomeRuleError(_("an outcome rule is a JSON object with a kind"))
    kind = data.get("kind")
    keys = set(template.line_keys)

    def lines(name: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = data.get(name, default)
        if value is None or isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise OutcomeRuleError(
                _("outcome rule: %(name)s must be a list of line keys") % {"name": name}
            )
        unknown = [v for v in value if v not in keys]
        if unknown or not value:
            raise OutcomeRuleError(
                _(
                    "outcome rule: %(name)s names unknown lines %(unknown)s; expected some of "
                    "%(keys)s"
                )
                % {"name": name, "unknown": unknown, "keys": ", ".join(template.line_keys)}
            )
        return tuple(value)

    def line(name: str, default: str) -> str:
        value = data.get(name, default)
        if value not in keys:
            raise OutcomeRuleError(
                _("outcome rule: %(name)s %(value)r is not a line of the template")
                % {"name": name, "value": value}
            )
        return str(value)

    if kind == "majority":
        _only(data, {"kind", "options", "threshold", "inclusive", "out_of", "turnout"})
        turnout = data.get("turnout")
        return ElectionRule(
            MajorityRule(
                options=lines("options", template.option_keys),
                threshold=Threshold(
                    _share(data.get("threshold", "1/2"), "threshold"),
                    bool(data.get("inclusive", False)),
                ),
                out_of=lines("out_of") if "out_of" in data else None,
                turnout=None if turnout is None else _turnout(turnout, template),
            ),
            None,
            default=False,
        )
    if kind == "regional-majority":
        _only(
            data,
            {"kind", "participants", "option", "registered", "turnout", "regional_share",
             "regions_needed", "region_depth"},
        )  # fmt: skip
        depth = data.get("region_depth", 1)
        if not isinstance(depth, int) or depth < 0:
            raise OutcomeRuleError(_("outcome rule: region_depth must be 0 or more"))
        return ElectionRule(
            RegionalMajorityRule(
                participants=lines("participants"),
                option=line("option", "yes"),
                registered=line("registered", "registered"),
                turnout=Threshold(_share(data.get("turnout", "1/2"), "turnout")),
                regional_share=Threshold(
                    _share(data.get("regional_share", "1/2"), "regional_share")
                ),
                regions_needed=Threshold(
                    _share(data.get("regions_needed", "2/3"), "regions_needed"), inclusive=True
                ),
            ),
            depth,
            default=False,
        )
    raise OutcomeRuleError(
        _("outcome rule: kind %(kind)r; expected 'majority' or 'regional-majority'")
        % {"kind": kind}
    )


def describe(rule: OutcomeRule) -> dict[str, str]:
    """The rule's parameters for display."""
    if isinstance(rule, MajorityRule):
        shown = {"threshold": str(rule.threshold), "options": ", ".join(rule.options)}
        if rule.out_of:
            shown["out_of"] = " + ".join(rule.out_of)
        if rule.turnout is not None:
            shown["turnout"] = str(rule.turnout.threshold)
        return shown
    return {
        "option": rule.option,
        "turnout": str(rule.turnout),
        "regional_share": str(rule.regional_share),
        "regions_needed": str(rule.regions_needed),
    }


def _turnout(data: Any, template: ProtocolTemplateSpec) -> TurnoutRule:
    if not isinstance(data, Mapping):
        raise OutcomeRuleError(_("outcome rule: turnout must be an object with participants"))
    inner = parse_rule(
        {"kind": "regional-majority", "participants": data.get("participants"),
         "registered": data.get("registered", "registered")},
        template,
    ).rule  # fmt: skip
    assert isinstance(inner, RegionalMajorityRule)
    return TurnoutRule(
        participants=inner.participants,
        registered=inner.registered,
        threshold=Threshold(_share(data.get("threshold", "1/2"), "turnout.threshold")),
    )


def _share(value: Any, name: str) -> Fraction:
    try:
        share = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise OutcomeRuleError(
            _("outcome rule: %(name)s %(value)r is not a fraction like 1/2")
            % {"name": name, "value": value}
        ) from None
    return share


def _only(data: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise OutcomeRuleError(
            _("outcome rule: unknown keys %(unknown)s; expected %(allowed)s")
            % {"unknown": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
        )
