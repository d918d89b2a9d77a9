"""The admin: organisations and observers edited with an audit entry each; accreditations
and assignments shown read-only."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from pollwatch.accounts.models import AuditEntry
from pollwatch.accounts.roles import Role
from pollwatch.accreditation.models import Accreditation, Assignment, DeviceKey, Organisation
from tests.accounts.factories import login_verified, make_user
from tests.accreditation.conftest import People, accredit, assign
from tests.web.factories import SmallElection

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(people: People) -> Client:
    client = Client()
    login_verified(client, make_user("root", Role.ADMINISTRATOR))
    return client


def test_an_organisation_edited_in_the_admin_is_audited(
    admin_client: Client, people: People
) -> None:
    url = reverse("admin:accreditation_organisation_change", args=[people.own.pk])
    response = admin_client.post(
        url,
        {
            "code": "golos-kz",
            "name": "Golos Kazakhstan",
            "kind": "ngo",
            "share_with_mission": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    own = Organisation.objects.get(pk=people.own.pk)
    assert (own.name, own.share_with_mission) == ("Golos Kazakhstan", True)
    entry = AuditEntry.objects.get(action="organisation.change")
    assert entry.before is not None and entry.after is not None
    assert (entry.before["share_with_mission"], entry.after["share_with_mission"]) == (False, True)
    assert entry.actor_username == "root"


def test_accreditations_and_assignments_are_read_only(
    admin_client: Client, small: SmallElection, people: People
) -> None:
    accreditation = accredit(people.observer, small.election)
    assignment = assign(people.observer, small.station_101)
    for model, obj in [("accreditation", accreditation), ("assignment", assignment)]:
        listing = admin_client.get(reverse(f"admin:accreditation_{model}_changelist"))
        assert listing.status_code == 200
        page = admin_client.get(reverse(f"admin:accreditation_{model}_change", args=[obj.pk]))
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert admin_client.get(reverse(f"admin:accreditation_{model}_add")).status_code == 403
    admin_client.post(
        reverse("admin:accreditation_accreditation_change", args=[accreditation.pk]),
        {"status": "revoked"},
    )
    assert Accreditation.objects.get().status == "accredited"
    assert Assignment.objects.count() == 1


def test_device_keys_are_shown_read_only(admin_client: Client, people: People) -> None:
    key = DeviceKey.objects.create(
        observer=people.observer,
        public_key=bytes(range(32)),
        name="phone",
        created_at=datetime.datetime(2026, 3, 15, tzinfo=datetime.UTC),
    )
    listing = admin_client.get(reverse("admin:accreditation_devicekey_changelist"))
    assert listing.status_code == 200
    assert bytes(range(32)).hex() in listing.content.decode()
    page = admin_client.get(reverse("admin:accreditation_devicekey_change", args=[key.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.get(reverse("admin:accreditation_devicekey_add")).status_code == 403
