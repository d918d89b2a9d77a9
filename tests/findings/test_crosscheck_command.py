"""pollwatch crosscheck: records the findings and prints the counts by kind."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pollwatch.findings.models import Finding
from tests.official.elections import K, store_election

pytestmark = pytest.mark.django_db


def test_crosscheck_records_and_summarises() -> None:
    stored = store_election(stations=8)
    stored.publish({p: stored.figures(p) for p in range(7)})
    stored.add_copy(0, 0, stored.figures(0, yes=int(stored.honest[0, K["yes"]]) + 3))
    out = StringIO()
    call_command("crosscheck", election=stored.election.slug, no_progress=True, stdout=out)
    text = out.getvalue()
    stations = Finding.objects.filter(present=True).count()
    assert stations > 0
    assert f"{stations} new, 0 updated" in text
    assert "Official result missing" not in text
    assert "Copy differs from official: 1" in text
    out = StringIO()
    call_command("crosscheck", election=stored.election.slug, no_progress=True, stdout=out)
    assert f"0 new, 0 updated, {stations} unchanged" in out.getvalue()


def test_unknown_election_is_refused() -> None:
    with pytest.raises(CommandError, match="No election with the slug nowhere"):
        call_command("crosscheck", election="nowhere", no_progress=True)
