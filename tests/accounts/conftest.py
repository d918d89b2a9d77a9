"""Fast password hashing for the accounts tests that are not about hashing.

Argon2 with Django's parameters takes about 0.3 s a hash on the test machines; the tests with
"argon2" in their name keep it, since they check that passwords are hashed with it.
"""

from __future__ import annotations

import pytest
from django.conf import LazySettings


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest, settings: LazySettings) -> None:
    if "argon2" in request.node.name:
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
