"""station_in_election reads what the ORM reads, in one query once the process holds the
election's template."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pollwatch.registry.lookups import station_in_election
from pollwatch.registry.models import Election, PollingStation, ProtocolTemplate
from pollwatch.registry.protocol_templates import load_shipped_template
from tests.web.factories import build_small_election


def _fields(row: object) -> dict[str, object]:
    return {f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_station_comes_with_its_election_and_template_as_the_orm_reads_them() -> None:
    small = build_small_election()
    Election.objects.filter(pk=small.election.pk).update(
        submission_grace=datetime.timedelta(hours=6),
        languages=["kk", "ru"],
        template=load_shipped_template("kz-referendum"),
    )
    station_in_election(small.station_101.pk, small.election.slug)  # the template, read once
    with CaptureQueriesContext(connection) as queries:
        found = station_in_election(small.station_102.pk, small.election.slug)
    assert found is not None and len(queries) == 1
    expected = PollingStation.objects.select_related("election__template").get(
        pk=small.station_102.pk
    )
    assert _fields(found) == _fields(expected)
    assert _fields(found.election) == _fields(expected.election)
    assert found.election.submission_grace == datetime.timedelta(hours=6)
    assert found.election.languages == ["kk", "ru"]
    template = found.election.template
    assert isinstance(template, ProtocolTemplate)
    assert _fields(template) == _fields(expected.election.template)
    assert template.key == "kz-referendum" and template.lines[0]["key"] == "registered"


@pytest.mark.django_db
def test_a_station_of_another_election_or_an_unknown_one_is_none() -> None:
    small = build_small_election()
    other = build_small_election("other-referendum")
    assert station_in_election(other.station_101.pk, small.election.slug) is None
    assert station_in_election(small.station_101.pk, "no-such-election") is None
    assert station_in_election(10**9, small.election.slug) is None
