"""The observer's protocol form and its live feedback, through Django's test client: who may
use them, what is stored, retries, corrections, and every refusal shown beside its field."""

from __future__ import annotations

import datetime
import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pollwatch.protocols.models import Photo, ProtocolCopy
from pollwatch.protocols.views import SEARCH_FROM
from pollwatch.registry.models import PollingStation
from tests.accreditation.conftest import assign
from tests.protocols.conftest import Referendum, figures, submit
from tests.protocols.page_fixtures import (
    form_data,
    jpeg_with_exif,
    open_assignments_now,
    signed_in,
)

SLUG = "test-referendum"


@pytest.fixture
def now_open(referendum: Referendum) -> Referendum:
    open_assignments_now()
    return referendum


def form_url(referendum: Referendum, station: object = None) -> str:
    station = station or referendum.station
    return reverse("protocol_form", args=[SLUG, station.pk])  # type: ignore[attr-defined]


def feedback_url(referendum: Referendum) -> str:
    return reverse("protocol_feedback", args=[SLUG, referendum.station.pk])


def client_id_in(html: str) -> str:
    match = re.search(r'name="client_id" value="([0-9a-f-]{36})"', html)
    assert match, "the form carries no client id"
    return match.group(1)


def fresh_form(client: Client, url: str) -> dict[str, object]:
    """GET the form (as the browser does) and return the hidden fields it must post back."""
    response = client.get(url)
    assert response.status_code == 200
    return {"client_id": client_id_in(response.content.decode())}


def post(client: Client, url: str, **figure_values: object) -> tuple[object, dict[str, object]]:
    data = {**fresh_form(client, url), **form_data(**figure_values)}
    return client.post(url, data), data


# -- who may open the form --------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(now_open: Referendum) -> None:
    for url, method in [
        (form_url(now_open), "get"),
        (feedback_url(now_open), "post"),
        (reverse("observer_stations"), "get"),
    ]:
        response = getattr(Client(), method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize(
    "who", ["unassigned_user", "coordinator", "analyst", "data_clerk", "administrator"]
)
def test_only_an_observer_assigned_to_the_station_gets_the_form(
    now_open: Referendum, who: str
) -> None:
    client = signed_in(getattr(now_open, who))
    response = client.get(form_url(now_open))
    assert response.status_code == 403
    assert "not assigned to polling station 101" in response.content.decode()
    feedback = client.post(feedback_url(now_open), {"line_registered": "1"})
    assert feedback.status_code == 403


def test_an_observer_of_another_station_is_refused(now_open: Referendum) -> None:
    # The other organisation's observer is assigned to 101 only.
    client = signed_in(now_open.other_observer_user)
    assert client.get(form_url(now_open, now_open.small.station_102)).status_code == 403
    assert client.get(form_url(now_open)).status_code == 200


def test_the_form_lists_every_line_in_the_template_order_with_a_fresh_client_id(
    now_open: Referendum,
) -> None:
    client = signed_in(now_open.observer_user)
    first = client.get(form_url(now_open)).content.decode()
    second = client.get(form_url(now_open)).content.decode()
    assert client_id_in(first) != client_id_in(second)
    keys = re.findall(r'data-line="([a-z_]+)"', first)
    assert keys == list(figures())  # the shipped template's order
    assert "Citizens included in the voter lists" in first
    assert 'inputmode="numeric"' in first
    assert 'enctype="multipart/form-data"' in first
    assert "csrfmiddlewaretoken" in first
    # Every relation is listed, none computable yet.
    assert first.count('data-state="incomplete"') == 4


def test_labels_follow_the_active_language(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    html = client.get("/ru" + form_url(now_open)).content.decode()
    assert "Количество граждан, включённых в списки для голосования" in html
    assert "Citizens included in the voter lists" not in html


def test_a_refusal_reason_is_shown_before_typing_when_the_window_is_closed(
    referendum: Referendum,
) -> None:
    # The fixture's assignments ended on election day, long before now (plus 12 h of grace).
    html = signed_in(referendum.observer_user).get(form_url(referendum)).content.decode()
    assert "only within your assignment plus the grace period" in html


# -- submitting -------------------------------------------------------------------------------


def test_a_copy_is_stored_and_shown_with_its_time_and_id(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    response, data = post(client, form_url(now_open), **figures())
    assert response.status_code == 303
    copy = ProtocolCopy.objects.get()
    assert str(copy.id) == data["client_id"]
    assert copy.figures == figures()
    assert copy.all_members_signed and copy.certified
    assert copy.observer == now_open.observer
    assert response["Location"] == reverse("protocol_copy", args=[SLUG, copy.id])
    page = client.get(response["Location"]).content.decode()
    assert str(copy.id) in page
    assert "Your protocol copy has been received." in page
    assert 'data-line="yes">500<' in page
    assert "Every control relation holds." in page
    assert f'?corrects={copy.id}"' in page


def test_unticked_boxes_are_stored_as_not_signed_and_not_certified(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    data = {**fresh_form(client, form_url(now_open)), **form_data(**figures())}
    del data["all_members_signed"], data["certified"]
    assert client.post(form_url(now_open), data).status_code == 303
    copy = ProtocolCopy.objects.get()
    assert not copy.all_members_signed and not copy.certified


def test_a_double_submit_stores_one_copy(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    data = {**fresh_form(client, form_url(now_open)), **form_data(**figures())}
    first = client.post(form_url(now_open), data)
    again = client.post(form_url(now_open), data)  # the retry after a lost response
    assert first.status_code == again.status_code == 303
    assert first["Location"] == again["Location"]
    assert ProtocolCopy.objects.count() == 1
    assert "had already been received" in client.get(again["Location"]).content.decode()


def test_a_changed_body_under_the_same_client_id_is_refused(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    data = {**fresh_form(client, form_url(now_open)), **form_data(**figures())}
    client.post(form_url(now_open), data)
    response = client.post(form_url(now_open), {**data, "line_yes": "501"})
    assert response.status_code == 200
    assert "A different protocol copy was already submitted" in response.content.decode()
    assert ProtocolCopy.objects.get().figures["yes"] == 500


def test_wrong_arithmetic_is_accepted_with_a_warning(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    response, _data = post(client, form_url(now_open), **figures(yes=510))
    assert response.status_code == 303
    assert ProtocolCopy.objects.get().figures["yes"] == 510
    page = client.get(response["Location"]).content.decode()
    assert "1 control relation does not add up." in page
    assert 'data-state="broken"' in page
    assert "ballots_in_boxes = 720, invalid + not_counted + yes + no = 730 (difference -10)" in page


@pytest.mark.parametrize(
    ("line", "value", "message"),
    [
        ("yes", "-5", "line 9 (yes) is -5; a figure cannot be negative."),
        ("no", "", "Type the figure written on line 10."),
        ("invalid", "7.5", "Line 7: type a whole number, digits only."),
        ("cancelled", "abc", "Line 5: type a whole number, digits only."),
        ("registered", "99999999", "more than 12000 (ten times the station"),
    ],
)
def test_a_bad_figure_is_refused_beside_its_line_and_nothing_is_stored(
    now_open: Referendum, line: str, value: str, message: str
) -> None:
    client = signed_in(now_open.observer_user)
    response, data = post(client, form_url(now_open), **figures(**{line: value}))  # type: ignore[arg-type]
    assert response.status_code == 200
    html = response.content.decode()
    assert ProtocolCopy.objects.count() == 0
    # The message sits in the row of that line's input, which keeps what was typed.
    within = r"(?:(?!</div>).)*"
    row = re.search(
        rf'<div class="figure-row figure-row--error">{within}name="line_{line}"{within}</div>',
        html,
        re.S,
    )
    assert row, f"no error row for line {line}"
    assert message in row.group(0)
    # The same client id comes back, so fixing the figure and resubmitting is still one copy.
    assert client_id_in(html) == data["client_id"]


def test_a_submission_outside_the_window_is_refused_and_nothing_stored(
    referendum: Referendum,
) -> None:
    client = signed_in(referendum.observer_user)
    data = {"client_id": str(uuid.uuid4()), **form_data(**figures())}
    response = client.post(form_url(referendum), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errors" role="alert"' in html
    assert "only within your assignment plus the grace period" in html
    assert ProtocolCopy.objects.count() == 0


def test_csrf_is_enforced(now_open: Referendum) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(now_open.observer_user)
    data = {"client_id": str(uuid.uuid4()), **form_data(**figures())}
    assert client.post(form_url(now_open), data).status_code == 403
    assert client.post(feedback_url(now_open), {"line_registered": "1"}).status_code == 403
    assert ProtocolCopy.objects.count() == 0


def test_photos_are_uploaded_with_the_copy(now_open: Referendum, media_root: Path) -> None:
    client = signed_in(now_open.observer_user)
    data = {**fresh_form(client, form_url(now_open)), **form_data(**figures())}
    data["photos"] = [
        SimpleUploadedFile("page1.jpg", jpeg_with_exif("red"), "image/jpeg"),
        SimpleUploadedFile("page2.jpg", jpeg_with_exif("blue"), "image/jpeg"),
    ]
    response = client.post(form_url(now_open), data)
    assert response.status_code == 303
    copy = ProtocolCopy.objects.get()
    assert copy.photos.count() == 2
    page = client.get(response["Location"]).content.decode()
    for photo in copy.photos.all():
        assert reverse("api-v1:download_photo", args=[photo.sha256]) in page


def test_a_file_that_is_not_an_image_is_refused_beside_the_photos(
    now_open: Referendum, media_root: Path
) -> None:
    client = signed_in(now_open.observer_user)
    data = {**fresh_form(client, form_url(now_open)), **form_data(**figures())}
    data["photos"] = [SimpleUploadedFile("protocol.jpg", b"%PDF-1.4 not an image", "image/jpeg")]
    response = client.post(form_url(now_open), data)
    assert response.status_code == 200
    html = response.content.decode()
    photos_row = html[html.index('for="id_photos"') :]
    assert '<ul class="errors">' in photos_row.split("</fieldset>")[0]
    assert ProtocolCopy.objects.count() == 0
    assert Photo.objects.count() == 0


def test_photos_stay_uploaded_when_a_figure_is_sent_back(
    now_open: Referendum, media_root: Path
) -> None:
    client = signed_in(now_open.observer_user)
    data = {**fresh_form(client, form_url(now_open)), **form_data(**figures(no="2O5"))}
    data["photos"] = [SimpleUploadedFile("page1.jpg", jpeg_with_exif(), "image/jpeg")]
    response = client.post(form_url(now_open), data)
    assert response.status_code == 200
    assert ProtocolCopy.objects.count() == 0
    photo = Photo.objects.get()
    html = response.content.decode()
    assert f'name="uploaded_photos" value="{photo.sha256}"' in html
    assert "1 photo you attached is already uploaded and stays with this copy." in html
    # Fixed and sent again without the file: the photo is attached all the same.
    again = {**data, "line_no": "205", "uploaded_photos": photo.sha256}
    del again["photos"]
    assert client.post(form_url(now_open), again).status_code == 303
    assert list(ProtocolCopy.objects.get().photos.all()) == [photo]


def test_a_tampered_list_of_uploaded_photos_is_refused(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    data = {**fresh_form(client, form_url(now_open)), **form_data(**figures())}
    response = client.post(form_url(now_open), {**data, "uploaded_photos": "../../etc/passwd"})
    assert response.status_code == 200
    assert "The photos uploaded earlier are not recognised" in response.content.decode()
    unknown = client.post(form_url(now_open), {**data, "uploaded_photos": "a" * 64})
    assert "No uploaded photo has the SHA-256" in unknown.content.decode()
    assert ProtocolCopy.objects.count() == 0


def test_a_missing_or_malformed_client_id_is_refused(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    for client_id in ["", "not-a-uuid"]:
        data = {"client_id": client_id, **form_data(**figures())}
        response = client.post(form_url(now_open), data)
        assert response.status_code == 200
        assert 'class="errors" role="alert"' in response.content.decode()
    assert ProtocolCopy.objects.count() == 0


# -- corrections ------------------------------------------------------------------------------


def test_a_correction_starts_from_the_copy_and_supersedes_it(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    post(client, form_url(now_open), **figures(yes=510))
    earlier = ProtocolCopy.objects.get()
    page = client.get(f"{form_url(now_open)}?corrects={earlier.id}").content.decode()
    assert f'name="supersedes" value="{earlier.id}"' in page
    assert 'name="line_yes" value="510"' in page  # starts from what was submitted
    assert "Submit the correction" in page
    data = {
        "client_id": client_id_in(page),
        "supersedes": str(earlier.id),
        **form_data(**figures()),
    }
    response = client.post(form_url(now_open), data)
    assert response.status_code == 303
    correction = ProtocolCopy.objects.exclude(pk=earlier.pk).get()
    assert correction.supersedes == earlier
    assert ProtocolCopy.objects.count() == 2  # both stay
    old_page = client.get(reverse("protocol_copy", args=[SLUG, earlier.id])).content.decode()
    assert "has been corrected by a later one" in old_page
    assert "Submit a correction" not in old_page


@pytest.mark.parametrize("whose", ["colleague_user", "other_observer_user"])
def test_nobody_corrects_another_observers_copy(now_open: Referendum, whose: str) -> None:
    earlier = submit(now_open, at=None).copy
    client = signed_in(getattr(now_open, whose))
    response = client.get(f"{form_url(now_open)}?corrects={earlier.id}")
    assert response.status_code == 404
    # Posting the correction by hand is refused by the service, beside nothing but the form.
    data = {"client_id": str(uuid.uuid4()), "supersedes": str(earlier.id), **form_data(**figures())}
    refused = client.post(form_url(now_open), data)
    assert refused.status_code == 200
    assert "you can only correct your own copies" in refused.content.decode()
    assert ProtocolCopy.objects.count() == 1


def test_a_malformed_correction_id_is_a_clear_error(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    response = client.get(f"{form_url(now_open)}?corrects=nonsense")
    assert response.status_code == 400
    assert "&#x27;nonsense&#x27; is not a protocol copy id." in response.content.decode()


# -- live feedback ----------------------------------------------------------------------------


def feedback_states(client: Client, url: str, typed: dict[str, object]) -> dict[str, str]:
    response = client.post(url, {f"line_{key}": value for key, value in typed.items()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment for htmx
    return dict(re.findall(r'data-relation="([^"]+)" data-state="(\w+)"', html))


def test_feedback_follows_the_typing(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    url = feedback_url(now_open)
    boxes = "ballots_in_boxes == invalid + not_counted + yes + no"
    received = "ballots_received == issued_in_station + issued_outside + cancelled"

    states = feedback_states(client, url, {"ballots_in_boxes": 720, "invalid": 10})
    assert states[boxes] == "incomplete"
    typed = {"ballots_in_boxes": 720, "invalid": 10, "not_counted": 5, "yes": 500, "no": 200}
    assert feedback_states(client, url, typed)[boxes] == "broken"
    assert feedback_states(client, url, {**typed, "no": 205})[boxes] == "holds"
    assert feedback_states(client, url, figures())[received] == "holds"
    # Half-typed or absurd text is not a figure yet.
    assert feedback_states(client, url, {**typed, "no": "2x"})[boxes] == "incomplete"
    assert feedback_states(client, url, {**typed, "no": "9" * 40})[boxes] == "incomplete"


def test_feedback_names_both_sides_and_the_missing_lines(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    typed = {"ballots_in_boxes": 720, "invalid": 10, "not_counted": 5, "yes": 500, "no": 200}
    html = client.post(
        feedback_url(now_open), {f"line_{k}": v for k, v in typed.items()}
    ).content.decode()
    assert "1 control relation does not add up." in html
    assert "invalid + not_counted + yes + no = 715 (difference 5)" in html
    assert "Waiting for lines: 2, 3, 4, 5" in html  # ballots received = issued + cancelled


def test_feedback_is_post_only(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    assert client.get(feedback_url(now_open)).status_code == 405


def test_the_figure_inputs_post_to_the_feedback_endpoint(now_open: Referendum) -> None:
    html = signed_in(now_open.observer_user).get(form_url(now_open)).content.decode()
    assert f'hx-post="{feedback_url(now_open)}"' in html
    assert 'hx-trigger="input changed delay:300ms"' in html
    assert 'hx-target="#relation-feedback"' in html


# -- the observer's stations ------------------------------------------------------------------


def test_the_observer_sees_their_stations_and_their_copies(now_open: Referendum) -> None:
    copy = submit(now_open, at=None).copy
    html = signed_in(now_open.observer_user).get(reverse("observer_stations")).content.decode()
    assert form_url(now_open) in html
    assert form_url(now_open, now_open.small.station_102) in html
    assert reverse("protocol_copy", args=[SLUG, copy.id]) in html
    other = signed_in(now_open.other_observer_user).get(reverse("observer_stations"))
    assert form_url(now_open, now_open.small.station_102) not in other.content.decode()


def test_the_station_list_searches_by_number(now_open: Referendum) -> None:
    client = signed_in(now_open.observer_user)
    html = client.get(reverse("observer_stations") + "?number=102").content.decode()
    assert form_url(now_open, now_open.small.station_102) in html
    assert form_url(now_open) not in html
    nothing = client.get(reverse("observer_stations") + "?number=999").content.decode()
    assert "None of your polling stations has the number “999”." in nothing


def test_the_search_box_appears_only_for_observers_with_many_stations(
    now_open: Referendum,
) -> None:
    client = signed_in(now_open.observer_user)
    assert 'name="number"' not in client.get(reverse("observer_stations")).content.decode()
    commission = now_open.station.commission
    hour = datetime.timedelta(hours=1)
    for n in range(SEARCH_FROM):
        station = PollingStation.objects.create(
            election=now_open.small.election,
            commission=commission,
            code=f"extra-{n}",
            number=str(900 + n),
            registered_voters=100,
        )
        assign(now_open.observer, station, timezone.now() - hour, timezone.now() + hour)
    html = client.get(reverse("observer_stations")).content.decode()
    assert 'name="number"' in html
    assert html.count('class="card__title"') == SEARCH_FROM + 2


def test_an_unassigned_observer_is_told_so(now_open: Referendum) -> None:
    html = signed_in(now_open.unassigned_user).get(reverse("observer_stations")).content.decode()
    assert "You are not assigned to any polling station yet" in html


@pytest.mark.parametrize("who", ["coordinator", "analyst", "data_clerk", "administrator"])
def test_staff_without_an_observer_record_have_no_station_list(
    now_open: Referendum, who: str
) -> None:
    user: User = getattr(now_open, who)
    response = signed_in(user).get(reverse("observer_stations"))
    assert response.status_code == 403
    assert "You are not registered as an observer." in response.content.decode()
