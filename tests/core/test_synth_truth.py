"""Synthetic observers, copies and injected faults, and the ground truth they imply.

The central check: the core cross-check run on the synthetic arrays finds exactly the findings
that ``truth`` derives fault by fault — every injected discrepancy, nothing else.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pollwatch.core.crosscheck import FindingKind, crosscheck
from pollwatch.core.synth import (
    LINE_KEYS,
    SILENT_CHANGE,
    FindingRecord,
    SyntheticElection,
    SynthParameterError,
    SynthParams,
    crosscheck_inputs,
    expected_findings,
    findings_as_records,
    generate,
    read_ground_truth,
    synth_template,
    write_files,
)
from pollwatch.core.synth.faults import STUFFED_LINES
from tests.core.shipped_templates import shipped

TEMPLATE = shipped("kz-referendum")


def _expected(election: SyntheticElection) -> list[FindingRecord]:
    """What the cross-check must find: all but silent changes (the official import's)."""
    return [r for r in expected_findings(election, TEMPLATE) if r.kind != SILENT_CHANGE]


def _computed(election: SyntheticElection) -> list[FindingRecord]:
    inputs = crosscheck_inputs(election)
    result = crosscheck(
        TEMPLATE,
        inputs.hierarchy,
        inputs.copies,
        inputs.official_stations,
        inputs.official_totals,
        inputs.copy_expected,
    )
    return findings_as_records(result.findings, election, TEMPLATE)


@pytest.fixture(scope="module")
def election() -> SyntheticElection:
    return generate(SynthParams.build(stations=10_000, seed=2026))


def test_crosscheck_finds_exactly_the_ground_truth_at_10000_stations(
    election: SyntheticElection,
) -> None:
    expected = _expected(election)
    assert _computed(election) == expected
    # Every kind the cross-check knows is among them, each many times over.
    kinds = Counter(record.kind for record in expected)
    assert set(kinds) == {kind.slug for kind in FindingKind}
    assert min(kinds.values()) >= 2


@pytest.mark.parametrize(
    "params",
    [
        SynthParams.build(stations=1, seed=1),
        SynthParams.build(stations=30, seed=2),
        SynthParams.build(stations=400, seed=3, organisations=2),
        SynthParams.build(stations=3_000, seed=4, organisations=1),
        SynthParams.build(stations=2_000, seed=5, organisations=12, coverage=1.0, unreported=0),
        SynthParams.build(
            stations=2_000,
            seed=6,
            slips=0.05,
            stuffed=0.05,
            arithmetic_errors=0.05,
            missing_official=0.05,
            faulty_totals=7,
        ),
        SynthParams.build(
            stations=500,
            seed=7,
            slips=0,
            stuffed=0,
            arithmetic_errors=0,
            missing_official=0,
            faulty_totals=0,
            unreported=0,
            silent_changes=0,
        ),
    ],
    ids=lambda p: f"{p.stations}-seed{p.seed}",
)
def test_ground_truth_holds_at_other_sizes_and_fault_rates(params: SynthParams) -> None:
    election = generate(params)
    assert _computed(election) == _expected(election)


def test_an_election_without_faults_has_no_findings() -> None:
    election = generate(
        SynthParams.build(
            stations=800,
            seed=8,
            slips=0,
            stuffed=0,
            arithmetic_errors=0,
            missing_official=0,
            faulty_totals=0,
            unreported=0,
            silent_changes=0,
        )
    )
    assert _computed(election) == []
    assert expected_findings(election, TEMPLATE) == []
    assert (
        election.publication.copy_figures
        == election.protocols.figures[election.observation.copy_station]
    ).all()


def test_the_truth_is_derived_not_copied_from_the_crosscheck(
    election: SyntheticElection,
) -> None:
    """Undo one slip in the copies: the cross-check no longer agrees with the ground truth."""
    faults = election.faults
    copy, line = int(faults.slip_copy[0]), int(faults.slip_line[0])
    election.publication.copy_figures[copy, line] = faults.slip_true[0]
    try:
        computed = _computed(election)
    finally:
        election.publication.copy_figures[copy, line] = faults.slip_written[0]
    expected = _expected(election)
    copy_id = str(election.observation.copy_id[copy])
    missing = [r for r in expected if r not in set(computed)]
    assert missing and all(r.copy == copy_id or r.copy is None for r in missing)


# --- observers and copies --------------------------------------------------------------------


def test_copies_come_from_distinct_organisations_one_to_four_a_station(
    election: SyntheticElection,
) -> None:
    observation = election.observation
    per_station = np.bincount(observation.copy_station)
    covered = per_station[per_station > 0]
    assert covered.min() == 1 and covered.max() == 4
    assert set(np.unique(covered).tolist()) == {1, 2, 3, 4}
    assert 0.55 < covered.size / 10_000 < 0.65
    pairs = observation.copy_station.astype(np.int64) * 1000 + observation.copy_organisation
    assert np.unique(pairs).size == pairs.size
    assert (np.diff(observation.copy_station) >= 0).all()


def test_every_copy_has_its_observer_assigned_to_its_station(
    election: SyntheticElection,
) -> None:
    observation = election.observation
    observer = observation.copy_observer
    assert (observation.observer_station[observer] == observation.copy_station).all()
    assert (observation.observer_organisation[observer] == observation.copy_organisation).all()
    unreported = observation.unreported_stations
    assert unreported.size > 0
    assert not np.isin(unreported, observation.copy_station).any()


def test_observers_have_unique_codes_and_accreditation_numbers(
    election: SyntheticElection,
) -> None:
    observation = election.observation
    codes = observation.observer_code.tolist()
    assert len(set(codes)) == len(codes)
    organisations = [o.code for o in observation.organisations]
    for code, organisation in zip(codes, observation.observer_organisation.tolist(), strict=True):
        assert code.startswith(organisations[organisation] + "-")
    numbers = observation.accreditation_number.tolist()
    assert len(set(numbers)) == len(numbers)
    assert {o.kind for o in observation.organisations} == {
        "party",
        "ngo",
        "media",
        "international_mission",
        "foreign_observer_group",
    }


def test_copy_ids_are_uuids_unique_and_reproducible(election: SyntheticElection) -> None:
    ids = election.observation.copy_id.tolist()
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(value).version == 4 for value in ids[:1000])
    again = generate(SynthParams.build(stations=10_000, seed=2026))
    assert again.observation.copy_id.tolist() == ids
    other = generate(SynthParams.build(stations=10_000, seed=2027))
    assert not set(other.observation.copy_id.tolist()) & set(ids)


# --- the faults themselves ------------------------------------------------------------------


def _relations_hold(figures: np.ndarray) -> np.ndarray:
    holds = np.ones(figures.shape[0], dtype=np.bool_)
    for relation in TEMPLATE.relations:
        evaluation = relation.evaluate(
            {key: figures[:, LINE_KEYS.index(key)] for key in relation.parsed.line_keys}
        )
        holds &= evaluation.holds
    return holds


def test_a_slip_changes_one_figure_of_one_copy(election: SyntheticElection) -> None:
    honest = election.protocols.figures[election.observation.copy_station]
    changed = election.publication.copy_figures != honest
    rows, lines = np.nonzero(changed)
    assert rows.tolist() == election.faults.slip_copy.tolist()
    assert lines.tolist() == election.faults.slip_line.tolist()
    offsets = np.abs(election.faults.slip_written - election.faults.slip_true)
    assert set(offsets.tolist()) <= {1, 10, 100}
    assert (election.publication.copy_figures >= 0).all()


def test_stuffing_inflates_consistently_and_keeps_the_arithmetic(
    election: SyntheticElection,
) -> None:
    faults = election.faults
    stuffed = faults.stuffed_station
    official = election.publication.station_figures[stuffed]
    honest = election.protocols.figures[stuffed]
    assert _relations_hold(official).all()
    difference = official - honest
    for key in LINE_KEYS:
        column = difference[:, LINE_KEYS.index(key)]
        if key in STUFFED_LINES:
            sign = -1 if key == "cancelled" else 1
            assert (column == sign * faults.stuffed_ballots).all(), key
        else:
            assert (column == 0).all(), key
    assert (faults.stuffed_ballots >= 1).all()


def test_arithmetic_errors_break_the_official_arithmetic(election: SyntheticElection) -> None:
    faults = election.faults
    assert not _relations_hold(election.publication.station_figures[faults.error_station]).any()
    others = np.setdiff1d(np.arange(10_000), faults.error_station)
    assert _relations_hold(election.publication.station_figures[others]).all()


def test_totals_add_up_except_the_faulty_territorial(election: SyntheticElection) -> None:
    structure, publication, faults = (
        election.structure,
        election.publication,
        election.faults,
    )
    sums = np.zeros_like(publication.territorial_totals)
    np.add.at(sums, structure.station_territorial, publication.station_figures)
    wrong = np.flatnonzero((sums != publication.territorial_totals).any(axis=1))
    assert wrong.tolist() == faults.faulty_territorial.tolist()
    regions = np.zeros_like(publication.region_totals)
    np.add.at(regions, structure.territorial_region, publication.territorial_totals)
    assert (regions == publication.region_totals).all()
    # No missing result under a faulty territorial: its total stays checkable.
    territorial_of_missing = structure.station_territorial[faults.missing_station]
    assert not np.isin(territorial_of_missing, faults.faulty_territorial).any()


def test_faults_never_share_a_station(election: SyntheticElection) -> None:
    faults = election.faults
    slipped = election.observation.copy_station[faults.slip_copy]
    groups = [slipped, faults.stuffed_station, faults.error_station, faults.missing_station]
    everything = np.concatenate(groups)
    assert np.unique(everything).size == everything.size
    assert np.isin(everything, election.observation.copy_station).all()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organisations", 0, "organisations must be between"),
        ("coverage", 1.5, "coverage must be a share"),
        ("slips", -0.1, "slips must be a share"),
        ("faulty_totals", 10_000, "faulty_totals"),
    ],
)
def test_bad_observation_parameters_are_refused(field: str, value: float, message: str) -> None:
    with pytest.raises(SynthParameterError, match=message):
        SynthParams.build(stations=100, **{field: value})


# --- the files ------------------------------------------------------------------------------


def test_files_carry_the_copies_the_publication_and_the_ground_truth(tmp_path: Path) -> None:
    election = generate(SynthParams.build(stations=1_500, seed=12))
    write_files(election, tmp_path)

    def rows(name: str) -> list[dict[str, str]]:
        with (tmp_path / name).open(encoding="utf-8", newline="") as file:
            return list(csv.DictReader(file))

    observation = election.observation
    organisations = rows("organisations.csv")
    assert [o["code"] for o in organisations] == [o.code for o in observation.organisations]
    assert {o["share_with_mission"] for o in organisations} <= {"yes", "no"}
    observers = rows("observers.csv")
    assert len(observers) == observation.observer_station.size
    assert all(set(o["languages"].split()) <= {"kk", "ru", "en", "fr", "de"} for o in observers)
    assignments = rows("assignments.csv")
    assert assignments[0]["starts_at"].endswith("+05:00")
    assert {(a["organisation"], a["observer"]) for a in assignments} == {
        (o["organisation"], o["code"]) for o in observers
    }

    copies = rows("copies.csv")
    assert [c["id"] for c in copies] == observation.copy_id.tolist()
    figures = np.array([[int(c[key]) for key in LINE_KEYS] for c in copies])
    assert (figures == election.publication.copy_figures).all()
    assignment = {(a["organisation"], a["observer"]): a["station"] for a in assignments}
    assert all(assignment[(c["organisation"], c["observer"])] == c["station"] for c in copies)

    official = rows("official_stations.csv")
    published = election.publication.published_stations
    assert [o["code"] for o in official] == election.structure.station_codes[published].tolist()
    missing = set(election.structure.station_codes[election.faults.missing_station].tolist())
    assert missing and not missing & {o["code"] for o in official}
    totals = rows("official_totals.csv")
    assert len(totals) == len(election.structure.region_codes) + len(
        election.structure.territorial_codes
    )

    truth = json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["template"] == "kz-referendum"
    assert read_ground_truth(tmp_path / "ground_truth.json") == expected_findings(
        election, synth_template()
    )
    assert all(f["delta"] == f["left"] - f["right"] for f in truth["findings"])
    assert len(truth["faults"]["transcription_slips"]) == election.faults.slip_copy.size
    assert truth["faults"]["missing_official_results"] == sorted(missing, key=int)


def test_a_silent_change_moves_votes_in_a_later_publication(tmp_path: Path) -> None:
    election = generate(SynthParams.build(stations=3_000, seed=13, silent_changes=0.01))
    write_files(election, tmp_path)
    faults, publication, structure = election.faults, election.publication, election.structure
    revised = faults.revised_station
    assert revised.size == round(0.01 * np.unique(election.observation.copy_station).size)
    moved = publication.station_figures[revised] - publication.station_before
    yes, no = LINE_KEYS.index("yes"), LINE_KEYS.index("no")
    assert (moved[:, yes] == faults.revised_votes).all()
    assert (moved[:, no] == -faults.revised_votes).all()
    assert (np.delete(moved, [yes, no], axis=1) == 0).all()
    assert (publication.station_before == election.protocols.figures[revised]).all()

    def table(name: str) -> dict[str, list[int]]:
        with (tmp_path / name).open(encoding="utf-8", newline="") as file:
            return {row["code"]: [int(row[k]) for k in LINE_KEYS] for row in csv.DictReader(file)}

    first, later = table("official_stations.csv"), table("official_stations_revised.csv")
    codes = structure.station_codes[revised].tolist()
    assert sorted(later, key=int) == codes
    for i, code in enumerate(codes):
        assert first[code] == publication.station_before[i].tolist()
        assert later[code] == publication.station_figures[revised[i]].tolist()
    # The totals above were recomputed in the later publication, and still add up.
    totals, later_totals = table("official_totals.csv"), table("official_totals_revised.csv")
    territorials = [structure.territorial_codes[t] for t in publication.revised_territorial]
    regions = [structure.region_codes[r] for r in publication.revised_region]
    assert sorted(later_totals) == sorted(territorials + regions)
    sums = np.zeros_like(publication.territorial_totals)
    np.add.at(sums, structure.station_territorial, publication.station_figures)
    for t in publication.revised_territorial.tolist():
        assert later_totals[structure.territorial_codes[t]] == sums[t].tolist()
        assert totals[structure.territorial_codes[t]] != sums[t].tolist()
