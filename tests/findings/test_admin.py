"""The admin shows findings and their decisions and lets nobody edit, add or delete them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from pollwatch.findings.lifecycle import change_finding_status
from pollwatch.findings.models import Finding, FindingDecision, FindingStatus
from pollwatch.findings.recording import Scope, record_findings
from tests.accounts.factories import login_verified
from tests.findings.conftest import at_station
from tests.web.factories import SmallElection


@pytest.fixture
def superuser_client(db: None) -> tuple[Client, User]:
    user = User.objects.create_superuser("root", password="not-used-here")
    client = Client()
    login_verified(client, user)  # staff pages need the second factor
    return client, user


def test_findings_and_decisions_are_shown_read_only(
    small: SmallElection, superuser_client: tuple[Client, User]
) -> None:
    client, user = superuser_client
    record_findings(small.election, Scope.election(), [at_station(small.station_101.pk, "yes", 7)])
    finding = Finding.objects.get()
    change_finding_status(user, finding, FindingStatus.DISMISSED, "the clerk misread a 7 as 1")
    decision = FindingDecision.objects.get()

    listing = client.get(reverse("admin:findings_finding_changelist"))
    assert listing.status_code == 200
    assert finding.fingerprint in listing.content.decode()
    page = client.get(reverse("admin:findings_finding_change", args=[finding.pk]))
    assert page.status_code == 200
    assert "the clerk misread a 7 as 1" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    history = client.get(reverse("admin:findings_findingdecision_change", args=[decision.pk]))
    assert history.status_code == 200

    assert client.get(reverse("admin:findings_finding_add")).status_code == 403
    assert client.get(reverse("admin:findings_findingdecision_add")).status_code == 403
    deleting = client.post(
        reverse("admin:findings_finding_delete", args=[finding.pk]), {"post": "yes"}
    )
    assert deleting.status_code == 403
    # A forged edit changes nothing either.
    client.post(reverse("admin:findings_finding_change", args=[finding.pk]), {"status": "open"})
    finding.refresh_from_db()
    assert finding.status == FindingStatus.DISMISSED
    assert Finding.objects.count() == FindingDecision.objects.count() == 1
