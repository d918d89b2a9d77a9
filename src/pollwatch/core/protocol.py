"""Protocol templates: the lines of a count protocol and its control relations, as data.

A template is a TOML file (the layout is documented at the top of
``pollwatch/protocol_templates/kz-referendum.toml``). ``parse_template`` reads and validates one;
``template_from_data`` validates the same structure when it comes from elsewhere (the database).
Every problem raises TemplateError naming the file, the line or relation, and what was expected.
"""

from __future__ import annotations

import keyword
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy.typing as npt

from pollwatch.core.expressions import (
    CompiledRelations,
    Evaluation,
    ExpressionError,
    Quantity,
    Relation,
    parse_quantity,
    parse_relation,
)

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")
TEMPLATE_KINDS = ("election", "referendum")
# `sum` and `options` are words of the relation language; a line so named would be ambiguous.
RESERVED_LINE_KEYS = frozenset({"sum", "options"})

_LINE_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
_TEMPLATE_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]+)*\Z")

_TEMPLATE_FIELDS = {"key", "name", "kind", "lines", "relations", "statistics"}
# What the forensic tests read on a protocol (Kobak et al.'s V, G and R), each a quantity.
STATISTICS_FIELDS = ("registered", "issued", "counted")
_LINE_FIELDS = {"key", "number", "label", "option"}
_RELATION_FIELDS = {"expression", "severity", "description"}


class TemplateError(ValueError):
    """A protocol template that cannot be used, with where and why."""


@dataclass(frozen=True)
class ProtocolLine:
    key: str
    number: str  # as printed on the protocol: "1", "10а", …
    labels: Mapping[str, str]  # language code → text
    option: bool  # a ballot option's votes (candidate, party, Yes/No)

    def label(self, language: str) -> str:
        """The label in ``language``, falling back to English."""
        return self.labels.get(language) or self.labels["en"]


@dataclass(frozen=True)
class ControlRelation:
    expression: str
    parsed: Relation
    severity: Severity
    description: Mapping[str, str]  # language code → text; may be empty

    def evaluate(self, values: Mapping[str, npt.ArrayLike]) -> Evaluation:
        return self.parsed.evaluate(values)


@dataclass(frozen=True)
class Statistics:
    """Registered voters, ballots issued and ballots counted on this protocol.

    Protocols name these differently (issued early + in the station + outside; valid +
    invalid); the forensic tests need them under one name each.
    """

    registered: Quantity
    issued: Quantity
    counted: Quantity

    def data(self) -> dict[str, str]:
        return {name: getattr(self, name).text for name in STATISTICS_FIELDS}


@dataclass(frozen=True)
class ProtocolTemplateSpec:
    key: str
    name: str
    kind: str  # one of TEMPLATE_KINDS
    lines: tuple[ProtocolLine, ...]
    relations: tuple[ControlRelation, ...]
    statistics: Statistics | None = None  # without it, no forensics on the database

    @cached_property
    def line_keys(self) -> tuple[str, ...]:
        return tuple(line.key for line in self.lines)

    @cached_property
    def relation_lines(self) -> tuple[tuple[str, ...], ...]:
        """Per relation, the lines it reads in template order."""
        return tuple(
            tuple(key for key in self.line_keys if key in relation.parsed.line_keys)
            for relation in self.relations
        )

    @cached_property
    def compiled_relations(self) -> CompiledRelations:
        """The relations over the template's lines, to evaluate all at once on a figures
        matrix (compiled once per spec: callers keep one spec per template)."""
        return CompiledRelations.of(
            tuple(relation.parsed for relation in self.relations), self.line_keys
        )

    @property
    def option_keys(self) -> tuple[str, ...]:
        return tuple(line.key for line in self.lines if line.option)

    @property
    def option_lines(self) -> tuple[ProtocolLine, ...]:
        return tuple(line for line in self.lines if line.option)

    def line(self, key: str) -> ProtocolLine:
        for line in self.lines:
            if line.key == key:
                return line
        raise KeyError(key)

    def lines_data(self) -> list[dict[str, Any]]:
        """The lines as JSON-ready dicts, in the layout ``template_from_data`` reads back."""
        return [
            {"key": ln.key, "number": ln.number, "label": dict(ln.labels), "option": ln.option}
            for ln in self.lines
        ]

    def relations_data(self) -> list[dict[str, Any]]:
        return [
            {
                "expression": rel.expression,
                "severity": rel.severity,
                "description": dict(rel.description),
            }
            for rel in self.relations
        ]


def parse_template(text: str, source_name: str) -> ProtocolTemplateSpec:
    """Read a template from TOML text; ``source_name`` (usually the path) names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise TemplateError(f"{source_name}: not valid TOML: {err}") from None
    return template_from_data(data, source_name)


def template_from_data(data: Mapping[str, Any], source_name: str) -> ProtocolTemplateSpec:
    """Validate a template given as plain data (the TOML document's structure)."""
    _reject_unknown_fields(data, _TEMPLATE_FIELDS, source_name, "template")
    key = _required_str(data, "key", source_name, "template")
    if not _TEMPLATE_KEY.match(key):
        raise TemplateError(
            f"{source_name}: template key {key!r} is not valid; expected lowercase letters, "
            "digits and single hyphens, e.g. 'kz-referendum'"
        )
    name = _required_str(data, "name", source_name, "template")
    kind = _required_str(data, "kind", source_name, "template")
    if kind not in TEMPLATE_KINDS:
        raise TemplateError(
            f"{source_name}: template field 'kind' is {kind!r}; "
            f"expected one of {', '.join(TEMPLATE_KINDS)}"
        )
    lines = _parse_lines(data.get("lines"), source_name)
    relations = _parse_relations(data.get("relations", []), lines, source_name)
    statistics = _parse_statistics(data.get("statistics"), lines, source_name)
    return ProtocolTemplateSpec(
        key=key, name=name, kind=kind, lines=lines, relations=relations, statistics=statistics
    )


def _parse_lines(raw: object, source: str) -> tuple[ProtocolLine, ...]:
    if not isinstance(raw, list) or not raw:
        raise TemplateError(f"{source}: no protocol lines; expected at least one [[lines]] table")
    lines: list[ProtocolLine] = []
    seen_numbers: dict[str, str] = {}
    for index, item in enumerate(raw, start=1):
        where = f"line {index}"
        if not isinstance(item, Mapping):
            raise TemplateError(f"{source}: {where} is not a table; expected a [[lines]] table")
        _reject_unknown_fields(item, _LINE_FIELDS, source, where)
        key = _required_str(item, "key", source, where)
        where = f"line {index} ({key!r})"
        if not _LINE_KEY.match(key) or keyword.iskeyword(key) or key in RESERVED_LINE_KEYS:
            raise TemplateError(
                f"{source}: {where}: key is not valid; expected lowercase letters, digits and "
                "underscores, starting with a letter, not a Python keyword nor 'sum'/'options'"
            )
        earlier = next((n for n, line in enumerate(lines, start=1) if line.key == key), None)
        if earlier is not None:
            raise TemplateError(
                f"{source}: {where}: duplicate line key {key!r} (also line {earlier}); "
                "expected each line to have its own key"
            )
        number = _required_str(item, "number", source, where)
        if number in seen_numbers:
            raise TemplateError(
                f"{source}: {where}: number {number!r} is already used by line "
                f"{seen_numbers[number]!r}; expected each line to have its own number"
            )
        seen_numbers[number] = key
        labels = _language_table(item.get("label"), source, f"{where} field 'label'")
        if "en" not in labels:
            raise TemplateError(f"{source}: {where}: no English label; expected label.en")
        option = item.get("option", False)
        if not isinstance(option, bool):
            raise TemplateError(
                f"{source}: {where}: field 'option' is {option!r}; expected true or false"
            )
        lines.append(ProtocolLine(key=key, number=number, labels=labels, option=option))
    if not any(line.option for line in lines):
        raise TemplateError(
            f"{source}: no ballot-option line; expected at least one line with option = true "
            "(a candidate, a party or an answer)"
        )
    return tuple(lines)


def _parse_relations(
    raw: object, lines: tuple[ProtocolLine, ...], source: str
) -> tuple[ControlRelation, ...]:
    if not isinstance(raw, list):
        raise TemplateError(f"{source}: 'relations' is not a list; expected [[relations]] tables")
    line_keys = [line.key for line in lines]
    option_keys = [line.key for line in lines if line.option]
    relations: list[ControlRelation] = []
    for index, item in enumerate(raw, start=1):
        where = f"relation {index}"
        if not isinstance(item, Mapping):
            raise TemplateError(f"{source}: {where} is not a table; expected a [[relations]] table")
        _reject_unknown_fields(item, _RELATION_FIELDS, source, where)
        expression = _required_str(item, "expression", source, where)
        try:
            parsed = parse_relation(expression, line_keys, option_keys)
        except ExpressionError as err:
            raise TemplateError(f"{source}: {where}: {err}") from None
        severity = item.get("severity")
        if severity not in SEVERITIES:
            raise TemplateError(
                f"{source}: {where}: severity is {_shown(severity)}; "
                f"expected one of {', '.join(SEVERITIES)}"
            )
        description = _language_table(
            item.get("description", {}), source, f"{where} field 'description'"
        )
        relations.append(
            ControlRelation(
                expression=expression, parsed=parsed, severity=severity, description=description
            )
        )
    return tuple(relations)


def _parse_statistics(
    raw: object, lines: tuple[ProtocolLine, ...], source: str
) -> Statistics | None:
    if raw is None:
        return None
    where = "statistics"
    if not isinstance(raw, Mapping):
        raise TemplateError(
            f"{source}: 'statistics' is {_shown(raw)}; expected a [statistics] table"
        )
    _reject_unknown_fields(raw, set(STATISTICS_FIELDS), source, where)
    line_keys = [line.key for line in lines]
    option_keys = [line.key for line in lines if line.option]
    quantities: dict[str, Quantity] = {}
    for name in STATISTICS_FIELDS:
        text = _required_str(raw, name, source, where)
        try:
            quantities[name] = parse_quantity(text, line_keys, option_keys)
        except ExpressionError as err:
            raise TemplateError(f"{source}: {where} field {name!r}: {err}") from None
    return Statistics(**quantities)


def _language_table(raw: object, source: str, where: str) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise TemplateError(
            f"{source}: {where} is {_shown(raw)}; expected a table of language code = text"
        )
    table: dict[str, str] = {}
    for language, text in raw.items():
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise TemplateError(
                f"{source}: {where}: {language!r} is not a language code; expected e.g. en, ru, kk"
            )
        if not isinstance(text, str) or not text.strip():
            raise TemplateError(f"{source}: {where}.{language} is {text!r}; expected a text")
        table[language] = text.strip()
    return table


def _required_str(data: Mapping[str, Any], field: str, source: str, where: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(
            f"{source}: {where} field {field!r} is {_shown(value)}; expected a non-empty string"
        )
    return value.strip()


def _shown(value: object) -> str:
    return "missing" if value is None else repr(value)


def _reject_unknown_fields(
    data: Mapping[str, Any], allowed: set[str], source: str, where: str
) -> None:
    # A typo ("lable", "severty") would otherwise be silently ignored.
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise TemplateError(
            f"{source}: {where}: unknown field(s) {', '.join(unknown)}; "
            f"expected only {', '.join(sorted(allowed))}"
        )
