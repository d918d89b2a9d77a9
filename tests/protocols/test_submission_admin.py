"""The admin shows protocol copies and photos and lets nobody edit, add or delete them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.accounts.factories import login_verified
from tests.protocols.conftest import Referendum, submit
from tests.protocols.test_submission import photo


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    login_verified(client, User.objects.create_superuser("root", password="not-used-here"))
    return client


def test_copies_and_photos_are_shown_read_only(
    referendum: Referendum, admin_client: Client
) -> None:
    shot = photo("evidence")
    copy = submit(referendum, photo_sha256s=[shot.sha256]).copy
    listing = admin_client.get(reverse("admin:protocols_protocolcopy_changelist"))
    assert listing.status_code == 200 and str(copy.pk) in listing.content.decode()
    page = admin_client.get(reverse("admin:protocols_protocolcopy_change", args=[copy.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (
        admin_client.get(reverse("admin:protocols_photo_change", args=[shot.pk])).status_code == 200
    )
    for model in ("protocolcopy", "photo"):
        assert admin_client.get(reverse(f"admin:protocols_{model}_add")).status_code == 403
    deleting = admin_client.post(
        reverse("admin:protocols_protocolcopy_delete", args=[copy.pk]), {"post": "yes"}
    )
    assert deleting.status_code == 403
    changing = admin_client.post(
        reverse("admin:protocols_protocolcopy_change", args=[copy.pk]), {"certified": ""}
    )
    assert changing.status_code == 403
    copy.refresh_from_db()
    assert copy.certified is True
