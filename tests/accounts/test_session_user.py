"""The user read with the session row (accounts/sessions.py): the session row records its
user's id when saved, and the user read along with it is used only for that request's own
session and the very user its data names; otherwise the backend reads the user itself.

(The refusals on the next request — logout, expiry, deactivation, password change, a device
that stops counting — are in test_fresh_reads.py, through the same one-statement read.)"""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from pollwatch.accounts import sessions
from pollwatch.accounts.backends import AccountBackend
from pollwatch.accounts.models import Session
from pollwatch.accounts.roles import Role
from pollwatch.accounts.sessions import SessionStore
from tests.accounts.factories import login_verified, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.probe_api")]

WHOAMI = "/api/probe/whoami"


def _key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_saving_a_session_records_the_id_of_the_user_its_data_names() -> None:
    analyst, other = make_user("ana", Role.ANALYST), make_user("otto", Role.ANALYST)
    client = Client()
    login_verified(client, analyst)
    assert Session.objects.get(pk=_key(client)).user_id == analyst.pk
    login_verified(client, other)  # another login in the same browser: a new session row
    assert Session.objects.get(pk=_key(client)).user_id == other.pk

    anonymous = SessionStore()
    anonymous["language"] = "ru"
    anonymous.create()
    assert Session.objects.get(pk=anonymous.session_key).user_id is None


def test_a_session_row_naming_another_user_than_its_data_is_not_taken_at_its_word() -> None:
    """The column only says which user to read along; the data's user is authenticated, read
    by the backend (a second query) when the user read along is not them."""
    client = Client()
    login_verified(client, make_user("ana", Role.ANALYST))
    someone = make_user("mallory", Role.ADMINISTRATOR)
    Session.objects.filter(pk=_key(client)).update(user=someone)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(WHOAMI).json() == {"username": "ana"}
    assert len(queries) == 2


def test_deleting_a_user_ends_their_sessions() -> None:
    analyst = make_user("ana", Role.ANALYST)
    client = Client()
    login_verified(client, analyst)
    User.objects.filter(pk=analyst.pk).delete()
    assert not Session.objects.filter(pk=_key(client)).exists()
    assert client.get(WHOAMI).status_code == 401


def test_a_session_naming_a_missing_user_is_saved_and_authenticates_nobody() -> None:
    """No database constraint on the column: Django's `create()` would take the refused insert
    for a key collision and retry it forever."""
    store = SessionStore()
    store[SESSION_KEY] = "1000000000"
    store._session_key = store._get_new_session_key()
    store.save(must_create=True)
    assert Session.objects.get(pk=store.session_key).user_id == 10**9
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = store.session_key
    assert client.get(WHOAMI).status_code == 401


def test_the_user_read_with_a_session_is_offered_only_while_its_request_authenticates() -> None:
    analyst = make_user("ana", Role.ANALYST)
    client = Client()
    login_verified(client, analyst)
    assert client.get(WHOAMI).status_code == 200
    assert sessions.user_read_with_session(analyst.pk) is None  # nothing left after a request

    store = SessionStore(_key(client))
    store.load()
    seen_elsewhere = []
    with sessions._offered(store):
        offered = sessions.user_read_with_session(analyst.pk)
        assert offered is not None and offered.pk == analyst.pk
        assert sessions.user_read_with_session(analyst.pk + 1) is None  # another user: no
        assert sessions.user_read_with_session(str(analyst.pk)) is None  # not the same id
        thread = threading.Thread(
            target=lambda: seen_elsewhere.append(sessions.user_read_with_session(analyst.pk))
        )
        thread.start()
        thread.join()
        with CaptureQueriesContext(connection) as queries:
            assert AccountBackend().get_user(analyst.pk) is offered
        assert len(queries) == 0
        offered.is_active = False  # as if read inactive: the backend's own check still refuses
        assert AccountBackend().get_user(analyst.pk) is None
    assert seen_elsewhere == [None]  # another thread (another request) is offered nothing
    assert sessions.user_read_with_session(analyst.pk) is None
