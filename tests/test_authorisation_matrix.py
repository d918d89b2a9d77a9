"""Who may reach what: every URL pattern and every API operation, checked for every role.

Each endpoint needs a rule in URL_RULES or API_RULES below, one line each; a new endpoint
without one fails `test_every_url_pattern_has_a_rule` / `test_every_api_operation_has_a_rule`.
A rule maps an HTTP method to what each role gets: a status code, or LOGIN (a redirect to the
login page). `expect(default, role=...)` builds one: `expect(403, anonymous=LOGIN, analyst=200)`.

Roles: the public (anonymous), an observer (accredited, assigned to station 101; on the API
with a device token), a coordinator of the observer's organisation, an analyst, a data clerk
(staff, may edit commissions and stations in the admin) and an administrator (superuser).
Staff sessions have passed the second factor.

Path parameters come from SAMPLES, filled with real objects (an election, its station 101,
an observer's protocol copy, a finding, a log entry); a new parameter name needs a sample.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from pollwatch.accounts.device_tokens import issue_device_token
from pollwatch.findings.models import Finding
from tests.accounts.factories import login_verified
from tests.protocols.conftest import Referendum, submit
from tests.protocols.conftest import referendum as referendum  # the fixture, re-exported

ROLES = ("anonymous", "observer", "coordinator", "analyst", "data_clerk", "administrator")
LOGIN = "login"  # a redirect to the login page
Outcome = int | str


def expect(default: Outcome, **by_role: Outcome) -> dict[str, Outcome]:
    unknown = set(by_role) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return {role: by_role.get(role, default) for role in ROLES}


PUBLIC = {"GET": expect(200)}
# Public, the same for everyone; 404 here because the sample log has no checkpoint yet (the
# fixture does not run the integrator).
PUBLIC_UNPUBLISHED = {"GET": expect(404)}
SIGNED_IN = expect(200, anonymous=LOGIN)
OBSERVERS = expect(403, anonymous=LOGIN, observer=200)
ALL_REDIRECT = expect(302)
ANALYSTS = expect(403, anonymous=LOGIN, analyst=200, administrator=200)
ADMIN_STAFF_ONLY = expect(LOGIN, data_clerk=200, administrator=200)
MANAGERS = expect(403, anonymous=LOGIN, coordinator=200, administrator=200)  # of observers
COVERAGE = expect(403, anonymous=LOGIN, coordinator=200, analyst=200, administrator=200)

# URL name (namespace:name) -> {method: outcome by role}. Globs ("admin:*") cover families.
URL_RULES: dict[str, dict[str, dict[str, Outcome]]] = {
    "home": PUBLIC,
    "login": {"GET": expect(200, **{r: 302 for r in ROLES[1:]})},  # signed in: sent on
    "logout": {"POST": ALL_REDIRECT, "GET": expect(405)},
    "set_language": {"POST": ALL_REDIRECT},
    "admin_login_redirect": {"GET": expect(LOGIN)},
    "second_factor_enrol": {"GET": expect(302, anonymous=LOGIN, observer=200)},
    "second_factor_verify": {"GET": expect(200, anonymous=LOGIN, observer=302)},
    "device_tokens": {"GET": OBSERVERS, "POST": expect(403, anonymous=LOGIN, observer=400)},
    "device_token_revoke": {  # the sample token is another observer's
        "POST": expect(403, anonymous=LOGIN, observer=404),
        "GET": expect(405, anonymous=LOGIN),
    },
    # The sample token is no link's: the same page for everyone, signed in or not.
    "signin_activate": {"GET": expect(404), "POST": expect(404)},
    "election": PUBLIC,
    "station_search": PUBLIC,
    "commission": PUBLIC,
    "commission_children": PUBLIC,
    "station": PUBLIC,
    "findings_queue": {"GET": expect(200, anonymous=LOGIN, observer=403, data_clerk=403)},
    "finding": {"GET": expect(200, anonymous=LOGIN, observer=403, data_clerk=403)},
    "finding_status": {"POST": expect(403, analyst=400, administrator=400)},
    "election_log": PUBLIC,
    "observer_stations": {"GET": OBSERVERS},
    # The empty POST has no key (400); nobody has a key with the sample id (404).
    "device_keys": {"GET": OBSERVERS, "POST": expect(403, anonymous=LOGIN, observer=400)},
    "device_key_revoke": {
        "POST": expect(403, anonymous=LOGIN, observer=404),
        "GET": expect(405, anonymous=LOGIN),
    },
    "protocol_form": {"GET": OBSERVERS, "POST": expect(403, anonymous=LOGIN, observer=200)},
    "protocol_feedback": {"POST": OBSERVERS, "GET": expect(405, anonymous=LOGIN)},
    "station_comparison": PUBLIC,
    "protocol_copy": {"GET": expect(200, anonymous=404, data_clerk=404)},
    "protocol_copy_receipt_state": {"GET": expect(200, anonymous=404, data_clerk=404)},
    "tabulation": PUBLIC,
    "commission_tabulation": PUBLIC,
    "log_checkpoint": PUBLIC_UNPUBLISHED,
    "log_tile": PUBLIC_UNPUBLISHED,
    "log_receipt": PUBLIC_UNPUBLISHED,
    "log_consistency": PUBLIC_UNPUBLISHED,
    "observer_list": {"GET": MANAGERS},
    "observer_detail": {"GET": MANAGERS},
    "accreditation_request": {
        "POST": expect(403, anonymous=LOGIN, coordinator=404, administrator=404)
    },
    "assignment_add": {"POST": expect(403, anonymous=LOGIN, coordinator=400, administrator=400)},
    # The sample assignment is another organisation's: its coordinator only may remove it.
    "assignment_remove": {"POST": expect(403, anonymous=LOGIN, administrator=302)},
    # Nobody ticked: sent back to the list with the error.
    "observer_signins_create": {
        "POST": expect(403, anonymous=LOGIN, coordinator=302, administrator=302),
        "GET": expect(403, anonymous=LOGIN, coordinator=405, administrator=405),
    },
    "observer_signin_reissue": {"POST": MANAGERS},  # the sample observer has an account
    "observer_import": {
        "GET": MANAGERS,
        "POST": expect(403, anonymous=LOGIN, coordinator=400, administrator=400),
    },
    "accreditation_queue": {"GET": expect(403, anonymous=LOGIN, administrator=200)},
    "accreditation_accredit": {"POST": expect(403, anonymous=LOGIN, administrator=302)},
    "accreditation_revoke": {"POST": expect(403, anonymous=LOGIN, administrator=302)},
    "coverage": {"GET": COVERAGE},
    "coverage_missing_csv": {"GET": COVERAGE},
    "forensics": PUBLIC,
    "forensics_figure_svg": {"GET": expect(404)},  # no such report: the same for everyone
    "forensics_figure_png": {"GET": expect(404)},
    "pvt": PUBLIC,
    "pvt_draw": {"POST": expect(403, analyst=400, administrator=400), "GET": expect(405)},
    "pvt_sample_csv": {  # no sample drawn in the sample election
        "GET": expect(403, anonymous=LOGIN, coordinator=404, analyst=404, administrator=404)
    },
    # The admin: only staff get in (the others are sent to log in); inside, model permissions.
    "admin:*": {"GET": ADMIN_STAFF_ONLY},
    "admin:logout": {"GET": expect(302)},  # a GET does not log out; it is sent on
}

# The API's operation ids -> {method: outcome by role}; device tokens and sessions as above.
API_RULES: dict[str, dict[str, dict[str, Outcome]]] = {
    "pollwatch_registry_api_list_elections": PUBLIC,
    "pollwatch_registry_api_get_election": PUBLIC,
    "pollwatch_registry_api_list_commissions": PUBLIC,
    "pollwatch_registry_api_get_commission": PUBLIC,
    "pollwatch_registry_api_list_stations": PUBLIC,
    "pollwatch_registry_api_get_station": PUBLIC,
    "pollwatch_ledger_api_election_log": PUBLIC_UNPUBLISHED,
    "pollwatch_protocols_api_submit_protocol_copy": {"POST": expect(422, anonymous=401)},
    "pollwatch_protocols_api_get_protocol_copy": {
        "GET": expect(200, anonymous=401, data_clerk=404)
    },
    # Staff are refused before the upload is read; the observer's empty upload is invalid.
    "pollwatch_protocols_api_upload_photo": {"POST": expect(403, anonymous=401, observer=422)},
    "pollwatch_protocols_api_download_photo": {"GET": expect(404, anonymous=401)},
    "pollwatch_protocols_api_download_thumbnail": {"GET": expect(404, anonymous=401)},
    "pollwatch_protocols_api_register_key": {"POST": expect(422, anonymous=401)},  # empty body
    "pollwatch_protocols_api_list_keys": {"GET": expect(200, anonymous=401)},  # one's own keys
    # No one has a key with the sample id: the same answer for every signed-in caller.
    "pollwatch_protocols_api_revoke_key": {"POST": expect(404, anonymous=401)},
}


@dataclass(frozen=True)
class Endpoint:
    key: str  # the rule's key: namespace:name, or namespace:route when unnamed
    name: str | None  # for reverse()
    route: str
    parameters: tuple[str, ...]


def url_endpoints() -> list[Endpoint]:
    """Every URL pattern of the project, the API's own patterns excepted (see API_RULES)."""
    found: list[Endpoint] = []

    def walk(patterns: list[Any], route: str, namespace: str) -> None:
        for pattern in patterns:
            here = route + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                walk(
                    pattern.url_patterns,
                    here,
                    f"{namespace}:{inner}".strip(":") if inner else namespace,
                )
            elif isinstance(pattern, URLPattern):
                qualified = f"{namespace}:{pattern.name}".lstrip(":") if pattern.name else None
                key = qualified or f"{namespace}:{here}".lstrip(":")
                found.append(Endpoint(key, qualified, here, tuple(_parameters(here))))

    walk(get_resolver().url_patterns, "", "")
    return [e for e in found if not e.key.startswith("api-v1:")]


def _parameters(route: str) -> list[str]:
    return [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)]


def rule_for(
    key: str, rules: Mapping[str, dict[str, dict[str, Outcome]]]
) -> dict[str, dict[str, Outcome]] | None:
    if key in rules:
        return rules[key]
    globs = [g for g in rules if "*" in g and fnmatch.fnmatchcase(key, g)]
    return rules[max(globs, key=len)] if globs else None


def api_operations() -> list[tuple[str, str, str, list[dict[str, Any]]]]:
    """(operation id, method, path, parameters) of every operation in the OpenAPI document."""
    from pollwatch.api import api

    schema = api.get_openapi_schema()
    return [
        (operation["operationId"], method.upper(), path, operation.get("parameters", []))
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_url_pattern_has_a_rule() -> None:
    missing = sorted(e.key for e in url_endpoints() if rule_for(e.key, URL_RULES) is None)
    assert not missing, f"URL patterns without an authorisation rule: {missing}"


def test_every_api_operation_has_a_rule() -> None:
    missing = sorted(op for op, *_rest in api_operations() if op not in API_RULES)
    assert not missing, f"API operations without an authorisation rule: {missing}"


def test_no_rule_is_left_for_an_endpoint_that_is_gone() -> None:
    keys = {e.key for e in url_endpoints()}
    stale = sorted(k for k in URL_RULES if "*" not in k and k not in keys)
    stale += sorted(k for k in API_RULES if k not in {op for op, *_r in api_operations()})
    assert not stale, f"rules for endpoints that no longer exist: {stale}"


# --- the checks -------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    referendum: Referendum
    samples: dict[str, str]
    users: dict[str, User | None]
    observer_token: str


@pytest.fixture
def world(referendum: Referendum) -> World:
    small = referendum.small
    administrator = referendum.administrator
    administrator.is_staff = administrator.is_superuser = True
    administrator.save()
    clerk = referendum.data_clerk
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="registry",
            content_type__model__in=["commission", "pollingstation"],
        )
    )
    copy = submit(referendum).copy  # also logged, and checked into findings
    issued = issue_device_token(referendum.observer_user, "phone")
    other_token = issue_device_token(referendum.other_observer_user, "phone")  # not the observer's
    finding = Finding.objects.filter(election=small.election).first()
    samples = {
        "slug": small.election.slug,
        "election": small.election.slug,
        "commission_id": str(small.kokshetau.pk),
        "station_id": str(small.station_101.pk),
        "copy_id": str(copy.pk),
        "finding_id": str(finding.pk if finding else 1),
        "token_id": str(other_token.device.pk),
        "entry": "0",
        "path": "0/000",
        "object_id": "1",
        "id": "1",
        "pk": "1",
        "sha256": "0" * 64,
        "key_id": "999999",
        "app_label": "registry",
        "url": "nowhere/",
        "content_type_id": "1",
        "observer_id": str(referendum.observer.pk),
        "assignment_id": str(referendum.other_observer.assignments.get().pk),
        "accreditation_id": str(referendum.observer.accreditations.get().pk),
        "report_id": "1",
        "figure": "fingerprint",
        "token": "pwl_" + "0" * 43,
    }
    users: dict[str, User | None] = {
        "anonymous": None,
        "observer": referendum.observer_user,
        "coordinator": referendum.coordinator,
        "analyst": referendum.analyst,
        "data_clerk": clerk,
        "administrator": administrator,
    }
    return World(referendum, samples, users, issued.token)


def _client(world: World, role: str) -> Client:
    client = Client()
    user = world.users[role]
    if user is not None:
        login_verified(client, user)
    return client


def _outcome(response: Any) -> Outcome:
    # The admin's login page only sends on to the site's (admin_login_redirect).
    if response.status_code == 302 and response["Location"].startswith(
        ("/login/", "/admin/login/")
    ):
        return LOGIN
    return int(response.status_code)


def _url(endpoint: Endpoint, samples: Mapping[str, str]) -> str | None:
    missing = [p for p in endpoint.parameters if p not in samples]
    assert not missing, f"{endpoint.route}: no sample for {missing}; add one to `world`"
    if endpoint.name is None:
        return None
    return reverse(endpoint.name, kwargs={p: samples[p] for p in endpoint.parameters})


def _admin_outcome(endpoint: Endpoint, role: str, user: User | None) -> Outcome | None:
    """The admin, inside: model permissions decide; checked on the changelists."""
    if role not in ("data_clerk", "administrator") or endpoint.name is None:
        return None
    match = re.fullmatch(r"admin:(\w+)_(\w+)_changelist", endpoint.name)
    if match is None:
        return None if endpoint.name not in ("admin:index",) else 200
    assert user is not None
    return (
        200
        if user.has_perm(f"{match[1]}.view_{match[2]}")
        or user.has_perm(f"{match[1]}.change_{match[2]}")
        else 403
    )


def _requests(world: World) -> Iterator[tuple[str, str, str, str, Outcome]]:
    for endpoint in url_endpoints():
        rules = rule_for(endpoint.key, URL_RULES)
        if rules is None:
            continue  # test_every_url_pattern_has_a_rule names it
        url = _url(endpoint, world.samples)
        if url is None:
            continue  # unnamed admin internals: covered by the admin's own checks
        for method, by_role in rules.items():
            for role in ROLES:
                expected = by_role[role]
                if endpoint.key.startswith("admin:") and role in ("data_clerk", "administrator"):
                    inside = _admin_outcome(endpoint, role, world.users[role])
                    if inside is None:
                        continue
                    expected = inside
                yield endpoint.key, method, url, role, expected


def test_every_page_answers_each_role_as_its_rule_says(world: World) -> None:
    wrong = []
    for key, method, url, role, expected in _requests(world):
        client = _client(world, role)
        response = client.get(url) if method == "GET" else client.post(url, {})
        if _outcome(response) != expected:
            wrong.append(
                f"{method} {url} ({key}) as {role}: {_outcome(response)}, rule says {expected}"
            )
    assert not wrong, "\n".join(wrong)


def _api_url(path: str, parameters: list[dict[str, Any]], samples: Mapping[str, str]) -> str:
    for name in re.findall(r"{(\w+)}", path):
        assert name in samples, f"{path}: no sample value for {name}"
        path = path.replace(f"{{{name}}}", samples[name])
    query = [
        f"{p['name']}={samples[p['name']]}"
        for p in parameters
        if p.get("in") == "query" and p.get("required") and p["name"] in samples
    ]
    return path + ("?" + "&".join(query) if query else "")


def test_every_api_operation_answers_each_role_as_its_rule_says(world: World) -> None:
    wrong = []
    for operation_id, method, path, parameters in api_operations():
        url = _api_url(path, parameters, world.samples)
        for rule_method, by_role in API_RULES.get(operation_id, {}).items():
            if rule_method != method:
                continue
            for role in ROLES:
                if role == "observer":
                    client = Client(headers={"Authorization": f"Bearer {world.observer_token}"})
                else:
                    client = _client(world, role)
                response = client.generic(method, url, b"{}", content_type="application/json")
                if _outcome(response) != by_role[role]:
                    wrong.append(
                        f"{method} {url} ({operation_id}) as {role}: {_outcome(response)}, "
                        f"rule says {by_role[role]}"
                    )
    assert not wrong, "\n".join(wrong)


def test_an_unverified_staff_session_reaches_no_staff_page(world: World) -> None:
    """The matrix runs staff with a verified second factor; without it, every page that is
    not open to the public sends them to the second factor."""
    client = Client()
    client.force_login(world.referendum.analyst)  # password only
    response = client.get(reverse("findings_queue", kwargs={"slug": world.samples["slug"]}))
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/")
