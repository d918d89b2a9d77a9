"""The findings pages through Django's test client: who may do what, content, bad input."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pollwatch.accounts.roles import Role, grant_role
from pollwatch.accreditation.models import Assignment, Membership, Observer, Organisation
from pollwatch.findings.models import Finding, FindingDecision, FindingStatus
from pollwatch.findings.selectors import QUEUE_PAGE_SIZE
from pollwatch.registry.models import ProtocolTemplate
from tests.accounts.factories import login_verified
from tests.findings.test_queue_selectors import make_finding
from tests.web.factories import SmallElection, build_small_election

MaxQueries = Callable[[int], AbstractContextManager[Any]]
SLUG = "test-referendum"
ROLES = ["anonymous", "nobody", "observer", "data_clerk", "coordinator", "analyst", "administrator"]
SEES_QUEUE = {"coordinator", "analyst", "administrator"}
DECIDES = {"analyst", "administrator"}


@pytest.fixture
def small(db: None) -> SmallElection:
    small = build_small_election()
    # Line labels come from the election's template.
    ProtocolTemplate.objects.filter(pk=small.election.template_id).update(
        lines=[
            {
                "key": "valid",
                "number": "9",
                "label": {"en": "Valid ballots", "ru": "Действительные"},
            },
            {"key": "yes", "number": "11", "label": {"en": "Yes"}, "option": True},
        ]
    )
    small.election.refresh_from_db()
    return small


@pytest.fixture
def finding(small: SmallElection) -> Finding:
    """At station 101, where the coordinator's organisation has an observer."""
    return make_finding(small.election, station=small.station_101, magnitude=25)


def _client_for(role: str, small: SmallElection) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    user = User.objects.create_user(role)
    if role in Role.values:
        grant_role(user, Role(role))
    if role == "coordinator":
        organisation = Organisation.objects.create(
            code="watch", name="Watch", kind="ngo", share_with_mission=True
        )
        Membership.objects.create(user=user, organisation=organisation)
        observer = Observer.objects.create(organisation=organisation, code="o1", full_name="O")
        now = timezone.now()
        Assignment.objects.create(
            observer=observer,
            station=small.station_101,
            starts_at=now,
            ends_at=now + timezone.timedelta(hours=2),
        )
    login_verified(client, user)
    return client


def _queue_url(**query: str) -> str:
    url = reverse("findings_queue", args=[SLUG])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.parametrize("role", ROLES)
def test_queue_and_finding_pages_by_role(small: SmallElection, finding: Finding, role: str) -> None:
    client = _client_for(role, small)
    for url in [_queue_url(), reverse("finding", args=[SLUG, finding.pk])]:
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login") + "?next=")
        elif role in SEES_QUEUE:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url


@pytest.mark.parametrize("role", ROLES)
def test_only_analysts_and_administrators_change_a_status(
    small: SmallElection, finding: Finding, role: str
) -> None:
    client = _client_for(role, small)
    url = reverse("finding_status", args=[SLUG, finding.pk])
    response = client.post(url, {"status": "under_verification", "reason": "checking"})
    finding.refresh_from_db()
    if role in DECIDES:
        assert response.status_code == 303
        assert response["Location"] == reverse("finding", args=[SLUG, finding.pk]) + "#history"
        assert finding.status == FindingStatus.UNDER_VERIFICATION
        decision = FindingDecision.objects.get(finding=finding)
        assert decision.decided_by.username == role and decision.reason == "checking"
    else:
        assert response.status_code == 403
        assert finding.status == FindingStatus.OPEN
        assert not FindingDecision.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_the_form_is_offered_only_to_those_who_decide(
    small: SmallElection, finding: Finding, role: str
) -> None:
    response = _client_for(role, small).get(reverse("finding", args=[SLUG, finding.pk]))
    if role in SEES_QUEUE:
        html = response.content.decode()
        has_form = reverse("finding_status", args=[SLUG, finding.pk]) in html
        assert has_form == (role in DECIDES)


def test_a_coordinator_sees_only_findings_at_their_organisations_stations(
    small: SmallElection, finding: Finding
) -> None:
    elsewhere = make_finding(small.election, station=small.almaty_101, magnitude=99)
    client = _client_for("coordinator", small)
    html = client.get(_queue_url()).content.decode()
    assert reverse("finding", args=[SLUG, finding.pk]) in html
    assert reverse("finding", args=[SLUG, elsewhere.pk]) not in html
    assert client.get(reverse("finding", args=[SLUG, elsewhere.pk])).status_code == 404


def test_queue_rows_show_kind_place_lines_sides_delta_status(
    small: SmallElection, finding: Finding
) -> None:
    make_finding(
        small.election,
        commission=small.kokshetau,
        magnitude=7,
        kind=Finding.Kind.TOTAL_DIFFERS_FROM_CHILDREN,
        status=FindingStatus.UNDER_VERIFICATION,
        line="yes",
    )
    html = _client_for("analyst", small).get(_queue_url()).content.decode()
    assert "Copy differs from official" in html
    assert reverse("station", args=[SLUG, small.station_101.pk]) in html
    assert "Polling station 101" in html and "Kokshetau City" in html
    assert "9. Valid ballots" in html and "11. Yes" in html
    assert 'Copy: <span data-value="left">125</span>' in html
    assert 'Official: <span data-value="right">100</span>' in html
    assert 'Published total: <span data-value="left">107</span>' in html
    assert reverse("commission", args=[SLUG, small.kokshetau.pk]) in html
    assert '<td class="number" data-value="delta">25</td>' in html
    assert "Under verification" in html
    # Largest first.
    assert html.index("Copy differs from official") < html.index("Commission total differs")


def test_line_labels_follow_the_language(small: SmallElection, finding: Finding) -> None:
    client = _client_for("analyst", small)
    html = client.get("/ru" + _queue_url()).content.decode()
    assert "9. Действительные" in html


def test_queue_filters_from_the_query_string(small: SmallElection) -> None:
    in_akmola = make_finding(small.election, station=small.station_102, magnitude=3)
    in_almaty = make_finding(small.election, station=small.almaty_101, magnitude=4)
    resolved = make_finding(small.election, station=small.almaty_101, magnitude=5, present=False)
    client = _client_for("analyst", small)

    def shown(**query: str) -> set[int]:
        html = client.get(_queue_url(**query)).content.decode()
        return {f.pk for f in (in_akmola, in_almaty, resolved) if f'data-finding="{f.pk}"' in html}

    assert shown() == {in_akmola.pk, in_almaty.pk}
    assert shown(region=str(small.almaty.pk)) == {in_almaty.pk}
    assert shown(region=str(small.almaty.pk), resolved="on") == {in_almaty.pk, resolved.pk}
    assert shown(status="dismissed") == set()
    assert shown(kind="copy-differs-from-official", severity="error") == {
        in_akmola.pk,
        in_almaty.pk,
    }
    html = client.get(_queue_url(status="dismissed")).content.decode()
    assert "No findings match these filters." in html
    assert '<option value="dismissed" selected>Dismissed</option>' in html


@pytest.mark.parametrize(
    "query, message",
    [
        ({"kind": "ballot-stuffing"}, "Kind: Select a valid choice. ballot-stuffing is not one"),
        ({"severity": "fatal"}, "Severity: Select a valid choice. fatal is not one"),
        ({"status": "closed"}, "Status: Select a valid choice. closed is not one"),
        ({"region": "999999"}, "Region: Select a valid choice. 999999 is not one"),
        ({"after": "page-2"}, "“page-2” is not a position in the queue"),
    ],
)
def test_unknown_filter_values_are_a_clear_400(
    small: SmallElection, finding: Finding, query: dict[str, str], message: str
) -> None:
    response = _client_for("analyst", small).get(_queue_url(**query))
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert f'data-finding="{finding.pk}"' not in html


def test_a_region_of_another_election_is_unknown(small: SmallElection, finding: Finding) -> None:
    other = build_small_election("other")
    response = _client_for("analyst", small).get(_queue_url(region=str(other.akmola.pk)))
    assert response.status_code == 400


def test_pages_of_the_queue_follow_the_keyset(
    small: SmallElection, django_assert_max_num_queries: MaxQueries
) -> None:
    findings = [
        make_finding(small.election, station=small.station_101, magnitude=n % 4)
        for n in range(QUEUE_PAGE_SIZE + 3)
    ]
    client = _client_for("analyst", small)
    # Roles, session, election, regions, one walk per status: a constant, not per row.
    with django_assert_max_num_queries(14):
        first = client.get(_queue_url(kind="copy-differs-from-official")).content.decode()
    on_first = {f.pk for f in findings if f'data-finding="{f.pk}"' in first}
    assert len(on_first) == QUEUE_PAGE_SIZE
    assert 'id="findings-first"' not in first
    start = first.index('id="findings-next" href="') + len('id="findings-next" href="')
    next_url = first[start : first.index('"', start)].replace("&amp;", "&")
    assert "kind=copy-differs-from-official" in next_url
    second = client.get(next_url).content.decode()
    on_second = {f.pk for f in findings if f'data-finding="{f.pk}"' in second}
    assert on_first | on_second == {f.pk for f in findings} and not on_first & on_second
    assert 'id="findings-next"' not in second
    assert 'id="findings-first"' in second


def test_htmx_gets_only_the_results(small: SmallElection, finding: Finding) -> None:
    client = _client_for("analyst", small)
    response = client.get(_queue_url(), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and html.strip().startswith('<div id="queue-results">')
    assert f'data-finding="{finding.pk}"' in html
    assert "HX-Request" in response["Vary"]
    restore = client.get(
        _queue_url(), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


def _post_status(client: Client, finding: Finding, **data: str) -> Any:
    return client.post(reverse("finding_status", args=[SLUG, finding.pk]), data)


def test_the_whole_lifecycle_and_its_history(small: SmallElection, finding: Finding) -> None:
    client = _client_for("analyst", small)
    steps = [
        ("under_verification", ""),
        ("confirmed", "The copy's photo shows 125"),
        ("complaint_filed", "Filed with the territorial commission"),
    ]
    for status, reason in steps:
        assert _post_status(client, finding, status=status, reason=reason).status_code == 303
    finding.refresh_from_db()
    assert finding.status == FindingStatus.COMPLAINT_FILED
    html = client.get(reverse("finding", args=[SLUG, finding.pk])).content.decode()
    assert "Open → Under verification" in html
    assert "Under verification → Confirmed" in html
    assert "The copy&#x27;s photo shows 125" in html
    assert "Confirmed → Complaint filed" in html
    assert "this finding's status is final" in html
    assert reverse("finding_status", args=[SLUG, finding.pk]) not in html


def test_dismissing_offers_the_allowed_moves_and_records_the_reason(
    small: SmallElection, finding: Finding
) -> None:
    client = _client_for("administrator", small)
    html = client.get(reverse("finding", args=[SLUG, finding.pk])).content.decode()
    assert '<option value="under_verification">' in html and '<option value="dismissed">' in html
    assert '<option value="confirmed">' not in html  # not from open
    response = _post_status(client, finding, status="dismissed", reason="  Typo in the copy  ")
    assert response.status_code == 303
    decision = FindingDecision.objects.get(finding=finding)
    assert (decision.from_status, decision.to_status, decision.reason) == (
        "open",
        "dismissed",
        "Typo in the copy",
    )


@pytest.mark.parametrize(
    "data, message",
    [
        ({"status": "closed", "reason": "x"}, "Select a valid choice. closed is not one"),
        ({"reason": "x"}, "New status: This field is required."),
        ({"status": "dismissed", "reason": "   "}, "from open to dismissed needs a reason"),
        ({"status": "confirmed", "reason": "x"}, "cannot become Confirmed"),
        ({"status": "complaint_filed", "reason": "x"}, "cannot become Complaint filed"),
        ({"status": "dismissed", "reason": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_status_changes_are_refused_and_change_nothing(
    small: SmallElection, finding: Finding, data: dict[str, str], message: str
) -> None:
    response = _post_status(_client_for("analyst", small), finding, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert not FindingDecision.objects.exists()


def test_a_final_status_cannot_be_left(small: SmallElection) -> None:
    final = make_finding(
        small.election, station=small.station_101, status=FindingStatus.COMPLAINT_FILED
    )
    response = _post_status(_client_for("analyst", small), final, status="open", reason="oops")
    assert response.status_code == 400
    assert "cannot become Open" in response.content.decode()
    final.refresh_from_db()
    assert final.status == FindingStatus.COMPLAINT_FILED


def test_the_status_form_needs_its_csrf_token(small: SmallElection, finding: Finding) -> None:
    analyst = User.objects.create_user("csrf-analyst")
    grant_role(analyst, Role.ANALYST)
    client = Client(enforce_csrf_checks=True)
    login_verified(client, analyst)
    response = _post_status(client, finding, status="under_verification", reason="x")
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    # The page's own form carries the token.
    html = client.get(reverse("finding", args=[SLUG, finding.pk])).content.decode()
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_status_change_is_post_only(small: SmallElection, finding: Finding) -> None:
    client = _client_for("analyst", small)
    assert client.get(reverse("finding_status", args=[SLUG, finding.pk])).status_code == 405
    assert client.post(_queue_url()).status_code == 405


@pytest.mark.parametrize(
    "name, args",
    [
        ("findings_queue", ["no-such-election"]),
        ("finding", ["no-such-election", 1]),
        ("finding", [SLUG, 999_999]),
    ],
)
def test_unknown_elections_and_findings_are_404(
    small: SmallElection, name: str, args: list[object]
) -> None:
    assert _client_for("analyst", small).get(reverse(name, args=args)).status_code == 404


def test_a_finding_of_another_election_is_404(small: SmallElection) -> None:
    other = build_small_election("other")
    theirs = make_finding(other.election, station=other.station_101)
    client = _client_for("analyst", small)
    assert client.get(reverse("finding", args=[SLUG, theirs.pk])).status_code == 404
    response = _post_status(client, theirs, status="under_verification", reason="x")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == FindingStatus.OPEN


@pytest.mark.parametrize("role", ROLES)
def test_the_election_page_links_the_queue_for_those_who_see_it(
    small: SmallElection, role: str
) -> None:
    html = _client_for(role, small).get(reverse("election", args=[SLUG])).content.decode()
    assert (_queue_url() in html) == (role in SEES_QUEUE)
