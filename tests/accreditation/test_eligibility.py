"""submission_refusal and eligible_observer: every condition of the right to submit, and each
refusal's reason."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pollwatch.accounts.roles import Role
from pollwatch.accreditation.eligibility import (
    eligible_observer,
    judge,
    station_and_standing,
    submission_refusal,
)
from pollwatch.accreditation.models import Accreditation, Observer
from tests.accreditation.conftest import (
    POLLS_CLOSE,
    POLLS_OPEN,
    People,
    accredit,
    assign,
    user_with_role,
)
from tests.web.factories import SmallElection, build_small_election

pytestmark = pytest.mark.django_db

DURING = POLLS_OPEN + datetime.timedelta(hours=3)


@pytest.fixture
def ready(small: SmallElection, people: People) -> People:
    """The observer is accredited and assigned to station 101 for polling day."""
    accredit(people.observer, small.election)
    assign(people.observer, small.station_101)
    return people


def test_an_accredited_assigned_observer_may_submit_inside_the_window(
    small: SmallElection, ready: People
) -> None:
    assert submission_refusal(ready.observer_user, small.station_101, DURING) is None
    assert submission_refusal(ready.observer_user, small.station_101, POLLS_OPEN) is None


def test_the_grace_period_extends_the_window(small: SmallElection, ready: People) -> None:
    grace = small.election.submission_grace
    last_moment = POLLS_CLOSE + grace
    assert submission_refusal(ready.observer_user, small.station_101, last_moment) is None
    too_late = last_moment + datetime.timedelta(seconds=1)
    reason = submission_refusal(ready.observer_user, small.station_101, too_late)
    assert reason is not None
    assert "only within your assignment plus the grace period" in reason
    # The window is named, grace included, in the election's time zone.
    assert "2026-03-15 02:00+00:00 – 2026-03-16 02:00+00:00" in reason


def test_a_shorter_grace_period_is_read_from_the_election(
    small: SmallElection, ready: People
) -> None:
    small.election.submission_grace = datetime.timedelta(minutes=30)
    small.election.save()
    an_hour_after = POLLS_CLOSE + datetime.timedelta(hours=1)
    assert submission_refusal(ready.observer_user, small.station_101, an_hour_after) is not None


def test_the_window_is_shown_in_the_elections_time_zone(
    small: SmallElection, ready: People
) -> None:
    small.election.time_zone = "Asia/Almaty"  # UTC+5 since 2024
    small.election.save()
    early = POLLS_OPEN - datetime.timedelta(minutes=1)
    reason = submission_refusal(ready.observer_user, small.station_101, early)
    assert reason is not None
    assert "2026-03-15 07:00+05:00" in reason
    assert "It is now 2026-03-15 06:59+05:00." in reason


def test_before_the_window_is_refused(small: SmallElection, ready: People) -> None:
    early = POLLS_OPEN - datetime.timedelta(seconds=1)
    assert submission_refusal(ready.observer_user, small.station_101, early) is not None


def test_any_of_several_windows_will_do(small: SmallElection, ready: People) -> None:
    next_day = POLLS_OPEN + datetime.timedelta(days=2)
    assign(ready.observer, small.station_101, next_day, next_day + datetime.timedelta(hours=2))
    assert submission_refusal(ready.observer_user, small.station_101, next_day) is None
    between = POLLS_OPEN + datetime.timedelta(days=1, hours=12)
    reason = submission_refusal(ready.observer_user, small.station_101, between)
    assert reason is not None
    assert reason.count(" – ") == 2  # both windows named


def test_a_station_without_an_assignment_is_refused(small: SmallElection, ready: People) -> None:
    reason = submission_refusal(ready.observer_user, small.station_102, DURING)
    assert reason == "You are not assigned to polling station 102."


def test_revocation_blocks_at_once(small: SmallElection, ready: People) -> None:
    Accreditation.objects.filter(observer=ready.observer).update(status="revoked")
    reason = submission_refusal(ready.observer_user, small.station_101, DURING)
    assert reason == "Your accreditation for this election has been revoked."


def test_a_pending_accreditation_is_refused(small: SmallElection, ready: People) -> None:
    Accreditation.objects.filter(observer=ready.observer).update(status="pending")
    reason = submission_refusal(ready.observer_user, small.station_101, DURING)
    assert reason == "Your accreditation for this election is still pending."


def test_an_accreditation_for_another_election_does_not_count(
    small: SmallElection, people: People
) -> None:
    other = build_small_election("another-election")
    accredit(people.observer, other.election)
    assign(people.observer, small.station_101)
    reason = submission_refusal(people.observer_user, small.station_101, DURING)
    assert reason == "You are not accredited for this election."


def test_a_user_who_is_not_an_observer_is_refused(small: SmallElection, ready: People) -> None:
    # The observer role alone is not enough: the account must belong to an observer record.
    bare = user_with_role("role-only", Role.OBSERVER)
    for user in (bare, ready.coordinator, ready.analyst, AnonymousUser()):
        reason = submission_refusal(user, small.station_101, DURING)
        assert reason == "You are not registered as an observer."


def test_another_observers_assignment_does_not_count(small: SmallElection, ready: People) -> None:
    from tests.accreditation.conftest import observer_in

    colleague_user = User.objects.create_user("colleague")
    colleague = observer_in(ready.own, "obs-2", colleague_user)
    accredit(colleague, small.election)
    assign(colleague, small.station_102)
    assert submission_refusal(colleague_user, small.station_101, DURING) is not None
    assert submission_refusal(colleague_user, small.station_102, DURING) is None


def test_two_queries_at_most(small: SmallElection, ready: People) -> None:
    user = User.objects.get(pk=ready.observer_user.pk)
    station = type(small.station_101).objects.get(pk=small.station_101.pk)
    with CaptureQueriesContext(connection) as queries:
        assert submission_refusal(user, station, DURING) is None
    assert len(queries) <= 2


def test_a_submission_learns_the_observer_in_one_query(small: SmallElection, ready: People) -> None:
    user = User.objects.get(pk=ready.observer_user.pk)
    station = type(small.station_101).objects.get(pk=small.station_101.pk)
    with CaptureQueriesContext(connection) as queries:
        found = eligible_observer(user, station, DURING)
        assert isinstance(found, Observer)
        assert found.pk == ready.observer.pk
        assert found.organisation.pk == ready.observer.organisation_id  # loaded with it
    assert len(queries) == 1


def test_eligible_observer_refuses_as_submission_refusal_does(
    small: SmallElection, ready: People
) -> None:
    too_late = POLLS_CLOSE + small.election.submission_grace + datetime.timedelta(seconds=1)
    for station, at in ((small.station_101, too_late), (small.station_102, DURING)):
        refusal = submission_refusal(ready.observer_user, station, at)
        assert refusal is not None
        found = eligible_observer(ready.observer_user, station, at)
        assert found == refusal


def test_what_changes_after_an_allowed_check_counts_on_the_next(
    small: SmallElection, ready: People
) -> None:
    """Nothing of the right to submit is cached: the same user and station objects are
    refused once the grace period shrinks, and again once the accreditation is revoked."""
    after_close = POLLS_CLOSE + datetime.timedelta(hours=1)
    assert submission_refusal(ready.observer_user, small.station_101, after_close) is None
    type(small.election).objects.filter(pk=small.election.pk).update(
        submission_grace=datetime.timedelta(minutes=30)
    )
    assert submission_refusal(ready.observer_user, small.station_101, after_close) is not None
    assert submission_refusal(ready.observer_user, small.station_101, DURING) is None
    Accreditation.objects.filter(observer=ready.observer).update(status="revoked")
    assert submission_refusal(ready.observer_user, small.station_101, DURING) == (
        "Your accreditation for this election has been revoked."
    )


def test_an_assignment_not_yet_started_does_not_open_an_earlier_moment(
    small: SmallElection, ready: People
) -> None:
    later = POLLS_OPEN + datetime.timedelta(days=2)
    assign(ready.observer, small.station_101, later, later + datetime.timedelta(hours=2))
    before_it = later - datetime.timedelta(hours=1)  # past the first window and its grace
    assert submission_refusal(ready.observer_user, small.station_101, before_it) is not None
    assert submission_refusal(ready.observer_user, small.station_101, later) is None


def test_the_observer_is_loaded_as_the_orm_loads_it(small: SmallElection, ready: People) -> None:
    found = eligible_observer(ready.observer_user, small.station_101, DURING)
    assert isinstance(found, Observer)
    expected = Observer.objects.select_related("organisation").get(pk=ready.observer.pk)
    for instance, orm in ((found, expected), (found.organisation, expected.organisation)):
        assert {
            f.attname: getattr(instance, f.attname) for f in type(orm)._meta.concrete_fields
        } == {f.attname: getattr(orm, f.attname) for f in type(orm)._meta.concrete_fields}


def test_a_submission_reads_the_station_and_the_rule_in_one_query(
    small: SmallElection, ready: People
) -> None:
    station_and_standing(ready.observer_user.pk, small.station_101.pk, small.election.slug, DURING)
    with CaptureQueriesContext(connection) as queries:  # the process now holds the template
        found = station_and_standing(
            ready.observer_user.pk, small.station_101.pk, small.election.slug, DURING
        )
        assert found is not None
        station, standing = found
        allowed = judge(standing, station, DURING)
    assert len(queries) == 1
    assert station.pk == small.station_101.pk
    assert station.election.slug == small.election.slug  # loaded with it
    assert station.election.template.pk == small.election.template_id
    assert isinstance(allowed, Observer) and allowed.pk == ready.observer.pk
    assert allowed.organisation.pk == ready.observer.organisation_id


def test_the_standing_read_with_the_station_judges_as_eligible_observer_does(
    small: SmallElection, ready: People
) -> None:
    """Every kind of answer, both ways: allowed, outside the window, not assigned here, not an
    observer at all, pending, revoked."""
    too_late = POLLS_CLOSE + small.election.submission_grace + datetime.timedelta(seconds=1)
    cases: list[tuple[User, object, datetime.datetime]] = [
        (ready.observer_user, small.station_101, DURING),
        (ready.observer_user, small.station_101, too_late),
        (ready.observer_user, small.station_102, DURING),
        (ready.analyst, small.station_101, DURING),
    ]

    def both_ways() -> list[tuple[object, object]]:
        answers = []
        for user, station, at in cases:
            found = station_and_standing(user.pk, station.pk, small.election.slug, at)  # type: ignore[attr-defined]
            assert found is not None
            judged = judge(found[1], found[0], at)
            expected = eligible_observer(user, station, at)  # type: ignore[arg-type]
            answers.append((getattr(judged, "pk", judged), getattr(expected, "pk", expected)))
        return answers

    for status in ("accredited", "pending", "revoked"):
        Accreditation.objects.filter(observer=ready.observer).update(status=status)
        answers = both_ways()
        assert all(judged == expected for judged, expected in answers), answers
    assert answers[0][0] == "Your accreditation for this election has been revoked."
    assert answers[3][0] == "You are not registered as an observer."


def test_no_station_and_standing_for_a_station_outside_the_election(
    small: SmallElection, ready: People
) -> None:
    other = build_small_election("other-referendum")
    user = ready.observer_user.pk
    assert station_and_standing(user, other.station_101.pk, small.election.slug, DURING) is None
    assert station_and_standing(user, small.station_101.pk, "no-such-election", DURING) is None
    assert station_and_standing(user, 10**9, small.election.slug, DURING) is None
