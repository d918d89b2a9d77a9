"""Observers' sign-ins: accounts created for imported observers, one-time links, who may."""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from datetime import timedelta
from typing import Any
from unittest import mock
from urllib.parse import unquote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pollwatch.accounts import observer_signins
from pollwatch.accounts.device_tokens import token_sha256
from pollwatch.accounts.models import AuditEntry, SigninLink
from pollwatch.accounts.observer_signins import SigninError, create_signins, reissue_signin
from pollwatch.accounts.roles import Role, grant_role, roles_of
from pollwatch.accreditation.models import Membership, Observer
from tests.accounts.factories import login_verified
from tests.accreditation.conftest import People, observer_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and unusual passphrase 42"


def _fresh(observer: Observer) -> Observer:
    return Observer.objects.select_related("user", "organisation").get(pk=observer.pk)


def _activate_url(token: str) -> str:
    return reverse("signin_activate", args=[token])


# --- the service ------------------------------------------------------------------------


def test_creates_observer_accounts_linked_with_the_role_and_organisation(people: People) -> None:
    first = observer_in(people.own, "OBS/7 Almaty")
    second = observer_in(people.own, "obs-8")
    invitations = create_signins(people.coordinator, [first, second])

    assert [i.observer.pk for i in invitations] == [first.pk, second.pk]
    for invitation in invitations:
        observer = _fresh(invitation.observer)
        assert observer.user is not None
        assert observer.user.get_username() == invitation.username
        assert roles_of(observer.user) == {Role.OBSERVER}
        assert not observer.user.has_usable_password()
        assert Membership.objects.get(user=observer.user).organisation == people.own
        assert invitation.token.startswith("pwl_")
    assert invitations[0].username == "golos-kz-obs-7-almaty"
    assert _fresh(first).user.first_name == "Observer"  # type: ignore[union-attr]
    assert _fresh(first).user.last_name == "OBS/7 Almaty"  # type: ignore[union-attr]


def test_a_taken_username_gets_a_number(people: People) -> None:
    get_user_model().objects.create_user("Golos-KZ-obs-9")  # another case: still taken
    get_user_model().objects.create_user("golos-kz-obs-9-2")
    (invitation,) = create_signins(people.coordinator, [observer_in(people.own, "obs-9")])
    assert invitation.username == "golos-kz-obs-9-3"


def test_tokens_are_kept_only_as_hashes_and_expire_after_the_setting(
    people: People, settings: object
) -> None:
    settings.POLLWATCH_SIGNIN_LINK_DAYS = 3
    before = timezone.now()
    (invitation,) = create_signins(people.coordinator, [observer_in(people.own, "obs-2")])
    link = SigninLink.objects.get()
    assert link.token_sha256 == token_sha256(invitation.token)
    assert invitation.token not in str(list(SigninLink.objects.values()))
    assert before + timedelta(days=3) <= link.expires_at <= timezone.now() + timedelta(days=3)
    assert link.expires_at == invitation.expires_at
    assert link.issued_by == people.coordinator
    for entry in AuditEntry.objects.all():
        assert invitation.token not in str(entry.after) + str(entry.before)


def test_an_observer_with_an_account_is_refused_by_name_and_nothing_is_created(
    people: People,
) -> None:
    fresh = observer_in(people.own, "obs-2")
    with pytest.raises(SigninError, match="already have an account: Observer obs-1"):
        create_signins(people.coordinator, [fresh, people.observer])
    assert _fresh(fresh).user is None
    assert not SigninLink.objects.exists()
    assert not AuditEntry.objects.exists()


def test_all_or_nothing_when_a_later_observer_fails(people: People) -> None:
    first = observer_in(people.own, "obs-2")
    second = observer_in(people.own, "obs-3")
    users_before = User.objects.count()
    real_issue = observer_signins._issue_link
    calls = []

    def failing_second(*args: object) -> object:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_issue(*args)  # type: ignore[arg-type]

    with (
        mock.patch.object(observer_signins, "_issue_link", failing_second),
        pytest.raises(RuntimeError),
    ):
        create_signins(people.coordinator, [first, second])
    assert len(calls) == 2
    assert User.objects.count() == users_before
    assert _fresh(first).user is None and _fresh(second).user is None
    assert not SigninLink.objects.exists() and not AuditEntry.objects.exists()


def test_nothing_chosen_or_unknown_observers_are_refused(people: People) -> None:
    with pytest.raises(SigninError, match="Choose the observers"):
        create_signins(people.coordinator, [])
    with pytest.raises(SigninError, match="no longer exist"):
        observer_signins.chosen_observers([str(people.observer.pk), "999999"])
    with pytest.raises(SigninError, match="no longer exist"):
        observer_signins.chosen_observers(["x"])


def test_creation_and_reissue_are_audited(people: People) -> None:
    observer = observer_in(people.own, "obs-2")
    (invitation,) = create_signins(people.coordinator, [observer])
    created = AuditEntry.objects.get(action="observer.signin_create")
    assert created.actor == people.coordinator and created.target_id == str(observer.pk)
    assert created.after["username"] == invitation.username
    reissue_signin(people.coordinator, observer)
    reissued = AuditEntry.objects.get(action="observer.signin_reissue")
    assert reissued.after["earlier_links_stopped"] == 1


def test_reissue_stops_the_earlier_unused_links(people: People) -> None:
    observer = observer_in(people.own, "obs-2")
    (first,) = create_signins(people.coordinator, [observer])
    second = reissue_signin(people.administrator, observer)
    assert second.username == first.username and second.token != first.token
    client = Client()
    assert client.get(_activate_url(first.token)).status_code == 404
    assert client.get(_activate_url(second.token)).status_code == 200


def test_reissue_needs_an_account_and_never_resets_a_staff_account(people: People) -> None:
    with pytest.raises(SigninError, match="has no account yet"):
        reissue_signin(people.coordinator, observer_in(people.own, "obs-2"))
    staff = observer_in(people.own, "obs-3", people.other_coordinator)
    with pytest.raises(SigninError, match="staff account"):
        reissue_signin(people.administrator, staff)
    people.observer_user.is_active = False
    people.observer_user.save()
    with pytest.raises(SigninError, match="deactivated"):
        reissue_signin(people.coordinator, people.observer)
    assert not SigninLink.objects.exists()


@pytest.mark.parametrize(
    "who", ["other_coordinator", "analyst", "data_clerk", "observer_user", "anonymous"]
)
def test_only_managers_of_the_organisation_may(people: People, who: str) -> None:
    from django.contrib.auth.models import AnonymousUser

    actor = AnonymousUser() if who == "anonymous" else getattr(people, who)
    fresh = observer_in(people.own, "obs-2")
    with pytest.raises(PermissionDenied):
        create_signins(actor, [fresh])
    with pytest.raises(PermissionDenied):
        reissue_signin(actor, people.observer)
    assert _fresh(fresh).user is None and not SigninLink.objects.exists()


def test_an_administrator_may_for_any_organisation(people: People) -> None:
    theirs = observer_in(people.other, "theirs")
    (invitation,) = create_signins(people.administrator, [theirs])
    assert invitation.username == "other-watch-theirs"


# --- the pages: creating and reissuing ---------------------------------------------------


def _client(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    login_verified(client, user)
    client.get(reverse("observer_list"))  # sets the CSRF cookie
    return client


def _post(client: Client, url: str, data: dict[str, object]) -> Any:
    token = client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def test_the_list_offers_sign_ins_and_the_result_shows_links_once_with_a_csv(
    people: People,
) -> None:
    fresh = observer_in(people.own, "obs-2")
    client = _client(people.coordinator)
    page = client.get(reverse("observer_list")).content.decode()
    assert f'name="observer" value="{fresh.pk}" form="signin-form"' in page
    assert reverse("observer_signin_reissue", args=[people.observer.pk]) in page

    response = _post(client, reverse("observer_signins_create"), {"observer": [fresh.pk]})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    link = re.search(r'data-testid="signin-link" href="([^"]+)"', html)
    assert link is not None and "/account/activate/pwl_" in link[1]
    token = link[1].rstrip("/").rsplit("/", 1)[1]
    assert SigninLink.objects.get().token_sha256 == token_sha256(token)

    csv_url = re.search(r'href="data:text/csv;charset=utf-8,([^"]+)"', html)
    assert csv_url is not None
    rows = list(csv.reader(io.StringIO(unquote(csv_url[1]))))
    assert rows[0] == [
        "username", "organisation", "code", "full_name", "contact", "link", "expires_at"
    ]  # fmt: skip
    assert rows[1][:6] == [
        "golos-kz-obs-2", "golos-kz", "obs-2", "Observer obs-2", "obs-2@example.org", link[1]
    ]  # fmt: skip


def test_a_new_link_from_the_list(people: People) -> None:
    client = _client(people.administrator)
    response = _post(client, reverse("observer_signin_reissue", args=[people.observer.pk]), {})
    assert response.status_code == 200
    assert b'<code data-testid="signin-username">observer</code>' in response.content
    assert SigninLink.objects.filter(user=people.observer_user).count() == 1


def test_an_observer_with_an_account_sends_back_with_the_error(people: People) -> None:
    client = _client(people.coordinator)
    response = _post(client, reverse("observer_signins_create"), {"observer": [people.observer.pk]})
    assert response.status_code == 302
    page = client.get(reverse("observer_list")).content.decode()
    assert "These observers already have an account: Observer obs-1." in page
    assert not SigninLink.objects.exists()


def test_another_organisations_coordinator_gets_403_and_nothing_changes(people: People) -> None:
    fresh = observer_in(people.own, "obs-2")
    client = _client(people.other_coordinator)
    create = _post(client, reverse("observer_signins_create"), {"observer": [fresh.pk]})
    assert create.status_code == 403
    reissue = _post(client, reverse("observer_signin_reissue", args=[people.observer.pk]), {})
    assert reissue.status_code == 403
    assert _fresh(fresh).user is None
    assert not SigninLink.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize("who", ["analyst", "data_clerk", "observer_user"])
def test_other_roles_get_403(people: People, who: str) -> None:
    fresh = observer_in(people.own, "obs-2")
    client = _client(getattr(people, who)) if who != "observer_user" else Client()
    if who == "observer_user":
        client.force_login(people.observer_user)
    for url, data in [
        (reverse("observer_signins_create"), {"observer": [fresh.pk]}),
        (reverse("observer_signin_reissue", args=[people.observer.pk]), {}),
    ]:
        assert client.post(url, data).status_code == 403
    assert _fresh(fresh).user is None and not SigninLink.objects.exists()


def test_anonymous_is_sent_to_log_in(people: People) -> None:
    fresh = observer_in(people.own, "obs-2")
    response = Client().post(reverse("observer_signins_create"), {"observer": [fresh.pk]})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert _fresh(fresh).user is None


def test_a_post_without_the_csrf_token_is_refused(people: People) -> None:
    fresh = observer_in(people.own, "obs-2")
    client = _client(people.coordinator)
    create = client.post(reverse("observer_signins_create"), {"observer": [fresh.pk]})
    reissue = client.post(reverse("observer_signin_reissue", args=[people.observer.pk]))
    assert create.status_code == reissue.status_code == 403
    assert _fresh(fresh).user is None and not SigninLink.objects.exists()


# --- the link ----------------------------------------------------------------------------


@pytest.fixture
def token(people: People) -> str:
    (invitation,) = create_signins(people.coordinator, [observer_in(people.own, "obs-2")])
    return invitation.token


def _set_password(client: Client, token: str, password: str) -> Any:
    return client.post(_activate_url(token), {"new_password1": password, "new_password2": password})


def test_a_weak_password_is_refused_with_the_validators_message_and_the_link_still_works(
    token: str,
) -> None:
    client = Client()
    response = _set_password(client, token, "12345678")
    assert response.status_code == 400
    assert "This password is too common." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert SigninLink.objects.get().used_at is None
    assert client.get(_activate_url(token)).status_code == 200


def test_setting_the_password_signs_in_and_the_link_dies(token: str) -> None:
    client = Client()
    page = client.get(_activate_url(token))
    assert page.status_code == 200 and b"golos-kz-obs-2" in page.content
    response = _set_password(client, token, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("observer_stations")
    assert client.get(reverse("observer_stations")).status_code == 200  # no second factor
    user = User.objects.get(username="golos-kz-obs-2")
    assert user.check_password(NEW_PASSWORD)
    assert SigninLink.objects.get().used_at is not None
    assert AuditEntry.objects.filter(action="signin_link.use", actor=user).exists()
    assert Client().login(username="golos-kz-obs-2", password=NEW_PASSWORD)

    again = Client()
    assert again.get(_activate_url(token)).status_code == 404
    assert _set_password(again, token, "another passphrase 77").status_code == 404
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def _not_found(client: Client, token: str) -> str:
    response = client.get(_activate_url(token))
    assert response.status_code == 404
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]  # the CSRF token differs


def test_expired_unknown_and_used_links_get_the_same_page(token: str, people: People) -> None:
    client = Client()
    unknown = _not_found(client, "pwl_" + "x" * 43)
    garbage = _not_found(client, "nonsense")

    (used,) = create_signins(people.coordinator, [observer_in(people.own, "obs-3")])
    _set_password(Client(), used.token, NEW_PASSWORD)
    used_page = _not_found(client, used.token)

    SigninLink.objects.filter(token_sha256=token_sha256(token)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = _not_found(client, token)
    assert unknown == garbage == used_page == expired
    assert "This link does not work" in expired
    assert _set_password(client, token, NEW_PASSWORD).status_code == 404


def test_a_deactivated_account_cannot_use_its_link(token: str) -> None:
    User.objects.filter(username="golos-kz-obs-2").update(is_active=False)
    assert Client().get(_activate_url(token)).status_code == 404


def test_an_account_made_staff_since_cannot_use_its_link(token: str) -> None:
    user = User.objects.get(username="golos-kz-obs-2")
    grant_role(user, Role.COORDINATOR)
    assert Client().get(_activate_url(token)).status_code == 404
    assert _set_password(Client(), token, NEW_PASSWORD).status_code == 404
    user.refresh_from_db()
    assert not user.has_usable_password()


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_use_a_link_once(people: People) -> None:
    """The second submission waits for the first's lock, then finds the link used."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; row locks are PostgreSQL's")
    (invitation,) = create_signins(people.coordinator, [observer_in(people.own, "obs-2")])
    statuses: list[int] = []

    def second_submission() -> None:
        try:
            statuses.append(_set_password(Client(), invitation.token, "another one 77").status_code)
        finally:
            connection.close()

    with transaction.atomic():
        link = observer_signins.live_link(invitation.token, lock=True)
        assert link is not None
        thread = threading.Thread(target=second_submission)
        thread.start()
        _wait_until_blocked(thread)
        assert statuses == []  # still waiting for the lock
        link.user.set_password(NEW_PASSWORD)
        link.user.save()
        observer_signins.use_link(link)
    thread.join(timeout=30)
    assert statuses == [404]
    assert User.objects.get(username="golos-kz-obs-2").check_password(NEW_PASSWORD)


def _wait_until_blocked(thread: threading.Thread) -> None:
    """Until `thread` waits for a row lock in this database (or has finished)."""
    deadline = time.monotonic() + 30
    while thread.is_alive() and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
