"""The header leads observers to their polling stations, and nobody else."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.protocols.conftest import Referendum
from tests.protocols.page_fixtures import signed_in


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        ("observer_user", True),
        ("unassigned_user", True),
        ("coordinator", False),
        ("analyst", False),
        ("administrator", False),
        (None, False),
    ],
)
def test_my_polling_stations_is_in_the_header_for_observers_only(
    referendum: Referendum, who: str | None, shown: bool
) -> None:
    user: User | None = getattr(referendum, who) if who else None
    page = signed_in(user).get(reverse("home")).content.decode()
    assert (f'href="{reverse("observer_stations")}"' in page) is shown
