"""A URL conf with one API operation behind `api_auth`, to test the authentication alone
(no real endpoint's own rules in the way). Used with @pytest.mark.urls."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI

from pollwatch.accounts.api_auth import api_auth
from pollwatch.accounts.models import AuditEntry

probe = NinjaAPI(title="probe", version="probe", urls_namespace="accounts-probe")


@probe.get("/whoami", auth=api_auth)
def whoami(request: HttpRequest) -> dict[str, str]:
    return {"username": request.auth.get_username()}  # type: ignore[attr-defined]


@probe.post("/touch", auth=api_auth)
def touch(request: HttpRequest) -> dict[str, int]:
    """An unsafe method: session callers need the CSRF token. It writes, so a refusal that
    let the write through would show."""
    from django.contrib.auth.models import Group

    from pollwatch.accounts.audit import record_action

    group = Group.objects.create(name=f"touched-{Group.objects.count()}")
    record_action(request.auth, "probe.touch", group, None, None)  # type: ignore[arg-type]
    return {"entries": AuditEntry.objects.count()}


@probe.get("/open")
def open_endpoint(request: HttpRequest) -> dict[str, bool]:
    return {"ok": True}


urlpatterns = [path("api/probe/", probe.urls)]
