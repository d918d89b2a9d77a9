"""Pages for coordinators (their observers, accreditation requests, assignments, imports),
administrators (accrediting and revoking) and the coverage dashboard.

Views parse and authorise, then call a service (`lifecycle`, `assignments`, `imports`) or read
(`coverage`). Every page needs a login; a role that may not use it gets 403 and changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pollwatch.accounts.observer_signins import (
    Invitation,
    SigninError,
    chosen_observers,
    create_signins,
    reissue_signin,
)
from pollwatch.accounts.roles import Role, roles_of
from pollwatch.accreditation import coverage as coverage_data
from pollwatch.accreditation.assignments import AssignmentError, add_assignment, remove_assignment
from pollwatch.accreditation.forms import AccreditForm, AssignmentForm, ImportForm
from pollwatch.accreditation.imports import (
    ImportReport,
    import_assignments,
    import_observers,
    import_organisations,
)
from pollwatch.accreditation.lifecycle import (
    AccreditationError,
    accredit,
    request_accreditation,
    revoke,
)
from pollwatch.accreditation.models import (
    Accreditation,
    AccreditationStatus,
    Assignment,
    Observer,
    Organisation,
)
from pollwatch.accreditation.permissions import (
    coordinated_organisation,
    is_administrator,
    may_manage,
)
from pollwatch.core.tabular import InputError
from pollwatch.registry.models import Election

OBSERVERS_PER_PAGE = 50
ACCREDITATIONS_PER_PAGE = 50
# The page lists this many missing stations; the CSV export has them all.
MISSING_ON_PAGE = 200

View = Callable[..., HttpResponseBase]


def _roles_required(*roles: Role) -> Callable[[View], View]:
    """Logged in (else the login page) and holding one of `roles` (else 403)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not (roles_of(request.user) & set(roles) or is_administrator(request.user)):
                raise PermissionDenied(_("Your role does not give access to this page."))
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorate


managers_only = _roles_required(Role.COORDINATOR, Role.ADMINISTRATOR)
administrators_only = _roles_required(Role.ADMINISTRATOR)
coverage_readers = _roles_required(Role.COORDINATOR, Role.ANALYST, Role.ADMINISTRATOR)


def _user(request: HttpRequest) -> AbstractBaseUser:
    user = request.user
    assert isinstance(user, AbstractBaseUser)  # the decorators let only signed-in users in
    return user


def _managed_organisation(request: HttpRequest) -> Organisation | None:
    """None for an administrator (every organisation); else the coordinator's own one.

    A coordinator without an organisation manages nothing: 403.
    """
    if is_administrator(request.user):
        return None
    own = coordinated_organisation(request.user)
    if own is None:
        raise PermissionDenied(_("Your account belongs to no organisation."))
    return own


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Redirect to the form's `next` if it is a page of this site, else to `default`."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return HttpResponseRedirect(target if target and safe else default)


def _current_election(slug: str | None) -> Election | None:
    elections = Election.objects.all()
    if slug:
        return elections.filter(slug=slug).first()
    return elections.first()  # ordered newest first


# Coordinators: observers ---------------------------------------------------------------------


@managers_only
@require_GET
def observer_list(request: HttpRequest) -> HttpResponse:
    own = _managed_organisation(request)
    observers = Observer.objects.select_related("organisation", "user").order_by(
        "organisation__name", "full_name", "code"
    )
    organisation_code = request.GET.get("organisation", "").strip()
    if own is not None:
        observers = observers.filter(organisation=own)
    elif organisation_code:
        observers = observers.filter(organisation__code=organisation_code)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        observers = observers.filter(
            Q(full_name__icontains=query) | Q(code__icontains=query) | Q(contact__icontains=query)
        )
    election = _current_election(request.GET.get("election"))
    page = Paginator(observers, OBSERVERS_PER_PAGE).get_page(request.GET.get("page"))
    statuses: dict[int, Accreditation] = {}
    if election is not None:
        statuses = {
            a.observer_id: a
            for a in Accreditation.objects.filter(
                election=election, observer__in=[o.pk for o in page.object_list]
            )
        }
    rows = [(observer, statuses.get(observer.pk)) for observer in page.object_list]
    context = {
        "own": own,
        "organisations": Organisation.objects.all() if own is None else [],
        "organisation_code": organisation_code,
        "query": query,
        "election": election,
        "elections": Election.objects.all(),
        "page": page,
        "rows": rows,
        "without_account": any(observer.user_id is None for observer in page.object_list),
    }
    return render(request, "accreditation/observer_list.html", context)


def _observer_for(request: HttpRequest, observer_id: int) -> Observer:
    """The observer, if the user may manage their organisation; else 404 or 403."""
    observer = get_object_or_404(Observer.objects.select_related("organisation"), pk=observer_id)
    if not may_manage(request.user, observer.organisation_id):
        raise PermissionDenied(_("This observer belongs to another organisation."))
    return observer


def _observer_page(
    request: HttpRequest, observer: Observer, form: AssignmentForm | None = None, status: int = 200
) -> HttpResponse:
    accreditations = observer.accreditations.select_related("election").order_by("-election__date")
    assignments = observer.assignments.select_related("station__election").order_by(
        "-station__election__date", "starts_at"
    )
    context = {
        "observer": observer,
        "accreditations": accreditations,
        "assignments": assignments,
        "elections": Election.objects.all(),
        "requestable": _requestable_elections(observer),
        "form": form or AssignmentForm(initial={"election": Election.objects.first()}),
    }
    return render(request, "accreditation/observer_detail.html", context, status=status)


def _requestable_elections(observer: Observer) -> QuerySet[Election]:
    """Elections for which the observer has no accreditation or a revoked one."""
    held = Accreditation.objects.filter(observer=observer).exclude(
        status=AccreditationStatus.REVOKED
    )
    return Election.objects.exclude(pk__in=held.values("election_id"))


@managers_only
@require_GET
def observer_detail(request: HttpRequest, observer_id: int) -> HttpResponse:
    return _observer_page(request, _observer_for(request, observer_id))


@managers_only
@require_POST
def accreditation_request(request: HttpRequest, observer_id: int) -> HttpResponse:
    observer = _observer_for(request, observer_id)
    election = get_object_or_404(Election, slug=request.POST.get("election", ""))
    try:
        request_accreditation(_user(request), observer, election)
    except AccreditationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Accreditation of %(observer)s for %(election)s requested.")
            % {"observer": observer.full_name, "election": election.name},
        )
    return _back(request, reverse("observer_detail", args=[observer.pk]))


@managers_only
@require_POST
def assignment_add(request: HttpRequest, observer_id: int) -> HttpResponse:
    observer = _observer_for(request, observer_id)
    form = AssignmentForm(request.POST)
    if not form.is_valid():
        return _observer_page(request, observer, form, status=400)
    data = form.cleaned_data
    try:
        add_assignment(
            _user(request), observer, data["station"], data["starts_at"], data["ends_at"]
        )
    except AssignmentError as error:
        form.add_error(None, str(error))
        return _observer_page(request, observer, form, status=400)
    messages.success(
        request,
        _("%(observer)s assigned to polling station %(number)s.")
        % {"observer": observer.full_name, "number": data["station"].number},
    )
    return HttpResponseRedirect(reverse("observer_detail", args=[observer.pk]))


@managers_only
@require_POST
def assignment_remove(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = get_object_or_404(
        Assignment.objects.select_related("observer__organisation", "station"), pk=assignment_id
    )
    observer = _observer_for(request, assignment.observer_id)
    remove_assignment(_user(request), assignment)
    messages.success(
        request,
        _("Assignment to polling station %(number)s removed.")
        % {"number": assignment.station.number},
    )
    return HttpResponseRedirect(reverse("observer_detail", args=[observer.pk]))


# Coordinators: observers' sign-ins ----------------------------------------------------------


@managers_only
@require_POST
def signins_create(request: HttpRequest) -> HttpResponse:
    """Accounts and sign-in links for the observers ticked on the list (none may have one)."""
    _managed_organisation(request)  # a coordinator without an organisation: 403
    try:
        observers = chosen_observers(request.POST.getlist("observer"))
        invitations = create_signins(_user(request), observers)
    except SigninError as error:
        messages.error(request, str(error))
        return _back(request, reverse("observer_list"))
    return _signins_page(request, invitations)


@managers_only
@require_POST
def signin_reissue(request: HttpRequest, observer_id: int) -> HttpResponse:
    """A new sign-in link for an observer with an account; their earlier links stop."""
    observer = _observer_for(request, observer_id)
    try:
        invitation = reissue_signin(_user(request), observer)
    except SigninError as error:
        messages.error(request, str(error))
        return _back(request, reverse("observer_list"))
    return _signins_page(request, [invitation])


def _signins_page(request: HttpRequest, invitations: list[Invitation]) -> HttpResponse:
    """The links, shown this once, with the same list as a CSV file in the page itself (a
    second request could not show them again: only their hashes are kept)."""
    rows = [
        (
            invitation,
            request.build_absolute_uri(reverse("signin_activate", args=[invitation.token])),
        )
        for invitation in invitations
    ]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        ["username", "organisation", "code", "full_name", "contact", "link", "expires_at"]
    )
    for invitation, link in rows:
        observer = invitation.observer
        cells = [invitation.username, observer.organisation.code, observer.code]
        cells += [observer.full_name, observer.contact, link]
        writer.writerow([_cell(cell) for cell in cells] + [invitation.expires_at.isoformat()])
    context = {
        "rows": rows,
        "csv_url": "data:text/csv;charset=utf-8," + quote(text.getvalue(), safe=""),
    }
    response = render(request, "accreditation/signins.html", context)
    response["Cache-Control"] = "no-store"  # the page holds links shown once
    return response


# Coordinators and administrators: imports ----------------------------------------------------


@managers_only
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    may_import_organisations = is_administrator(request.user)
    _managed_organisation(request)  # a coordinator without an organisation: 403
    if request.method != "POST":
        form = ImportForm(may_import_organisations=may_import_organisations)
        return render(request, "accreditation/import.html", {"form": form})
    form = ImportForm(
        request.POST, request.FILES, may_import_organisations=may_import_organisations
    )
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "accreditation/import.html", context, status=400)
    try:
        context["report"] = _run_import(request, form.cleaned_data)
    except InputError as error:
        context["problems"] = str(error)
        return render(request, "accreditation/import.html", context, status=400)
    context["kind"] = form.cleaned_data["kind"]
    return render(request, "accreditation/import.html", context)


def _run_import(request: HttpRequest, data: dict[str, Any]) -> ImportReport:
    upload = data["file"]
    name = Path(upload.name).name
    with tempfile.TemporaryDirectory(prefix="pollwatch-import-") as directory:
        # Saved under its own name, so that errors name the file the user chose.
        path = Path(directory) / name
        with path.open("wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
        actor = _user(request)
        try:
            if data["kind"] == "organisations":
                return import_organisations(actor, path)
            if data["kind"] == "observers":
                return import_observers(actor, path, election=data["election"])
            return import_assignments(actor, path, election=data["election"])
        except InputError as error:
            raise InputError(str(error).replace(directory + "/", "")) from None


# Administrators: accrediting -----------------------------------------------------------------


@administrators_only
@require_GET
def accreditation_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", AccreditationStatus.PENDING)
    if status not in AccreditationStatus.values:
        status = AccreditationStatus.PENDING
    accreditations = (
        Accreditation.objects.filter(status=status)
        .select_related("observer__organisation", "election", "requested_by")
        .order_by("requested_at", "pk")
    )
    election = (
        _current_election(request.GET.get("election")) if request.GET.get("election") else None
    )
    if election is not None:
        accreditations = accreditations.filter(election=election)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        accreditations = accreditations.filter(
            Q(observer__full_name__icontains=query)
            | Q(observer__code__icontains=query)
            | Q(number__icontains=query)
            | Q(observer__organisation__name__icontains=query)
        )
    page = Paginator(accreditations, ACCREDITATIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": AccreditationStatus.choices,
        "election": election,
        "elections": Election.objects.all(),
        "query": query,
    }
    return render(request, "accreditation/queue.html", context)


def _decision_response(request: HttpRequest, accreditation: Accreditation) -> HttpResponse:
    """htmx swaps the row in place; without JavaScript, back to the queue."""
    if request.headers.get("HX-Request"):
        accreditation.refresh_from_db()
        context = {"accreditation": accreditation, "next": request.POST.get("next", "")}
        return render(request, "accreditation/partials/queue_row.html", context)
    return _back(request, reverse("accreditation_queue"))


@administrators_only
@require_POST
def accreditation_accredit(request: HttpRequest, accreditation_id: int) -> HttpResponse:
    accreditation = get_object_or_404(
        Accreditation.objects.select_related("observer", "election"), pk=accreditation_id
    )
    form = AccreditForm(request.POST)
    try:
        if not form.is_valid():
            raise AccreditationError(_("An accreditation number is required."))
        accredit(_user(request), accreditation, form.cleaned_data["number"])
    except AccreditationError as error:
        messages.error(request, str(error))
        if request.headers.get("HX-Request"):
            context = {"accreditation": accreditation, "error": str(error)}
            return render(request, "accreditation/partials/queue_row.html", context, status=400)
    else:
        messages.success(
            request,
            _("%(observer)s accredited with number %(number)s.")
            % {"observer": accreditation.observer.full_name, "number": accreditation.number},
        )
    return _decision_response(request, accreditation)


@administrators_only
@require_POST
def accreditation_revoke(request: HttpRequest, accreditation_id: int) -> HttpResponse:
    accreditation = get_object_or_404(
        Accreditation.objects.select_related("observer", "election"), pk=accreditation_id
    )
    try:
        revoke(_user(request), accreditation, request.POST.get("reason", ""))
    except AccreditationError as error:
        messages.error(request, str(error))
        if request.headers.get("HX-Request"):
            context = {"accreditation": accreditation, "error": str(error)}
            return render(request, "accreditation/partials/queue_row.html", context, status=400)
    else:
        messages.success(
            request,
            _("Accreditation of %(observer)s revoked.")
            % {"observer": accreditation.observer.full_name},
        )
    return _decision_response(request, accreditation)


# Coverage ------------------------------------------------------------------------------------


def _coverage_scope(request: HttpRequest, slug: str) -> tuple[coverage_data.Scope, dict[str, Any]]:
    """The scope the filters ask for, within what the user may see: a coordinator only their
    organisation; analysts and administrators all, or the organisation chosen."""
    election = get_object_or_404(Election, slug=slug)
    mission = is_administrator(request.user) or Role.ANALYST in roles_of(request.user)
    own = None if mission else coordinated_organisation(request.user)
    if not mission and own is None:
        raise PermissionDenied(_("Your account belongs to no organisation."))
    organisation: Organisation | None = own
    if mission and request.GET.get("organisation"):
        organisation = Organisation.objects.filter(code=request.GET["organisation"]).first()
    region_id = _int(request.GET.get("region"))
    scope = coverage_data.Scope(
        election=election,
        organisation_ids=[organisation.pk] if organisation is not None else None,
        region_id=region_id,
    )
    context = {
        "election": election,
        "organisation": organisation,
        "own": own,
        "organisations": Organisation.objects.all() if mission else [],
        "region_id": region_id,
        # Names and phone numbers of observers only to who manages them.
        "show_contacts": organisation is not None and may_manage(request.user, organisation.pk),
    }
    return scope, context


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@coverage_readers
@require_GET
def coverage(request: HttpRequest, slug: str) -> HttpResponse:
    scope, context = _coverage_scope(request, slug)
    states = coverage_data.station_states(scope)
    rows = coverage_data.coverage(scope, states)
    missing: list[coverage_data.MissingStation] = []
    more = False
    for station in coverage_data.missing_stations(scope, states):
        if len(missing) == MISSING_ON_PAGE:
            more = True
            break
        missing.append(station)
    context.update(
        {
            "regions": states.regions,
            "rows": rows,
            "totals": {
                "stations": sum(r.stations for r in rows),
                "assigned": sum(r.assigned for r in rows),
                "unassigned": sum(r.unassigned for r in rows),
                "reported": sum(r.reported for r in rows),
                "missing": sum(r.missing for r in rows),
            },
            "missing": missing,
            "more_missing": more,
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "accreditation/coverage.html", context)


# A cell a spreadsheet would run as a formula; a phone number (+7 701 …) is left as it is.
_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d\s()-]*$)")


def _cell(value: str) -> str:
    """Names and contacts come from imported files: never let Excel evaluate one."""
    return "'" + value if _FORMULA.match(value) else value


class _Echo:
    """A file-like sink for csv.writer that hands each line back."""

    def write(self, value: str) -> str:
        return value


@coverage_readers
@require_GET
def coverage_missing_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    scope, context = _coverage_scope(request, slug)
    show_contacts = context["show_contacts"]
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        header = ["region", "commission", "station_code", "station_number", "organisation"]
        header += ["observer", "full_name", "contact"] if show_contacts else ["observer"]
        header += ["starts_at", "ends_at"]
        yield writer.writerow(header)
        for station in coverage_data.missing_stations(scope):
            for observer in station.observers:
                row = [station.region, station.commission, station.code, station.number]
                row += [observer.organisation, observer.code]
                if show_contacts:
                    row += [observer.full_name, observer.contact]
                row += [observer.starts_at.isoformat(), observer.ends_at.isoformat()]
                yield writer.writerow([_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = f"missing-{scope.election.slug}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
