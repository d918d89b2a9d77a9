"""One station's sources side by side: observers' copies, official figures, their consensus.

Read-only, for the station comparison page. The consensus is computed by ``core.crosscheck``
from every current copy at the station — also those the viewer may not see raw, because the
consensus is a derived figure the mission publishes — while the copy columns are only those
``visible_copies`` allows. A cell is marked where it differs:

- an observer's copy from the official figure, or from the other copies (where the copies
  disagree on the line: every cell off the consensus, or all of them if there is none);
- the official figure from the observers' consensus;
- the consensus from the official figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch

from pollwatch.accreditation.sharing import visible_copies
from pollwatch.core.crosscheck import Copies, Figures, consensus
from pollwatch.core.protocol import ProtocolLine, ProtocolTemplateSpec
from pollwatch.core.relation_feedback import RelationFeedback, relation_feedback
from pollwatch.findings.models import Finding
from pollwatch.findings.selectors import Viewer, findings_visible_to
from pollwatch.official.models import OfficialResult
from pollwatch.protocols.models import Photo, ProtocolCopy
from pollwatch.registry.models import PollingStation


@dataclass(frozen=True)
class Cell:
    value: int | None  # None: the source has no figure for the line
    differs_from_official: bool = False
    differs_from_copies: bool = False
    differs_from_consensus: bool = False

    @property
    def differs(self) -> bool:
        return self.differs_from_official or self.differs_from_copies or self.differs_from_consensus


@dataclass(frozen=True)
class ConsensusCell(Cell):
    agreed: bool = False
    support: int = 0  # organisations agreeing on the value
    organisations: int = 0  # organisations reporting the line


@dataclass(frozen=True)
class CopyColumn:
    copy: ProtocolCopy
    photos: Sequence[Photo]
    relations: Sequence[RelationFeedback]


@dataclass(frozen=True)
class Row:
    line: ProtocolLine
    label: str  # in the page's language
    copies: Sequence[Cell]  # one per copy column, in the columns' order
    official: Cell | None
    consensus: ConsensusCell | None


@dataclass(frozen=True)
class RelationRow:
    """One control relation on every source: feedback per copy column, official, consensus."""

    text: str
    description: str
    copies: Sequence[RelationFeedback]
    official: RelationFeedback | None
    consensus: RelationFeedback | None


# Findings whose values are one observer's copy: shown in full only to those who may open them
# in the findings pages; everyone else learns the kind, the lines and the status.
COPY_LEVEL_KINDS = frozenset(
    {
        Finding.Kind.RELATION_BROKEN_ON_COPY,
        Finding.Kind.COPIES_DISAGREE,
        Finding.Kind.COPY_DIFFERS_FROM_OFFICIAL,
    }
)


@dataclass(frozen=True)
class StationFinding:
    finding: Finding
    openable: bool  # the viewer may open it in the findings pages

    @property
    def show_values(self) -> bool:
        return self.openable or self.finding.kind not in COPY_LEVEL_KINDS


@dataclass(frozen=True)
class StationComparison:
    columns: Sequence[CopyColumn]  # the current copies the viewer may see
    superseded: Sequence[ProtocolCopy]  # earlier versions the viewer may see, oldest first
    official: OfficialResult | None
    rows: Sequence[Row]
    relations: Sequence[RelationRow]
    copy_count: int  # current copies at the station, seen or not
    organisation_count: int  # distinct organisations among them
    findings: Sequence[StationFinding]

    @property
    def hidden_copies(self) -> int:
        return self.copy_count - len(self.columns)

    @property
    def has_consensus(self) -> bool:
        return self.copy_count > 0


def compare_station(
    user: AbstractBaseUser | AnonymousUser,
    station: PollingStation,
    spec: ProtocolTemplateSpec,
    language: str,
) -> StationComparison:
    copies = ProtocolCopy.objects.filter(station=station).order_by("received_at", "id")
    # All current copies: the consensus counts them whether or not this viewer sees them raw.
    current = list(
        copies.filter(superseded_by__isnull=True).values_list("id", "organisation_id", "figures")
    )
    visible = list(
        visible_copies(user, copies)
        .select_related("organisation", "observer", "superseded_by")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("id")))
    )
    shown = [copy for copy in visible if not _is_superseded(copy)]
    superseded = [copy for copy in visible if _is_superseded(copy)]
    official = (
        OfficialResult.objects.filter(station=station, current=True)
        .select_related("snapshot")
        .first()
    )
    agreement = _consensus(spec, [(org, figures) for _id, org, figures in current])
    rows = _rows(spec, language, shown, official, agreement)
    openable = set(
        # The project's accounts are django.contrib.auth Users; the selector is typed so.
        findings_visible_to(cast(Viewer, user), station.election)
        .filter(station=station, present=True)
        .values_list("id", flat=True)
    )
    findings = [
        StationFinding(finding, finding.pk in openable)
        for finding in Finding.objects.filter(station=station, present=True).order_by(
            "-magnitude", "kind", "id"
        )
    ]
    consensus_figures = (
        {
            row.line.key: row.consensus.value
            for row in rows
            if row.consensus and row.consensus.agreed
        }
        if agreement is not None
        else None
    )
    columns = [
        CopyColumn(copy, list(copy.photos.all()), relation_feedback(spec, copy.figures))
        for copy in shown
    ]
    official_feedback = relation_feedback(spec, official.figures) if official else None
    consensus_feedback = (
        relation_feedback(spec, consensus_figures) if consensus_figures is not None else None
    )
    relations = [
        RelationRow(
            text=relation.expression,
            description=relation.description.get(language) or relation.description.get("en", ""),
            copies=[column.relations[index] for column in columns],
            official=official_feedback[index] if official_feedback else None,
            consensus=consensus_feedback[index] if consensus_feedback else None,
        )
        for index, relation in enumerate(spec.relations)
    ]
    return StationComparison(
        columns=columns,
        superseded=superseded,
        official=official,
        rows=rows,
        relations=relations,
        copy_count=len(current),
        organisation_count=len({org for _id, org, _figures in current}),
        findings=findings,
    )


def _is_superseded(copy: ProtocolCopy) -> bool:
    try:
        copy.superseded_by  # noqa: B018 - the reverse one-to-one raises when there is none
    except ProtocolCopy.DoesNotExist:
        return False
    return True


@dataclass(frozen=True)
class _Agreement:
    value: list[int]
    agreed: list[bool]
    support: list[int]
    organisations: list[int]
    disagree: list[bool]


def _consensus(
    spec: ProtocolTemplateSpec, copies: Sequence[tuple[int, Mapping[str, int]]]
) -> _Agreement | None:
    """The core consensus rule on this station's current copies; None without copies."""
    if not copies:
        return None
    keys = spec.line_keys
    values = np.zeros((len(copies), len(keys)), dtype=np.int64)
    missing = np.ones(values.shape, dtype=np.bool_)
    for row, (_organisation, figures) in enumerate(copies):
        for column, key in enumerate(keys):
            if isinstance(figures.get(key), int):
                values[row, column] = figures[key]
                missing[row, column] = False
    result = consensus(
        Copies(
            station=np.zeros(len(copies), dtype=np.intp),
            organisation=np.array([org for org, _figures in copies], dtype=np.int64),
            figures=Figures(values, missing),
        )
    )
    return _Agreement(
        value=result.value[0].tolist(),
        agreed=result.agreed[0].tolist(),
        support=result.support[0].tolist(),
        organisations=result.organisations[0].tolist(),
        disagree=result.disagree[0].tolist(),
    )


def _rows(
    spec: ProtocolTemplateSpec,
    language: str,
    shown: Sequence[ProtocolCopy],
    official: OfficialResult | None,
    agreement: _Agreement | None,
) -> list[Row]:
    rows = []
    for index, line in enumerate(spec.lines):
        official_value = _figure(official.figures, line.key) if official else None
        agreed_value = (
            agreement.value[index] if agreement is not None and agreement.agreed[index] else None
        )
        disagree = agreement is not None and agreement.disagree[index]
        copy_cells = []
        for copy in shown:
            value = _figure(copy.figures, line.key)
            copy_cells.append(
                Cell(
                    value,
                    differs_from_official=_differ(value, official_value),
                    differs_from_copies=disagree
                    and value is not None
                    and (agreed_value is None or value != agreed_value),
                )
            )
        consensus_cell = (
            ConsensusCell(
                agreed_value,
                differs_from_official=_differ(agreed_value, official_value),
                agreed=agreement.agreed[index],
                support=agreement.support[index],
                organisations=agreement.organisations[index],
            )
            if agreement is not None
            else None
        )
        official_cell = (
            Cell(official_value, differs_from_consensus=_differ(official_value, agreed_value))
            if official is not None
            else None
        )
        rows.append(Row(line, line.label(language), copy_cells, official_cell, consensus_cell))
    return rows


def _figure(figures: Mapping[str, object], key: str) -> int | None:
    value = figures.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _differ(value: int | None, other: int | None) -> bool:
    return value is not None and other is not None and value != other
