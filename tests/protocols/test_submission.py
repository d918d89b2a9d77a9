"""submit_copy: what is stored, retries, corrections, and every bad input refused with nothing
stored."""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from pollwatch.core.relation_feedback import RelationState
from pollwatch.findings.models import Finding
from pollwatch.ledger.models import LogEntry
from pollwatch.protocols.canonical import canonical_bytes, copy_record
from pollwatch.protocols.models import Photo, ProtocolCopy
from pollwatch.protocols.submission import (
    FIGURE_FLOOR,
    RefusalKind,
    SubmissionRefused,
    figure_limit,
)
from tests.protocols.conftest import COUNT_DONE, Referendum, figures, submit
from tests.web.factories import build_small_election


def photo(name: str) -> Photo:
    return Photo.objects.create(
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        content_type="image/jpeg",
        size=10,
        width=1,
        height=1,
        file=f"photos/{name}.jpg",
        uploaded_at=timezone.now(),
    )


def refused(referendum: Referendum, user: object = None, **arguments: object) -> SubmissionRefused:
    """Submit, expect a refusal, and check that nothing at all was stored."""
    copies = ProtocolCopy.objects.count()
    links = ProtocolCopy.photos.through.objects.count()
    with pytest.raises(SubmissionRefused) as caught:
        submit(referendum, user, **arguments)  # type: ignore[arg-type]
    assert ProtocolCopy.objects.count() == copies
    assert ProtocolCopy.photos.through.objects.count() == links
    return caught.value


# -- accepted ---------------------------------------------------------------------------------


def test_a_copy_is_stored_as_submitted(referendum: Referendum) -> None:
    copy_id = uuid.uuid4()
    shot = photo("p1")
    result = submit(
        referendum, copy_id=copy_id, photo_sha256s=[shot.sha256], all_members_signed=False
    )
    assert result.created
    copy = ProtocolCopy.objects.get(pk=copy_id)
    assert copy == result.copy
    assert copy.figures == figures()
    assert copy.station == referendum.station
    assert copy.observer == referendum.observer
    assert copy.organisation == referendum.own
    assert copy.submitted_by == referendum.observer_user
    assert copy.all_members_signed is False and copy.certified is True
    assert copy.received_at == COUNT_DONE
    assert list(copy.photos.all()) == [shot]
    assert len(copy.body_sha256) == 64
    assert [f.state for f in result.feedback] == [RelationState.HOLDS] * 4


def test_wrong_arithmetic_is_accepted_with_feedback(referendum: Referendum) -> None:
    # 20 more Yes votes than the boxes held: the paper says so, and that is evidence.
    result = submit(referendum, values=figures(yes=520))
    assert result.created and ProtocolCopy.objects.count() == 1
    broken = [f for f in result.feedback if f.state is RelationState.BROKEN]
    assert [f.relation.expression for f in broken] == [
        "ballots_in_boxes == invalid + not_counted + yes + no"
    ]
    assert (broken[0].left, broken[0].right, broken[0].delta) == (720, 740, -20)


def test_the_stations_findings_are_recomputed_within_the_submission(
    referendum: Referendum,
) -> None:
    result = submit(referendum, values=figures(yes=520))
    assert result.findings is not None and result.findings.new >= 1
    at_station = Finding.objects.filter(station=referendum.station, present=True)
    assert set(at_station.values_list("kind", flat=True)) == {
        "relation-broken-on-copy",
        "missing-official-result",
    }
    broken = at_station.get(kind="relation-broken-on-copy")
    assert (broken.left_value, broken.right_value, broken.delta) == (720, 740, -20)
    # A second organisation's copy with other figures: the copies now disagree on "yes".
    submit(referendum, referendum.other_observer_user, values=figures())
    assert at_station.filter(kind="copies-disagree", lines=["yes"]).exists()
    # The correction resolves the broken relation: the corrected copy is no longer current.
    first = ProtocolCopy.objects.get(observer=referendum.observer)
    submit(referendum, supersedes=first.pk)
    assert not at_station.filter(kind="relation-broken-on-copy").exists()
    assert not at_station.filter(kind="copies-disagree").exists()
    # Nothing was recorded at any other station.
    assert not Finding.objects.exclude(station=referendum.station).filter(present=True).exists()


def test_a_refused_submission_leaves_the_findings_alone(referendum: Referendum) -> None:
    submit(referendum, values=figures(yes=520))
    before = list(Finding.objects.values_list("fingerprint", "present", "delta"))
    refused(referendum, values=figures(yes=-5))
    refused(referendum, referendum.unassigned_user)
    assert list(Finding.objects.values_list("fingerprint", "present", "delta")) == before


def test_the_copy_is_appended_to_the_log_as_its_canonical_record(
    referendum: Referendum,
) -> None:
    shot = photo("evidence")
    earlier = submit(referendum).copy
    copy = submit(referendum, photo_sha256s=[shot.sha256], supersedes=earlier.pk).copy
    entries = LogEntry.objects.filter(election=referendum.small.election, kind="protocol-copy")
    assert entries.count() == 2
    entry = entries.get(source_pk=str(copy.pk))
    record = json.loads(bytes(entry.canonical))
    assert record == {
        "kind": "protocol-copy",
        "id": str(copy.pk),
        "election": "test-referendum",
        "station": "0101101",
        "figures": figures(),
        "all_members_signed": True,
        "certified": True,
        "photos": [shot.sha256],  # the photo by its SHA-256 only
        "supersedes": str(earlier.pk),
        "organisation": "golos-kz",
        "received_at": "2026-03-15T15:00:00.000000+00:00",
    }
    # The record rebuilt from the stored row is byte for byte the logged one.
    stored = ProtocolCopy.objects.get(pk=copy.pk)
    assert canonical_bytes(copy_record(stored)) == bytes(entry.canonical)
    # A retry appends nothing.
    submit(referendum, copy_id=copy.pk, photo_sha256s=[shot.sha256], supersedes=earlier.pk)
    assert entries.count() == 2


def test_zero_is_a_figure(referendum: Referendum) -> None:
    values = figures(issued_outside=0, cancelled=500, ballots_in_boxes=700, no=185)
    assert submit(referendum, values=values).copy.figures["issued_outside"] == 0


def test_a_figure_at_the_limit_is_accepted(referendum: Referendum) -> None:
    limit = figure_limit(referendum.station.registered_voters)
    assert limit == 12_000
    assert submit(referendum, values=figures(ballots_received=limit)).created


def test_the_limit_has_a_floor_for_stations_with_few_voters() -> None:
    assert figure_limit(0) == FIGURE_FLOOR
    assert figure_limit(50_000) == 500_000


# -- retries ----------------------------------------------------------------------------------


def test_a_retry_returns_the_stored_copy(referendum: Referendum) -> None:
    copy_id = uuid.uuid4()
    shots = [photo("a").sha256, photo("b").sha256]
    first = submit(referendum, copy_id=copy_id, photo_sha256s=shots)
    # Photos are a set: their order in the retry does not matter.
    again = submit(referendum, copy_id=copy_id, photo_sha256s=shots[::-1])
    assert not again.created
    assert again.copy.pk == first.copy.pk
    assert again.copy.received_at == first.copy.received_at
    assert ProtocolCopy.objects.count() == 1


def test_a_retry_after_the_window_closed_still_returns_the_copy(referendum: Referendum) -> None:
    copy_id = uuid.uuid4()
    submit(referendum, copy_id=copy_id)
    late = COUNT_DONE + datetime.timedelta(days=3)
    assert not submit(referendum, copy_id=copy_id, at=late).created


@pytest.mark.parametrize(
    "change",
    [
        {"values": figures(yes=501, no=204)},
        {"certified": False},
        {"all_members_signed": False},
        {"photo_sha256s": ["0" * 64]},
    ],
    ids=["figures", "certified", "signed", "photos"],
)
def test_the_same_id_with_another_body_is_a_conflict(
    referendum: Referendum, change: dict[str, object]
) -> None:
    copy_id = uuid.uuid4()
    stored = submit(referendum, copy_id=copy_id).copy
    error = refused(referendum, copy_id=copy_id, **change)
    assert error.kind is RefusalKind.CONFLICT and error.field == "id"
    assert str(copy_id) in error.message
    assert ProtocolCopy.objects.get(pk=copy_id).figures == stored.figures


def test_the_same_id_at_another_station_is_a_conflict(referendum: Referendum) -> None:
    copy_id = uuid.uuid4()
    submit(referendum, copy_id=copy_id)
    error = refused(referendum, copy_id=copy_id, station=referendum.small.station_102)
    assert error.kind is RefusalKind.CONFLICT


def test_the_same_id_and_body_from_another_user_is_a_conflict(referendum: Referendum) -> None:
    copy_id = uuid.uuid4()
    submit(referendum, copy_id=copy_id)
    error = refused(referendum, referendum.colleague_user, copy_id=copy_id)  # type: ignore[arg-type]
    assert error.kind is RefusalKind.CONFLICT
    assert ProtocolCopy.objects.get().submitted_by == referendum.observer_user


# -- corrections ------------------------------------------------------------------------------


def test_a_correction_supersedes_and_both_stay(referendum: Referendum) -> None:
    first = submit(referendum, values=figures(yes=520)).copy
    second = submit(referendum, supersedes=first.pk).copy
    assert second.supersedes == first
    first.refresh_from_db()
    assert first.superseded_by == second
    assert ProtocolCopy.objects.count() == 2
    # And the correction can itself be corrected.
    third = submit(referendum, supersedes=second.pk).copy
    assert third.supersedes == second


def test_a_copy_cannot_be_corrected_twice(referendum: Referendum) -> None:
    first = submit(referendum).copy
    submit(referendum, supersedes=first.pk)
    error = refused(referendum, supersedes=first.pk)
    assert error.field == "supersedes" and "already been corrected" in error.message


def test_only_ones_own_copy_can_be_corrected(referendum: Referendum) -> None:
    theirs = submit(referendum, referendum.colleague_user).copy  # type: ignore[arg-type]
    error = refused(referendum, supersedes=theirs.pk)
    assert error.field == "supersedes" and "another observer" in error.message


@pytest.mark.parametrize("where", ["other-station", "unknown"])
def test_a_correction_names_a_copy_at_the_same_station(referendum: Referendum, where: str) -> None:
    earlier = (
        submit(referendum, station=referendum.small.station_102).copy.pk
        if where == "other-station"
        else uuid.uuid4()
    )
    error = refused(referendum, supersedes=earlier)
    assert error.field == "supersedes" and str(earlier) in error.message


# -- bad figures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "line 9 (yes) is missing"),
        ("", "line 9 (yes) is missing"),
        (-1, "line 9 (yes) is -1; a figure cannot be negative"),
        (500.5, "line 9 (yes) is 500.5; expected a whole number"),
        (500.0, "line 9 (yes) is 500.0; expected a whole number"),
        ("500", "line 9 (yes) is '500'; expected a whole number"),
        (True, "line 9 (yes) is True; expected a whole number"),
        (12_001, "line 9 (yes) is 12001, more than 12000"),
        (10**30, "more than 12000"),
    ],
)
def test_a_bad_figure_is_refused_naming_the_line(
    referendum: Referendum, value: object, expected: str
) -> None:
    error = refused(referendum, values=figures(yes=value))  # type: ignore[arg-type]
    assert error.field == "figures.yes"
    assert expected in error.message
    assert error.kind is RefusalKind.INVALID


def test_a_missing_line_is_refused(referendum: Referendum) -> None:
    values = figures()
    del values["not_counted"]
    error = refused(referendum, values=values)
    assert error.field == "figures.not_counted"
    assert "line 8 (not_counted) is missing" in error.message


def test_an_unknown_line_key_is_refused_naming_it(referendum: Referendum) -> None:
    error = refused(referendum, values={**figures(), "spoiled": 3})
    assert error.field == "figures.spoiled"
    assert "Unknown protocol line 'spoiled'" in error.message
    assert "registered, ballots_received" in error.message


def test_every_bad_line_is_listed(referendum: Referendum) -> None:
    values = {**figures(yes=-1, no="x"), "extra": 1}
    del values["invalid"]
    error = refused(referendum, values=values)
    assert [p.field for p in error.problems] == [
        "figures.extra",
        "figures.invalid",
        "figures.yes",
        "figures.no",
    ]


def test_figures_must_be_an_object(referendum: Referendum) -> None:
    error = refused(referendum, values=[1, 2, 3])  # type: ignore[arg-type]
    assert error.field == "figures"


# -- bad places, photos, people ----------------------------------------------------------------


def test_a_station_of_another_election_is_refused(referendum: Referendum) -> None:
    elsewhere = build_small_election("another-referendum").station_101
    error = refused(referendum, station=elsewhere)
    assert error.field == "station"
    assert "is not in Test referendum 2026" in error.message


def test_an_unknown_photo_is_refused(referendum: Referendum) -> None:
    known = photo("known").sha256
    unknown = "a" * 64
    error = refused(referendum, photo_sha256s=[known, unknown])
    assert [p.field for p in error.problems] == ["photos[1]"]
    assert unknown in error.message


def test_a_malformed_photo_reference_is_refused(referendum: Referendum) -> None:
    error = refused(referendum, photo_sha256s=["A" * 64, "not-a-hash"])
    assert [p.field for p in error.problems] == ["photos[0]", "photos[1]"]
    assert "'not-a-hash' is not a photo reference" in error.problems[1].message


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        ("unassigned_user", "not assigned to polling station 101"),
        ("analyst", "not registered as an observer"),
        ("coordinator", "not registered as an observer"),
        ("data_clerk", "not registered as an observer"),
        ("administrator", "not registered as an observer"),
    ],
)
def test_who_may_not_submit_is_refused(referendum: Referendum, who: str, reason: str) -> None:
    error = refused(referendum, getattr(referendum, who))  # type: ignore[arg-type]
    assert error.kind is RefusalKind.FORBIDDEN
    assert reason in error.message


def test_an_observer_outside_the_window_is_refused(referendum: Referendum) -> None:
    error = refused(referendum, at=COUNT_DONE + datetime.timedelta(days=2))
    assert error.kind is RefusalKind.FORBIDDEN and "grace period" in error.message


def test_an_anonymous_user_is_refused(referendum: Referendum) -> None:
    error = refused(referendum, AnonymousUser())  # type: ignore[arg-type]
    assert error.kind is RefusalKind.FORBIDDEN
