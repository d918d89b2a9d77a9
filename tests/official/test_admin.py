"""The outcome rule in the admin: refused when it does not fit the election's template."""

from __future__ import annotations

import pytest

from pollwatch.official.admin import OutcomeRuleForm
from tests.official.elections import store_election

pytestmark = pytest.mark.django_db


def test_a_rule_naming_unknown_lines_is_refused() -> None:
    stored = store_election(stations=4)
    bad = OutcomeRuleForm(
        data={"election": stored.election.pk, "rule": '{"kind": "majority", "options": ["x"]}'}
    )
    assert not bad.is_valid()
    assert "unknown lines ['x']" in str(bad.errors.as_data())
    good = OutcomeRuleForm(
        data={
            "election": stored.election.pk,
            "rule": '{"kind": "majority", "options": ["yes", "no"]}',
        }
    )
    assert good.is_valid(), good.errors
