"""The accreditation pages through the test client: each role on each endpoint, and what the
pages do for the roles that may use them."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from pollwatch.accounts.models import AuditEntry
from pollwatch.accreditation.models import Accreditation, Assignment, Observer
from tests.accounts.factories import login_verified
from tests.accreditation.conftest import (
    People,
    accredit,
    assign,
    copy_by,
    observer_in,
)
from tests.web.factories import SmallElection

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "observer", "coordinator", "analyst", "data_clerk", "administrator")


@pytest.fixture
def world(small: SmallElection, people: People) -> dict[str, Any]:
    """The own organisation's observer, pending; another organisation's observer assigned."""
    pending = Accreditation.objects.create(
        observer=people.observer,
        election=small.election,
        requested_at=small.election.date.isoformat() + "T00:00Z",
    )
    theirs = observer_in(people.other, "theirs")
    return {
        "pending": pending,
        "their_assignment": assign(theirs, small.station_102),
        "own_assignment": assign(people.observer, small.station_101),
    }


def client_for(people: People, role: str) -> Client:
    client = Client()
    users: dict[str, User | None] = {
        "anonymous": None,
        "observer": people.observer_user,
        "coordinator": people.coordinator,
        "analyst": people.analyst,
        "data_clerk": people.data_clerk,
        "administrator": people.administrator,
    }
    user = users[role]
    if user is not None:
        login_verified(client, user)
    return client


def outcome(response: Any) -> int | str:
    if response.status_code == 302 and response["Location"].startswith("/login/"):
        return "login"
    return int(response.status_code)


def expected(default: int | str, **roles: int | str) -> dict[str, int | str]:
    return {role: roles.get(role, "login" if role == "anonymous" else default) for role in ROLES}


def state() -> tuple[list[Any], ...]:
    return (
        list(Accreditation.objects.order_by("pk").values_list()),
        list(Assignment.objects.order_by("pk").values_list()),
        list(Observer.objects.order_by("pk").values_list()),
        list(AuditEntry.objects.order_by("pk").values_list("pk")),
    )


def _check(
    people: People, method: str, url: str, rules: dict[str, int | str], data: Any = None
) -> None:
    wrong = []
    for role in ROLES:
        before = state()
        client = client_for(people, role)
        response = client.get(url) if method == "GET" else client.post(url, data or {})
        if outcome(response) != rules[role]:
            wrong.append(f"{method} {url} as {role}: {outcome(response)}, expected {rules[role]}")
        if rules[role] in (403, "login", 405):
            assert state() == before, f"{method} {url} as {role} changed something"
    assert not wrong, "\n".join(wrong)


MANAGERS = {"coordinator": 200, "administrator": 200}


def test_read_pages_answer_each_role(small: SmallElection, people: People, world: Any) -> None:
    slug = small.election.slug
    _check(people, "GET", reverse("observer_list"), expected(403, **MANAGERS))
    _check(
        people,
        "GET",
        reverse("observer_detail", args=[people.observer.pk]),
        expected(403, **MANAGERS),
    )
    _check(people, "GET", reverse("observer_import"), expected(403, **MANAGERS))
    _check(people, "GET", reverse("accreditation_queue"), expected(403, administrator=200))
    coverage = expected(403, coordinator=200, analyst=200, administrator=200)
    _check(people, "GET", reverse("coverage", args=[slug]), coverage)
    _check(people, "GET", reverse("coverage_missing_csv", args=[slug]), coverage)


def test_another_organisations_observer_is_refused_to_a_coordinator(
    small: SmallElection, people: People, world: Any
) -> None:
    theirs = world["their_assignment"].observer
    _check(
        people,
        "GET",
        reverse("observer_detail", args=[theirs.pk]),
        expected(403, administrator=200),
    )
    # The coordinator's refusal changes nothing; the administrator's request is made.
    _check(
        people,
        "POST",
        reverse("accreditation_request", args=[theirs.pk]),
        expected(403, administrator=302),
        {"election": small.election.slug},
    )
    assert Accreditation.objects.filter(observer=theirs).count() == 1
    _check(
        people,
        "POST",
        reverse("assignment_remove", args=[world["their_assignment"].pk]),
        expected(403, administrator=302),
    )
    assert not Assignment.objects.filter(pk=world["their_assignment"].pk).exists()


def test_write_endpoints_refuse_every_other_role(
    small: SmallElection, people: People, world: Any
) -> None:
    """Each write with the data that would succeed: refused (and nothing changed) for every
    role but the ones allowed, which are checked in the tests below."""
    slug = small.election.slug
    observer = people.observer.pk
    add = {
        "election": slug,
        "station": "0101102",
        "starts_at": "2026-03-15T08:00",
        "ends_at": "2026-03-15T20:00",
    }
    nobody = expected(403, coordinator="skip", administrator="skip")
    for url, data in [
        (reverse("accreditation_request", args=[observer]), {"election": slug}),
        (reverse("assignment_add", args=[observer]), add),
        (reverse("assignment_remove", args=[world["own_assignment"].pk]), {}),
        (reverse("observer_import"), {"kind": "observers"}),
    ]:
        _check_refused_only(people, url, data, nobody)
    for url in [
        reverse("accreditation_accredit", args=[world["pending"].pk]),
        reverse("accreditation_revoke", args=[world["pending"].pk]),
    ]:
        data = {"number": "KZ-1", "reason": "Left the mission"}
        _check_refused_only(people, url, data, expected(403, administrator="skip"))


def _check_refused_only(
    people: People, url: str, data: dict[str, str], rules: dict[str, int | str]
) -> None:
    for role, rule in rules.items():
        if rule == "skip":
            continue
        before = state()
        response = client_for(people, role).post(url, data)
        assert outcome(response) == rule, f"POST {url} as {role}: {outcome(response)}"
        assert state() == before


def test_gets_on_write_endpoints_are_not_allowed(people: People, world: Any) -> None:
    client = client_for(people, "administrator")
    for url in [
        reverse("accreditation_request", args=[people.observer.pk]),
        reverse("assignment_add", args=[people.observer.pk]),
        reverse("assignment_remove", args=[world["own_assignment"].pk]),
        reverse("accreditation_accredit", args=[world["pending"].pk]),
        reverse("accreditation_revoke", args=[world["pending"].pk]),
    ]:
        assert client.get(url).status_code == 405


def test_a_post_without_csrf_token_is_refused(people: People, world: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    login_verified(client, people.administrator)
    before = state()
    response = client.post(
        reverse("accreditation_revoke", args=[world["pending"].pk]), {"reason": "Left the mission"}
    )
    assert response.status_code == 403
    assert state() == before


# What the pages do -------------------------------------------------------------------------


def test_the_coordinator_lists_and_searches_their_observers(
    small: SmallElection, people: People, world: Any
) -> None:
    observer_in(people.own, "obs-2")
    client = client_for(people, "coordinator")
    page = client.get(reverse("observer_list")).content.decode()
    assert "Observer obs-1" in page and "Observer obs-2" in page
    assert "Observer theirs" not in page  # another organisation's
    found = client.get(reverse("observer_list"), {"q": "obs-2"}).content.decode()
    assert "Observer obs-2" in found and "Observer obs-1" not in found


def test_requesting_accreditation_and_assigning_through_the_pages(
    small: SmallElection, people: People, world: Any
) -> None:
    client = client_for(people, "coordinator")
    new = observer_in(people.own, "obs-2")
    response = client.post(
        reverse("accreditation_request", args=[new.pk]), {"election": small.election.slug}
    )
    assert response.status_code == 302
    assert Accreditation.objects.get(observer=new).status == "pending"
    again = client.post(
        reverse("accreditation_request", args=[new.pk]),
        {"election": small.election.slug},
        follow=True,
    )
    assert "already Pending" in again.content.decode()

    small.election.time_zone = "Asia/Almaty"
    small.election.save()
    response = client.post(
        reverse("assignment_add", args=[new.pk]),
        {
            "election": small.election.slug,
            "station": "0101102",
            "starts_at": "2026-03-15T07:00",
            "ends_at": "2026-03-15T20:00",
        },
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(observer=new)
    assert assignment.starts_at.isoformat() == "2026-03-15T02:00:00+00:00"  # Almaty is UTC+5
    bad = client.post(
        reverse("assignment_add", args=[new.pk]),
        {
            "election": small.election.slug,
            "station": "nowhere",
            "starts_at": "2026-03-15T20:00",
            "ends_at": "2026-03-15T07:00",
        },
    )
    assert bad.status_code == 400
    assert "has no polling station with the code nowhere" in bad.content.decode()
    reversed_window = client.post(
        reverse("assignment_add", args=[new.pk]),
        {
            "election": small.election.slug,
            "station": "0101102",
            "starts_at": "2026-03-15T20:00",
            "ends_at": "2026-03-15T07:00",
        },
    )
    assert reversed_window.status_code == 400
    assert "must end after it starts" in reversed_window.content.decode()
    assert Assignment.objects.filter(observer=new).count() == 1
    client.post(reverse("assignment_remove", args=[assignment.pk]))
    assert not Assignment.objects.filter(observer=new).exists()


def test_the_administrator_accredits_and_revokes_from_the_queue(
    small: SmallElection, people: People, world: Any
) -> None:
    client = client_for(people, "administrator")
    queue = client.get(reverse("accreditation_queue")).content.decode()
    assert "Observer obs-1" in queue
    pending = world["pending"]
    empty = client.post(
        reverse("accreditation_accredit", args=[pending.pk]), {"number": ""}, follow=True
    )
    assert "An accreditation number is required." in empty.content.decode()
    client.post(reverse("accreditation_accredit", args=[pending.pk]), {"number": "KZ-42"})
    pending.refresh_from_db()
    assert (pending.status, pending.number) == ("accredited", "KZ-42")
    # A revocation must say why: htmx gets the row back with the error, nothing changed.
    revoke_url = reverse("accreditation_revoke", args=[pending.pk])
    refused = client.post(revoke_url, {"reason": " "}, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    assert "Say why the accreditation is revoked." in refused.content.decode()
    pending.refresh_from_db()
    assert pending.status == "accredited"
    # htmx gets the row back, in its new state, with the reason.
    row = client.post(revoke_url, {"reason": "Left the mission"}, headers={"HX-Request": "true"})
    assert row.status_code == 200
    assert 'data-status="revoked"' in row.content.decode()
    assert "Revoked because: Left the mission" in row.content.decode()
    pending.refresh_from_db()
    assert (pending.status, pending.revocation_reason) == ("revoked", "Left the mission")


def test_a_duplicate_number_is_shown_in_the_row_for_htmx(
    small: SmallElection, people: People, world: Any
) -> None:
    accredit(observer_in(people.other, "holder"), small.election)  # number A-holder
    client = client_for(people, "administrator")
    response = client.post(
        reverse("accreditation_accredit", args=[world["pending"].pk]),
        {"number": "A-holder"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "already Observer holder" in response.content.decode()
    assert Accreditation.objects.get(pk=world["pending"].pk).status == "pending"


OBSERVERS_FILE = (
    "organisation,code,full_name,contact,languages,accreditation_number\n"
    "golos-kz,N-1,New Person,,ru,\n"
)


def test_the_coordinator_imports_through_the_upload_form(
    tmp_path: Path, small: SmallElection, people: People, world: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(people, "coordinator")
    upload = SimpleUploadedFile("observers.csv", OBSERVERS_FILE.encode(), "text/csv")
    response = client.post(
        reverse("observer_import"),
        {"kind": "observers", "election": small.election.slug, "file": upload},
    )
    assert response.status_code == 200, response.content.decode()
    assert "1 created, 0 updated, 0 unchanged." in response.content.decode()
    assert Accreditation.objects.get(observer__code="N-1").status == "pending"

    bad = OBSERVERS_FILE.replace("golos-kz,N-1", "other-watch,N-2")
    upload = SimpleUploadedFile("observers.csv", bad.encode(), "text/csv")
    before = state()
    response = client.post(reverse("observer_import"), {"kind": "observers", "file": upload})
    assert response.status_code == 400
    text = response.content.decode()
    assert "observers.csv, row 2, column &#x27;organisation&#x27;" in text
    assert "/tmp" not in text  # the server's temporary directory is not shown
    assert state() == before


def test_a_coordinator_cannot_import_organisations(people: People, world: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(people, "coordinator")
    upload = SimpleUploadedFile(
        "organisations.csv",
        b"code,name,kind,share_with_mission,share_with_organisations\nx,X,ngo,yes,no\n",
    )
    response = client.post(reverse("observer_import"), {"kind": "organisations", "file": upload})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


# Coverage ----------------------------------------------------------------------------------


@pytest.fixture
def coverage_world(small: SmallElection, people: People) -> dict[str, Any]:
    """Own: obs-1 at 101 (reported), obs-2 at 102 (missing). Other: at 0201101 (missing)."""
    second = observer_in(people.own, "obs-2")
    theirs = observer_in(people.other, "theirs")
    assign(people.observer, small.station_101)
    assign(second, small.station_102)
    assign(theirs, small.almaty_101)
    copy_by(people.observer, small.station_101)
    return {"second": second, "theirs": theirs}


def _figures(html: str, region: str) -> dict[str, int]:
    import re

    row = re.search(rf'<tr data-region="{region}">(.*?)</tr>', html, re.S)
    assert row is not None, html
    return {k: int(v) for k, v in re.findall(r'data-figure="(\w+)">(\d+)<', row.group(1))}


def test_coverage_for_a_coordinator_counts_their_organisation(
    small: SmallElection, people: People, coverage_world: Any
) -> None:
    html = client_for(people, "coordinator").get(reverse("coverage", args=["test-referendum"]))
    text = html.content.decode()
    assert _figures(text, "01") == {
        "stations": 3,
        "assigned": 2,
        "unassigned": 1,
        "reported": 1,
        "missing": 1,
    }
    assert _figures(text, "02")["assigned"] == 0  # the other organisation's is not counted
    assert "Observer obs-2" in text  # names and contacts of their own observers
    assert "0201101" not in text


def test_coverage_for_an_analyst_counts_everyone_and_filters(
    small: SmallElection, people: People, coverage_world: Any
) -> None:
    client = client_for(people, "analyst")
    url = reverse("coverage", args=["test-referendum"])
    text = client.get(url).content.decode()
    assert _figures(text, "02") == {
        "stations": 2,
        "assigned": 1,
        "unassigned": 1,
        "reported": 0,
        "missing": 1,
    }
    assert _figures(text, "total")["missing"] == 2
    assert "Observer obs-2" not in text  # analysts see organisation and code, not names
    assert "obs-2" in text
    only_other = client.get(url, {"organisation": "other-watch"}).content.decode()
    assert _figures(only_other, "01")["assigned"] == 0
    assert _figures(only_other, "02")["missing"] == 1
    one_region = client.get(url, {"region": small.almaty.pk}).content.decode()
    assert 'data-region="01"' not in one_region
    assert "0101102" not in one_region and "0201101" in one_region


def test_the_missing_list_exports_as_csv(
    small: SmallElection, people: People, coverage_world: Any
) -> None:
    response = client_for(people, "coordinator").get(
        reverse("coverage_missing_csv", args=["test-referendum"])
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="missing-test-referendum.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["region", "commission", "station_code", "station_number", "organisation"]
    assert rows[1:] == [
        [
            "Akmola Region",
            "Kokshetau City",
            "0101102",
            "102",
            "Golos Kz",
            "obs-2",
            "Observer obs-2",
            "obs-2@example.org",
            "2026-03-15T02:00:00+00:00",
            "2026-03-15T14:00:00+00:00",
        ]
    ]
    analyst = client_for(people, "analyst").get(
        reverse("coverage_missing_csv", args=["test-referendum"]), {"region": small.almaty.pk}
    )
    rows = list(csv.reader(io.StringIO(b"".join(analyst.streaming_content).decode())))
    assert "contact" not in rows[0]
    assert [row[2] for row in rows[1:]] == ["0201101"]


def test_the_header_links_to_the_observers_for_coordinators_and_administrators(
    people: People, world: Any
) -> None:
    link = f'href="{reverse("observer_list")}"'
    for role in ROLES:
        page = client_for(people, role).get(reverse("home")).content.decode()
        assert (link in page) == (role in ("coordinator", "administrator")), role


def test_the_csv_never_hands_a_spreadsheet_a_formula(
    small: SmallElection, people: People, coverage_world: Any
) -> None:
    Observer.objects.filter(code="obs-2").update(
        full_name='=HYPERLINK("http://evil.example","x")', contact="+7 701 000 0001"
    )
    response = client_for(people, "coordinator").get(
        reverse("coverage_missing_csv", args=["test-referendum"])
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][6] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1][7] == "+7 701 000 0001"  # a phone number stays as written


def test_the_coordinator_sees_why_their_observer_was_revoked(
    small: SmallElection, people: People, world: Any
) -> None:
    admin = client_for(people, "administrator")
    revoke_url = reverse("accreditation_revoke", args=[world["pending"].pk])
    assert admin.post(revoke_url, {"reason": "Campaigned inside the station"}).status_code == 302
    coordinator = client_for(people, "coordinator")
    listed = coordinator.get(reverse("observer_list"), {"election": small.election.slug})
    assert "Revoked because: Campaigned inside the station" in listed.content.decode()
    detail = coordinator.get(reverse("observer_detail", args=[people.observer.pk]))
    assert "Revoked because: Campaigned inside the station" in detail.content.decode()
