"""The station comparison, a stored copy's page and photos, through Django's test client, for
every role: what each may see, and the differences marked in text as well as colour."""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation
from PIL import Image

from pollwatch.findings.models import Finding
from pollwatch.findings.recheck import recheck_station
from pollwatch.protocols.models import Photo, ProtocolCopy
from pollwatch.protocols.photos import store_photo
from tests.protocols.conftest import COUNT_DONE, Referendum, figures, submit
from tests.protocols.page_fixtures import (
    jpeg_with_exif,
    publish_official,
    signed_in,
)

SLUG = "test-referendum"
ROLES = [
    None,
    "observer_user",
    "colleague_user",
    "other_observer_user",
    "unassigned_user",
    "coordinator",
    "other_coordinator",
    "analyst",
    "data_clerk",
    "administrator",
]


def user(referendum: Referendum, who: str | None) -> User | None:
    return getattr(referendum, who) if who else None


def page(viewer: User | None, url: str) -> str:
    response = signed_in(viewer).get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def comparison_url(referendum: Referendum) -> str:
    return reverse("station_comparison", args=[SLUG, referendum.station.pk])


@pytest.fixture
def three_sources(referendum: Referendum) -> tuple[ProtocolCopy, ProtocolCopy, ProtocolCopy]:
    """Station 101: two organisations' copies agree on yes = 500; a colleague typed 550 for yes;
    the commission published yes = 530. ``own`` shares with the mission, ``other`` with nobody."""
    minute = datetime.timedelta(minutes=1)
    mine = submit(referendum).copy
    colleague = submit(
        referendum, referendum.colleague_user, values=figures(yes=550), at=COUNT_DONE + minute
    ).copy
    other = submit(referendum, referendum.other_observer_user, at=COUNT_DONE + 2 * minute).copy
    publish_official(referendum.station, figures(yes=530, no=175))
    recheck_station(referendum.small.election, referendum.station.pk)  # as an import would
    return mine, colleague, other


def columns(html: str) -> list[str]:
    return re.findall(r'<th scope="col" data-column="(\w+)">', html)


def row(html: str, line: str) -> str:
    match = re.search(rf'<tr data-line="{line}">(.*?)</tr>', html, re.S)
    assert match, f"no row for line {line}"
    return match.group(1)


# -- the comparison, role by role ------------------------------------------------------------

# Which copies each role sees raw: own shares with the mission only, other with nobody.
SEES = {
    None: set(),
    "observer_user": {"mine", "colleague"},
    "colleague_user": {"mine", "colleague"},
    "other_observer_user": {"other"},
    "unassigned_user": {"mine", "colleague"},
    "coordinator": {"mine", "colleague"},
    "other_coordinator": {"other"},
    "analyst": {"mine", "colleague"},
    "data_clerk": set(),
    "administrator": {"mine", "colleague"},
}


@pytest.mark.parametrize("who", ROLES)
def test_each_role_sees_the_copies_sharing_allows_and_everyone_the_rest(
    referendum: Referendum, three_sources: tuple[ProtocolCopy, ...], who: str | None
) -> None:
    mine, colleague, other = three_sources
    response = signed_in(user(referendum, who)).get(comparison_url(referendum))
    assert response.status_code == 200
    html = response.content.decode()
    copies = {"mine": mine, "colleague": colleague, "other": other}
    for name, copy in copies.items():
        link = reverse("protocol_copy", args=[SLUG, copy.id])
        assert (link in html) == (name in SEES[who]), (who, name)
    assert columns(html) == ["copy"] * len(SEES[who]) + ["official", "consensus"]
    hidden = 3 - len(SEES[who])
    if hidden:
        assert f"{hidden} of them" in html
    # Everyone sees the derived figures and the findings.
    assert copies_summary(html).startswith(
        "Observers submitted 3 copies of the protocol. They come from 2 organisations."
    )
    assert 'data-finding="consensus-differs-from-official"' in html
    assert "205 against 175 (difference 30)" in html


def copies_summary(html: str) -> str:
    """The comparison's sentences about the copies, white space collapsed."""
    return " ".join(html.split('data-summary="copies">')[1].split("</p>")[0].split())


@pytest.mark.parametrize(
    ("language", "summary"),
    [
        ("ru", "Наблюдатели прислали 3 копии протокола. Они поступили от 2 организаций."),
        ("kk", "Байқаушылар хаттаманың 3 көшірмесін жіберді. Олар 2 ұйымнан келді."),
    ],
)
def test_the_copies_summary_is_whole_sentences_in_each_language(
    referendum: Referendum, three_sources: tuple[ProtocolCopy, ...], language: str, summary: str
) -> None:
    with translation.override(language):
        url = comparison_url(referendum)  # the language's own address, /ru/… or /kk/…
    response = signed_in(None).get(url)
    assert response.status_code == 200, url
    assert copies_summary(response.content.decode()).startswith(summary)


def test_the_public_sees_the_consensus_beside_the_official_figure_marked_where_they_differ(
    referendum: Referendum, three_sources: tuple[ProtocolCopy, ...]
) -> None:
    html = signed_in(None).get(comparison_url(referendum)).content.decode()
    # Every copy says no = 205, the commission published 175: both cells are marked.
    official, consensus = re.findall(r"<td[^>]*>.*?</td>", row(html, "no"), re.S)
    assert ">175" in official and "differs from observers' consensus" in official
    assert ">205" in consensus and "differs from official" in consensus
    assert "2 of 2 organisations" in consensus
    # On yes the colleague's 550 makes their organisation abstain: the other organisation's
    # 500 alone is 1 of 2, no strict majority, so nothing to compare the official 530 with.
    official, consensus = re.findall(r"<td[^>]*>.*?</td>", row(html, "yes"), re.S)
    assert ">530" in official and "data-differs" not in official
    assert "no majority" in consensus
    registered = row(html, "registered")
    assert "data-differs" not in registered and ">1200" in registered


@pytest.mark.parametrize(
    ("who", "opens"),
    [(None, False), ("observer_user", False), ("coordinator", True), ("analyst", True)],
)
def test_a_copy_level_finding_shows_its_values_to_those_who_may_open_it(
    referendum: Referendum, three_sources: tuple[ProtocolCopy, ...], who: str | None, opens: bool
) -> None:
    disagree = Finding.objects.get(kind=Finding.Kind.COPIES_DISAGREE, present=True)
    html = page(user(referendum, who), comparison_url(referendum))
    item = html[html.index('data-finding="copies-disagree"') :].split("</li>")[0]
    assert "Observers&#x27; copies disagree" in item or "Observers' copies disagree" in item
    assert ("550 against 500" in item) == opens
    assert (reverse("finding", args=[SLUG, disagree.pk]) in item) == opens
    # A finding on derived figures shows its values to everyone.
    assert "205 against 175 (difference 30)" in html


def test_copy_cells_that_differ_are_marked_with_the_reason(
    referendum: Referendum, three_sources: tuple[ProtocolCopy, ...]
) -> None:
    html = signed_in(referendum.analyst).get(comparison_url(referendum)).content.decode()
    yes_cells = re.findall(r"<td[^>]*>.*?</td>", row(html, "yes"), re.S)
    mine, colleague, official, _consensus = yes_cells  # copies in the order received
    assert ">500" in mine and ">550" in colleague and ">530" in official
    for cell in (mine, colleague):  # both off the official figure, and off each other
        assert 'data-differs="official copies' in cell
        assert "differs from official; differs from other copies" in cell
        assert "≠" in cell
    no_cells = re.findall(r"<td[^>]*>.*?</td>", row(html, "no"), re.S)
    assert all('data-differs="official ' in cell for cell in no_cells[:2])  # 205 vs 175
    assert "differs" not in row(html, "registered")


def test_relations_are_checked_on_every_source(
    referendum: Referendum, three_sources: tuple[ProtocolCopy, ...]
) -> None:
    html = signed_in(referendum.analyst).get(comparison_url(referendum)).content.decode()
    boxes = re.search(
        r'<tr data-relation="ballots_in_boxes == invalid \+ not_counted \+ yes \+ no">(.*?)</tr>',
        html,
        re.S,
    )
    assert boxes
    states = re.findall(r'data-state="(\w+)"', boxes.group(1))
    # Mine holds, the colleague's 550 breaks it, the official 10 + 5 + 530 + 175 = 720 holds,
    # and the consensus has no value for yes.
    assert states == ["holds", "broken", "holds", "incomplete"]


def test_superseded_copies_are_history_not_columns(referendum: Referendum) -> None:
    first = submit(referendum, values=figures(yes=510)).copy
    correction = submit(referendum, supersedes=first.id).copy
    html = signed_in(referendum.analyst).get(comparison_url(referendum)).content.decode()
    assert columns(html) == ["copy", "consensus"]
    history = html[html.index('<details class="history">') :].split("</details>")[0]
    assert reverse("protocol_copy", args=[SLUG, first.id]) in history
    assert "1 earlier version, corrected since" in history
    table = html[: html.index('<details class="history">')]
    assert reverse("protocol_copy", args=[SLUG, correction.id]) in table
    assert "Observers submitted 1 copy of the protocol" in html


def test_a_station_with_nothing_yet_says_so(referendum: Referendum) -> None:
    html = signed_in(None).get(comparison_url(referendum)).content.decode()
    assert "No observer has submitted a copy" in html
    assert "has not published official figures" in html
    assert "No present finding at this station." in html
    assert "<table" not in html


def test_the_comparison_of_an_unknown_station_is_404(referendum: Referendum) -> None:
    client = signed_in(None)
    in_another_election = f"/elections/nope/stations/{referendum.station.pk}/comparison/"
    assert client.get(in_another_election).status_code == 404
    assert client.get(reverse("station_comparison", args=[SLUG, 999_999])).status_code == 404


def test_the_station_page_links_to_the_comparison(referendum: Referendum) -> None:
    station_page = reverse("station", args=[SLUG, referendum.station.pk])
    assert comparison_url(referendum) in page(None, station_page)


def test_an_assigned_observer_is_offered_the_form_from_the_comparison(
    referendum: Referendum,
) -> None:
    form = reverse("protocol_form", args=[SLUG, referendum.station.pk])
    assert form in page(referendum.observer_user, comparison_url(referendum))
    assert form not in page(referendum.analyst, comparison_url(referendum))


def test_the_comparison_reads_a_bounded_number_of_queries(
    referendum: Referendum,
    three_sources: tuple[ProtocolCopy, ...],
    django_assert_max_num_queries: object,
) -> None:
    for _ in range(5):
        submit(referendum, referendum.other_observer_user)
    client = signed_in(referendum.administrator)
    client.get(comparison_url(referendum))  # warm the session and template caches
    with django_assert_max_num_queries(13):  # type: ignore[operator]
        assert client.get(comparison_url(referendum)).status_code == 200


# -- a stored copy, role by role --------------------------------------------------------------

# Who sees the observer's own copy (own organisation shares with the mission only).
SEES_COPY = {
    None: False,
    "observer_user": True,
    "colleague_user": True,
    "other_observer_user": False,
    "unassigned_user": True,
    "coordinator": True,
    "other_coordinator": False,
    "analyst": True,
    "data_clerk": False,
    "administrator": True,
}


@pytest.mark.parametrize("who", ROLES)
def test_a_copy_page_is_shown_to_whoever_may_see_the_copy(
    referendum: Referendum, who: str | None
) -> None:
    copy = submit(referendum).copy
    response = signed_in(user(referendum, who)).get(reverse("protocol_copy", args=[SLUG, copy.id]))
    if SEES_COPY[who]:
        assert response.status_code == 200
        html = response.content.decode()
        assert str(copy.id) in html
        # Only the observer who submitted it may correct it.
        assert ("Submit a correction" in html) == (who == "observer_user")
    else:
        assert response.status_code == 404
        assert str(copy.id) in response.content.decode()  # "no copy … that you may see"


def test_a_copy_page_is_404_under_another_election(referendum: Referendum) -> None:
    copy = submit(referendum).copy
    client = signed_in(referendum.observer_user)
    assert client.get(f"/elections/other/protocol-copies/{copy.id}/").status_code == 404


# -- photos (the pages link the API's download, which decides; checked here end to end) ---------


@pytest.fixture
def photographed(referendum: Referendum, media_root: Path) -> Photo:
    shot = store_photo(user=referendum.observer_user, data=jpeg_with_exif())
    submit(referendum, photo_sha256s=[shot.sha256])
    return shot


def camera_of(data: bytes) -> str | None:
    return Image.open(io.BytesIO(data)).getexif().get(0x010F)


# Who sees the photo (as its copy), and who sees its EXIF.
PHOTO = {
    None: (False, False),
    "observer_user": (True, False),
    "colleague_user": (True, False),
    "other_observer_user": (False, False),
    "unassigned_user": (True, False),
    "coordinator": (True, True),
    "other_coordinator": (False, False),
    "analyst": (True, True),
    "data_clerk": (False, False),
    "administrator": (True, True),
}


@pytest.mark.parametrize("who", ROLES)
def test_the_pages_photo_links_serve_whoever_sees_the_copy_stripped_of_exif_unless_allowed(
    referendum: Referendum, photographed: Photo, who: str | None
) -> None:
    response = signed_in(user(referendum, who)).get(
        reverse("api-v1:download_photo", args=[photographed.sha256])
    )
    sees, exif = PHOTO[who]
    if not sees:
        assert response.status_code == (401 if who is None else 404)
        return
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert camera_of(response.content) == ("TestPhone Maker" if exif else None)
    Image.open(io.BytesIO(response.content)).verify()  # a whole image either way


def test_thumbnails_appear_in_the_comparison_for_those_who_see_the_copy(
    referendum: Referendum, photographed: Photo
) -> None:
    photo = reverse("api-v1:download_photo", args=[photographed.sha256])
    thumbnail = reverse("api-v1:download_thumbnail", args=[photographed.sha256])
    page = signed_in(referendum.analyst).get(comparison_url(referendum)).content.decode()
    # the page shows the small copy, and links to the photo itself
    assert f'<a href="{photo}"><img class="thumbnail" src="{thumbnail}"' in page
    assert signed_in(referendum.analyst).get(thumbnail)["Content-Type"] == "image/webp"
    assert photo not in signed_in(None).get(comparison_url(referendum)).content.decode()
