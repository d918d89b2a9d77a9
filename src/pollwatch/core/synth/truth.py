"""The ground truth of a synthetic election: the findings its injected faults imply, exactly.

Derived fault by fault from what was injected — not by running the cross-check — so that a
test comparing the two checks the cross-check:

- a **transcription slip** on line L of one of a station's n copies (n organisations): that
  copy differs from the official figure on L, and breaks every control relation the typed
  figure breaks; with n ≥ 2 the copies disagree on L (highest and lowest value); with n = 1
  the copy is the consensus, which then differs from official; with n = 2 there is no
  consensus on L; with n ≥ 3 the other organisations are a majority for the true value.
- **ballot stuffing**: on each inflated line, every copy and the consensus (n organisations)
  differ from the official figure; the arithmetic still holds.
- an official **arithmetic error** on line L: every copy and the consensus differ on L, the
  station's published figures break relations, and so do the totals above it (the law's
  relations are linear; the commissions added up what was published), where they break.
- a **territorial total** with votes moved from No to Yes: it differs from its stations' sum
  on both lines; the region above added it up as published.
- a **missing official result** at a station with n copies: a missing-official-result finding.
- an observer assigned to a station who handed in nothing, with no other copy there: a
  missing copy.
- a **silent change** (a later publication moved votes from No to Yes): a silent-change
  finding on Yes and on No at the station and at every total above it that changed (value
  before on the right, after on the left); every copy and the consensus differ from the
  figures now in force on both lines.

Nothing else: the honest figures satisfy every relation and every sum.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pollwatch.core.crosscheck import (
    Copies,
    Figures,
    FindingKind,
    Findings,
    Hierarchy,
    OfficialResults,
)
from pollwatch.core.protocol import ProtocolTemplateSpec
from pollwatch.core.synth.election import SyntheticElection
from pollwatch.core.synth.faults import STUFFED_LINES
from pollwatch.core.synth.params import GENERATOR_VERSION
from pollwatch.core.synth.protocol import LINE_KEYS

# Found by the official import (a later publication changed figures), not by the cross-check.
SILENT_CHANGE = "silent-change"


@dataclass(frozen=True)
class FindingRecord:
    """One finding in the files' terms: codes for places, the copy's UUID, line keys.

    ``left``/``right``/``copies``/``organisations`` as ``core.crosscheck.Findings`` defines
    them per kind; ``relation`` is the relation's expression (its lines are ``lines``).
    """

    kind: str
    station: str | None
    commission: str | None
    copy: str | None
    lines: tuple[str, ...]
    relation: str
    left: int
    right: int
    copies: int = 0
    organisations: int = 0

    @property
    def delta(self) -> int:
        return self.left - self.right

    @property
    def sort_key(self) -> tuple[str, str, str, str, tuple[str, ...], str]:
        return (
            self.kind,
            self.station or "",
            self.commission or "",
            self.copy or "",
            self.lines,
            self.relation,
        )

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "station": self.station,
            "commission": self.commission,
            "copy": self.copy,
            "lines": list(self.lines),
            "relation": self.relation,
            "left": self.left,
            "right": self.right,
            "delta": self.delta,
            "copies": self.copies,
            "organisations": self.organisations,
        }


@dataclass(frozen=True)
class CrosscheckInputs:
    """The synthetic election as the cross-check reads it (commissions: regions, then
    territorials; copies in file order; only published station results)."""

    hierarchy: Hierarchy
    copies: Copies
    official_stations: OfficialResults
    official_totals: OfficialResults
    copy_expected: NDArray[np.bool_]  # stations with an observer assigned


def crosscheck_inputs(election: SyntheticElection) -> CrosscheckInputs:
    structure, observation, publication = (
        election.structure,
        election.observation,
        election.publication,
    )
    regions = len(structure.region_codes)
    stations = len(structure.station_number)
    hierarchy = Hierarchy(
        np.concatenate([np.full(regions, -1), structure.territorial_region]).astype(np.intp),
        (regions + structure.station_territorial).astype(np.intp),
    )
    published = publication.published_stations
    totals = np.concatenate([publication.region_totals, publication.territorial_totals])
    expected = np.zeros(stations, dtype=np.bool_)
    expected[observation.observer_station] = True
    return CrosscheckInputs(
        hierarchy=hierarchy,
        copies=Copies(
            observation.copy_station,
            observation.copy_organisation.astype(np.int64),
            Figures.complete(publication.copy_figures),
        ),
        official_stations=OfficialResults(
            published, Figures.complete(publication.station_figures[published])
        ),
        official_totals=OfficialResults(
            np.arange(len(totals), dtype=np.intp), Figures.complete(totals)
        ),
        copy_expected=expected,
    )


def commission_codes(election: SyntheticElection) -> tuple[str, ...]:
    """Commission codes by the cross-check's commission index: regions, then territorials."""
    return election.structure.region_codes + election.structure.territorial_codes


def expected_findings(
    election: SyntheticElection, template: ProtocolTemplateSpec
) -> list[FindingRecord]:
    """Every finding the injected faults imply, sorted."""
    if template.line_keys != LINE_KEYS:
        raise ValueError(
            f"template {template.key!r} has lines {template.line_keys}; the synthetic "
            f"election's protocol has {LINE_KEYS}"
        )
    records = [
        *_slips(election, template),
        *_stuffing(election),
        *_arithmetic_errors(election, template),
        *_faulty_totals(election),
        *_missing_official(election),
        *_missing_copies(election),
        *_silent_changes(election),
    ]
    return sorted(records, key=_sort_key)


def ground_truth(election: SyntheticElection, template: ProtocolTemplateSpec) -> dict[str, object]:
    """What was injected, in codes and line keys, and the findings it implies (JSON-ready)."""
    faults, observation, structure = election.faults, election.observation, election.structure
    honest, official = election.protocols.figures, election.publication.station_figures
    codes = structure.station_codes
    organisations = [o.code for o in observation.organisations]
    slip_station = observation.copy_station[faults.slip_copy]
    unreported = np.arange(observation.copies, observation.observer_station.size)
    params = election.params
    return {
        "generator": "pollwatch synth",
        "version": GENERATOR_VERSION,
        "seed": params.seed,
        "stations": params.stations,
        "template": template.key,
        "faults": {
            "transcription_slips": [
                {
                    "station": str(codes[station]),
                    "copy": str(observation.copy_id[copy]),
                    "organisation": organisations[observation.copy_organisation[copy]],
                    "observer": str(observation.observer_code[copy]),
                    "line": LINE_KEYS[line],
                    "true": true,
                    "written": written,
                }
                for station, copy, line, true, written in zip(
                    slip_station.tolist(),
                    faults.slip_copy.tolist(),
                    faults.slip_line.tolist(),
                    faults.slip_true.tolist(),
                    faults.slip_written.tolist(),
                    strict=True,
                )
            ],
            "ballot_stuffing": [
                {
                    "station": str(codes[station]),
                    "ballots": ballots,
                    "lines": {
                        key: {
                            "true": int(honest[station, LINE_KEYS.index(key)]),
                            "published": int(official[station, LINE_KEYS.index(key)]),
                        }
                        for key in STUFFED_LINES
                    },
                }
                for station, ballots in zip(
                    faults.stuffed_station.tolist(), faults.stuffed_ballots.tolist(), strict=True
                )
            ],
            "arithmetic_errors": [
                {
                    "station": str(codes[station]),
                    "line": LINE_KEYS[line],
                    "true": true,
                    "published": published,
                }
                for station, line, true, published in zip(
                    faults.error_station.tolist(),
                    faults.error_line.tolist(),
                    faults.error_true.tolist(),
                    faults.error_published.tolist(),
                    strict=True,
                )
            ],
            "totals_not_the_sum": [
                {
                    "commission": structure.territorial_codes[territorial],
                    "moved_votes": moved,
                    "from_line": "no",
                    "to_line": "yes",
                }
                for territorial, moved in zip(
                    faults.faulty_territorial.tolist(), faults.moved_votes.tolist(), strict=True
                )
            ],
            "missing_official_results": codes[faults.missing_station].tolist(),
            "silent_changes": [
                {
                    "station": str(codes[station]),
                    "moved_votes": moved,
                    "from_line": "no",
                    "to_line": "yes",
                }
                for station, moved in zip(
                    faults.revised_station.tolist(), faults.revised_votes.tolist(), strict=True
                )
            ],
            "copies_not_handed_in": [
                {
                    "station": str(codes[observation.observer_station[observer]]),
                    "organisation": organisations[observation.observer_organisation[observer]],
                    "observer": str(observation.observer_code[observer]),
                }
                for observer in unreported.tolist()
            ],
        },
        "findings": [record.as_json() for record in expected_findings(election, template)],
    }


def read_ground_truth(path: Path) -> list[FindingRecord]:
    """The expected findings of a ground_truth.json file, sorted."""
    truth = json.loads(Path(path).read_text(encoding="utf-8"))
    return sorted(
        (
            FindingRecord(
                kind=f["kind"],
                station=f["station"],
                commission=f["commission"],
                copy=f["copy"],
                lines=tuple(f["lines"]),
                relation=f["relation"],
                left=f["left"],
                right=f["right"],
                copies=f["copies"],
                organisations=f["organisations"],
            )
            for f in truth["findings"]
        ),
        key=_sort_key,
    )


def findings_as_records(
    findings: Findings, election: SyntheticElection, template: ProtocolTemplateSpec
) -> list[FindingRecord]:
    """The cross-check's findings on ``crosscheck_inputs(election)`` in the files' terms."""
    station_codes = election.structure.station_codes.tolist()
    commissions = commission_codes(election)
    copy_ids = election.observation.copy_id.tolist()
    relations = template.relations
    records = []
    for kind, station, commission, copy, relation, line, left, right, copies, orgs in zip(
        findings.kind.tolist(),
        findings.station.tolist(),
        findings.commission.tolist(),
        findings.copy.tolist(),
        findings.relation.tolist(),
        findings.line.tolist(),
        findings.left.tolist(),
        findings.right.tolist(),
        findings.copies.tolist(),
        findings.organisations.tolist(),
        strict=True,
    ):
        on_relation = relation >= 0
        records.append(
            FindingRecord(
                kind=FindingKind(kind).slug,
                station=station_codes[station] if station >= 0 else None,
                commission=commissions[commission] if commission >= 0 else None,
                copy=copy_ids[copy] if copy >= 0 else None,
                lines=(
                    relations[relation].parsed.line_keys
                    if on_relation
                    else ((LINE_KEYS[line],) if line >= 0 else ())
                ),
                relation=relations[relation].expression if on_relation else "",
                left=left,
                right=right,
                copies=copies,
                organisations=orgs,
            )
        )
    return sorted(records, key=_sort_key)


def _sort_key(record: FindingRecord) -> tuple[str, str, str, str, tuple[str, ...], str]:
    return record.sort_key


def _copies_at(election: SyntheticElection, stations: NDArray[np.intp]) -> NDArray[np.int64]:
    copy_station = election.observation.copy_station
    return (
        np.searchsorted(copy_station, stations, side="right")
        - np.searchsorted(copy_station, stations)
    ).astype(np.int64)


def _broken(
    template: ProtocolTemplateSpec, figures: NDArray[np.int64]
) -> Iterable[tuple[int, int, int, int]]:
    """(row, relation, left, right) for every relation a row of ``figures`` breaks."""
    for index, relation in enumerate(template.relations):
        evaluation = relation.evaluate(
            {key: figures[:, LINE_KEYS.index(key)] for key in relation.parsed.line_keys}
        )
        for row in np.flatnonzero(~evaluation.holds).tolist():
            yield row, index, int(evaluation.left[row]), int(evaluation.right[row])


def _slips(election: SyntheticElection, template: ProtocolTemplateSpec) -> list[FindingRecord]:
    faults, observation = election.faults, election.observation
    codes = election.structure.station_codes
    station = observation.copy_station[faults.slip_copy]
    copies = _copies_at(election, station)
    records = []
    for s, copy, line, true, written, n in zip(
        codes[station].tolist(),
        observation.copy_id[faults.slip_copy].tolist(),
        faults.slip_line.tolist(),
        faults.slip_true.tolist(),
        faults.slip_written.tolist(),
        copies.tolist(),
        strict=True,
    ):
        key = (LINE_KEYS[line],)
        records.append(
            FindingRecord("copy-differs-from-official", s, None, copy, key, "", written, true, 1, 1)
        )
        if n >= 2:
            records.append(
                FindingRecord(
                    "copies-disagree",
                    s,
                    None,
                    None,
                    key,
                    "",
                    max(true, written),
                    min(true, written),
                    n,
                    n,
                )
            )
        if n == 1:
            records.append(
                FindingRecord(
                    "consensus-differs-from-official", s, None, None, key, "", written, true, 1, 1
                )
            )
    slipped = election.publication.copy_figures[faults.slip_copy]
    for row, relation, left, right in _broken(template, slipped):
        records.append(
            FindingRecord(
                "relation-broken-on-copy",
                str(codes[station[row]]),
                None,
                str(observation.copy_id[faults.slip_copy[row]]),
                template.relations[relation].parsed.line_keys,
                template.relations[relation].expression,
                left,
                right,
                1,
                1,
            )
        )
    return records


def _differences(
    election: SyntheticElection, stations: NDArray[np.intp], lines: Sequence[Sequence[int]]
) -> list[FindingRecord]:
    """Every copy and the consensus against official on ``lines[i]`` at ``stations[i]``,
    where all copies hold the true figures."""
    observation = election.observation
    honest = election.protocols.figures
    official = election.publication.station_figures
    codes = election.structure.station_codes
    first = np.searchsorted(observation.copy_station, stations)
    counts = _copies_at(election, stations)
    records = []
    for i, station in enumerate(stations.tolist()):
        code, n = str(codes[station]), int(counts[i])
        for line in lines[i]:
            key = (LINE_KEYS[line],)
            true, published = int(honest[station, line]), int(official[station, line])
            for copy in observation.copy_id[first[i] : first[i] + n].tolist():
                records.append(
                    FindingRecord(
                        "copy-differs-from-official",
                        code,
                        None,
                        copy,
                        key,
                        "",
                        true,
                        published,
                        1,
                        1,
                    )
                )
            records.append(
                FindingRecord(
                    "consensus-differs-from-official",
                    code,
                    None,
                    None,
                    key,
                    "",
                    true,
                    published,
                    n,
                    n,
                )
            )
    return records


def _stuffing(election: SyntheticElection) -> list[FindingRecord]:
    stations = election.faults.stuffed_station
    lines = sorted(LINE_KEYS.index(key) for key in STUFFED_LINES)
    return _differences(election, stations, [lines] * stations.size)


def _arithmetic_errors(
    election: SyntheticElection, template: ProtocolTemplateSpec
) -> list[FindingRecord]:
    faults, structure = election.faults, election.structure
    stations = faults.error_station
    records = _differences(election, stations, [[line] for line in faults.error_line.tolist()])
    codes = structure.station_codes
    for row, relation, left, right in _broken(
        template, election.publication.station_figures[stations]
    ):
        records.append(
            _on_official(template, relation, left, right, station=str(codes[stations[row]]))
        )
    # The totals above: the station's territorial and its region, as published.
    territorials = np.unique(structure.station_territorial[stations])
    regions = np.unique(structure.territorial_region[territorials])
    for places, totals, place_codes in (
        (territorials, election.publication.territorial_totals, structure.territorial_codes),
        (regions, election.publication.region_totals, structure.region_codes),
    ):
        for row, relation, left, right in _broken(template, totals[places]):
            records.append(
                _on_official(template, relation, left, right, commission=place_codes[places[row]])
            )
    return records


def _on_official(
    template: ProtocolTemplateSpec,
    relation: int,
    left: int,
    right: int,
    station: str | None = None,
    commission: str | None = None,
) -> FindingRecord:
    return FindingRecord(
        "relation-broken-on-official",
        station,
        commission,
        None,
        template.relations[relation].parsed.line_keys,
        template.relations[relation].expression,
        left,
        right,
    )


def _faulty_totals(election: SyntheticElection) -> list[FindingRecord]:
    faults, structure = election.faults, election.structure
    totals = election.publication.territorial_totals
    records = []
    for territorial, moved in zip(
        faults.faulty_territorial.tolist(), faults.moved_votes.tolist(), strict=True
    ):
        code = structure.territorial_codes[territorial]
        for key, sign in (("yes", 1), ("no", -1)):
            published = int(totals[territorial, LINE_KEYS.index(key)])
            records.append(
                FindingRecord(
                    "total-differs-from-children",
                    None,
                    code,
                    None,
                    (key,),
                    "",
                    published,
                    published - sign * moved,
                )
            )
    return records


def _missing_official(election: SyntheticElection) -> list[FindingRecord]:
    stations = election.faults.missing_station
    codes = election.structure.station_codes[stations].tolist()
    counts = _copies_at(election, stations).tolist()
    return [
        FindingRecord("missing-official-result", code, None, None, (), "", 0, 0, n, n)
        for code, n in zip(codes, counts, strict=True)
    ]


def _silent_changes(election: SyntheticElection) -> list[FindingRecord]:
    faults, publication, structure = election.faults, election.publication, election.structure
    revised = faults.revised_station
    lines = [LINE_KEYS.index("yes"), LINE_KEYS.index("no")]
    records = _differences(election, revised, [lines] * revised.size)
    for codes, rows, after, before, place in (
        (
            structure.station_codes[revised].tolist(),
            revised,
            publication.station_figures,
            publication.station_before,
            "station",
        ),
        (
            list(structure.territorial_codes),
            publication.revised_territorial,
            publication.territorial_totals,
            publication.territorial_before,
            "commission",
        ),
        (
            list(structure.region_codes),
            publication.revised_region,
            publication.region_totals,
            publication.region_before,
            "commission",
        ),
    ):
        for i, row in enumerate(rows.tolist()):
            code = codes[i] if place == "station" else codes[row]
            for line in np.flatnonzero(after[row] != before[i]).tolist():
                records.append(
                    FindingRecord(
                        SILENT_CHANGE,
                        code if place == "station" else None,
                        code if place == "commission" else None,
                        None,
                        (LINE_KEYS[line],),
                        "",
                        int(after[row, line]),
                        int(before[i, line]),
                    )
                )
    return records


def _missing_copies(election: SyntheticElection) -> list[FindingRecord]:
    stations = election.observation.unreported_stations
    return [
        FindingRecord("missing-copy", code, None, None, (), "", 0, 0)
        for code in election.structure.station_codes[stations].tolist()
    ]
