"""The page shell through Django's test client: language switcher, login and logout."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.web.factories import SmallElection

PAGE = "/elections/test-referendum/"


def _switcher_next(html: str) -> str:
    match = re.search(r'name="next" value="([^"]*)"', html)
    assert match, "no language switcher on the page"
    return match.group(1)


@pytest.mark.parametrize(
    "current, chosen, expected",
    [
        (PAGE, "ru", f"/ru{PAGE}"),
        (f"/ru{PAGE}", "kk", f"/kk{PAGE}"),
        (f"/kk{PAGE}", "en", PAGE),
        (f"/ru{PAGE}search?number=101", "kk", f"/kk{PAGE}search?number=101"),
    ],
)
def test_language_switcher_keeps_the_page(
    client: Client, small_election: SmallElection, current: str, chosen: str, expected: str
) -> None:
    next_url = _switcher_next(client.get(current).content.decode())
    response = client.post("/i18n/setlang/", {"language": chosen, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == expected


def test_languages_are_named_in_themselves(client: Client, small_election: SmallElection) -> None:
    html = client.get(f"/kk{PAGE}").content.decode()
    for name in ("English", "Русский", "Қазақша"):
        assert f">{name}</button>" in html


def test_login_page_then_logout_by_post(client: Client, db: None) -> None:
    get_user_model().objects.create_user("observer1", password="a long passphrase 42")
    login_page = client.get("/login/").content.decode()
    assert '<label for="id_username">' in login_page
    assert '<label for="id_password">' in login_page

    response = client.post("/login/", {"username": "observer1", "password": "a long passphrase 42"})
    assert response.status_code == 302
    home = client.get("/").content.decode()
    assert "Signed in as observer1" in home
    assert 'action="/logout/"' in home and 'method="post"' in home

    client.post("/logout/")
    assert "Signed in as" not in client.get("/").content.decode()


def test_login_returns_to_the_page_it_came_from(
    client: Client, small_election: SmallElection
) -> None:
    get_user_model().objects.create_user("observer1", password="a long passphrase 42")
    page = client.get(f"/ru{PAGE}").content.decode()
    match = re.search(r'href="(/ru/login/\?next=[^"]+)"', page)
    assert match, "no login link back to this page"
    next_url = unquote(match.group(1).split("next=", 1)[1])
    credentials = {"username": "observer1", "password": "a long passphrase 42", "next": next_url}
    response = client.post("/ru/login/", credentials)
    assert response["Location"] == f"/ru{PAGE}"
    # Signed in, the login page sends them on rather than asking again.
    assert client.get("/ru/login/")["Location"] == "/ru/"


def test_known_commission_levels_are_translated(
    client: Client, small_election: SmallElection
) -> None:
    url = f"/elections/test-referendum/commissions/{small_election.kokshetau.pk}/"
    assert "territorial commission" in client.get(url).content.decode()
    assert "территориальная комиссия" in client.get(f"/ru{url}").content.decode()
