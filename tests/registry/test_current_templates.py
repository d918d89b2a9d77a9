"""Templates kept per content digest: read once, read anew when their content changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pollwatch.registry.current_templates import current_template
from pollwatch.registry.lookups import station_in_election
from pollwatch.registry.models import ProtocolTemplate, template_digest
from pollwatch.registry.protocol_templates import load_shipped_template
from tests.web.factories import build_small_election


@pytest.mark.django_db
def test_the_digest_follows_the_content_through_every_save() -> None:
    template = load_shipped_template("kz-referendum")
    first = template.digest
    assert len(first) == 64 and first == template_digest(template)
    assert ProtocolTemplate.objects.get(pk=template.pk).digest == first
    template.name = "Renamed"
    template.save(update_fields=["name"])  # the digest is saved with any field
    stored = ProtocolTemplate.objects.get(pk=template.pk)
    assert stored.digest == template_digest(stored) != first


@pytest.mark.django_db
def test_a_template_is_read_once_per_content() -> None:
    template = load_shipped_template("kz-referendum")
    with CaptureQueriesContext(connection) as queries:
        kept = current_template(template.pk, template.digest)
        again = current_template(template.pk, template.digest)
    assert len(queries) == 1 and kept is again
    assert kept.lines == template.lines and kept.relations == template.relations


@pytest.mark.django_db
def test_a_changed_template_is_served_as_the_database_holds_it() -> None:
    small = build_small_election()
    before = station_in_election(small.station_101.pk, small.election.slug)
    assert before is not None
    template = ProtocolTemplate.objects.get(pk=before.election.template_id)
    template.name = "Corrected protocol"
    template.save()
    after = station_in_election(small.station_101.pk, small.election.slug)
    assert after is not None
    assert after.election.template.name == "Corrected protocol"
    assert after.election.template.digest == template.digest != before.election.template.digest


@pytest.mark.django_db
def test_a_digest_this_process_never_saw_gets_the_row_kept_under_its_own_digest() -> None:
    template = load_shipped_template("kz-referendum")
    template.name = "Changed meanwhile"
    template.save()
    # The submission read a digest just before the template changed: the row read now is
    # served, and kept under its own digest, never under the one asked for.
    unseen = "0" * 64
    served = current_template(template.pk, unseen)
    assert served.name == "Changed meanwhile"
    with CaptureQueriesContext(connection) as queries:
        assert current_template(template.pk, template.digest) is served
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        current_template(template.pk, unseen)
    assert len(queries) == 1


@pytest.mark.django_db
def test_a_row_written_without_a_digest_is_never_kept() -> None:
    template = load_shipped_template("kz-referendum")
    ProtocolTemplate.objects.filter(pk=template.pk).update(digest="")
    with CaptureQueriesContext(connection) as queries:
        current_template(template.pk, "")
        current_template(template.pk, "")
    assert len(queries) == 2
