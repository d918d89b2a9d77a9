"""Schemathesis against /api/v1/openapi.json, through the WSGI app (no server): as the public
and as a staff session, no operation answers 5xx and every response matches the schema."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pollwatch.accounts.roles import Role
from pollwatch.wsgi import application
from tests.accounts.factories import login_verified, make_user
from tests.web.factories import build_small_election

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# Valid requests only: what an invalid one gets (422, documented or not) is each operation's own
# tests' business; here every answer to a well-formed request must be in the schema.
# The security schemes' header and cookie are sent by the test itself, not made up.
schema.config.generation.update(modes=[GenerationMode.POSITIVE], with_security_parameters=False)


def _needs_authentication(context: Any) -> bool:
    return bool(context.operation.definition.raw.get("security"))


def documented_status(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """The status is in the schema, or it is django-ninja's answer to a request that is valid
    by the schema's types but not by the operation's own rules (offset over its cap, minimum
    over maximum): 422 with {"detail": [...]} — ninja gives every operation that answer and
    documents it on none."""
    if response.status_code == 422 and isinstance(response.json().get("detail"), list):
        return True
    result: bool | None = status_code_conformance(ctx, response, case)
    return result


CHECKS = [
    not_a_server_error,
    documented_status,
    content_type_conformance,
    response_schema_conformance,
]
FEW_EXAMPLES = hypothesis_settings(
    max_examples=15,
    derandomize=True,  # the same examples on every run: a failure here is reproducible
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """The WSGI handler closes old connections at each request's start and end; inside a test
    transaction that would close the test's own (Django's test Client disconnects this too)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@dataclass(frozen=True)
class Browser:
    """What a verified analyst's browser sends: the session and CSRF cookies, the CSRF header."""

    cookies: dict[str, str]
    headers: dict[str, str]


@pytest.fixture
def staff(db: None) -> Browser:
    build_small_election()
    client = Client()
    login_verified(client, make_user("ana", Role.ANALYST, password=None))
    secret = _get_new_csrf_string()
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Browser(
        cookies={settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: secret},
        headers={"X-CSRFToken": _mask_cipher_secret(secret)},
    )


@pytest.mark.django_db
@schema.exclude(_needs_authentication).parametrize()
@FEW_EXAMPLES
def test_api_as_the_public(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@FEW_EXAMPLES
def test_api_as_staff(case: schemathesis.Case, staff: Browser) -> None:
    response = case.call_and_validate(headers=staff.headers, cookies=staff.cookies, checks=CHECKS)
    # The session and CSRF token were accepted: any refusal is the operation's own.
    assert response.status_code != 401
    assert b"CSRF" not in response.content
