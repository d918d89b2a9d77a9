"""The findings queue, a finding with its history, and the status change.

Who sees what is decided in ``selectors`` (the mission sees every finding, a coordinator those
at their organisation's stations); only analysts and administrators change a status, and only
through ``lifecycle.change_finding_status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from pollwatch.findings import selectors
from pollwatch.findings.forms import QueueFilterForm, StatusChangeForm
from pollwatch.findings.lifecycle import LifecycleError, change_finding_status, may_decide
from pollwatch.findings.models import Finding, FindingKind, FindingStatus, Severity
from pollwatch.registry.models import Election

Kind = FindingKind

# What the two values of a finding are, by kind (see core.crosscheck.findings.Findings).
_SIDES: dict[str, tuple[Promise, Promise]] = {
    Kind.COPIES_DISAGREE: (_("Highest copy"), _("Lowest copy")),
    Kind.COPY_DIFFERS_FROM_OFFICIAL: (_("Copy"), _("Official")),
    Kind.CONSENSUS_DIFFERS_FROM_OFFICIAL: (_("Observers' consensus"), _("Official")),
    Kind.TOTAL_DIFFERS_FROM_CHILDREN: (_("Published total"), _("Sum below")),
}
_GENERIC_SIDES = (_("Left side"), _("Right side"))
# Nothing is compared: the values are zero by definition and not worth a column.
_NO_SIDES = frozenset({Kind.MISSING_OFFICIAL_RESULT, Kind.MISSING_COPY})


@dataclass(frozen=True)
class FindingRow:
    """A finding as the pages show it: its lines by label, and what its two values are."""

    finding: Finding
    lines: list[str]
    sides: tuple[Promise, Promise] | None
    # By plain lookups: get_FOO_display() rebuilds a dict of the choices on every call.
    kind: str
    severity: str
    status: str


def _rows(election: Election, findings: list[Finding]) -> list[FindingRow]:
    labels = _line_labels(election)
    kinds = {value: str(label) for value, label in FindingKind.choices}
    severities = {value: str(label) for value, label in Severity.choices}
    statuses = {value: str(label) for value, label in FindingStatus.choices}
    return [
        FindingRow(
            finding=finding,
            lines=[labels.get(key, key) for key in finding.lines],
            sides=None if finding.kind in _NO_SIDES else _SIDES.get(finding.kind, _GENERIC_SIDES),
            kind=kinds.get(finding.kind, finding.kind),
            severity=severities.get(finding.severity, finding.severity),
            status=statuses.get(finding.status, finding.status),
        )
        for finding in findings
    ]


def _line_labels(election: Election) -> dict[str, str]:
    """Line key → "number. label" in the current language, from the election's template."""
    language = (get_language() or "en").split("-")[0]
    labels = {}
    for line in election.template.lines:
        texts = line.get("label") or {}
        text = texts.get(language) or texts.get("en") or line["key"]
        labels[line["key"]] = f"{line['number']}. {text}" if line.get("number") else text
    return labels


def _authorise_viewer(request: HttpRequest) -> HttpResponse | None:
    """A redirect to log in for the anonymous; refuse those who see no findings."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not selectors.may_see_queue(request.user):
        raise PermissionDenied
    return None


@require_GET
def queue(request: HttpRequest, slug: str) -> HttpResponse:
    """The election's findings, largest difference first; htmx swaps in the results only."""
    refusal = _authorise_viewer(request)
    if refusal is not None:
        return refusal
    election = get_object_or_404(Election.objects.select_related("template"), slug=slug)
    form = QueueFilterForm(request.GET, regions=selectors.regions(election))
    context: dict[str, Any] = {"election": election, "form": form}
    status = 200
    if form.is_valid():
        after = form.cleaned_data["after"]
        visible = selectors.findings_visible_to(request.user, election)
        page = selectors.queue_page(visible, form.filters(), after, election=election)
        context |= {
            "rows": _rows(election, page.findings),
            "first_page_query": form.query() if after else None,
            "next_page_query": form.query(page.next_cursor) if page.next_cursor else None,
        }
    else:
        status = 400
    partial = request.headers.get("HX-Request") and not request.headers.get(
        "HX-History-Restore-Request"
    )
    template = "findings/partials/queue_results.html" if partial else "findings/queue.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _visible_finding(request: HttpRequest, slug: str, finding_id: int) -> Finding:
    election = get_object_or_404(Election, slug=slug)
    visible = selectors.findings_visible_to(request.user, election)
    finding = selectors.finding_with_place(visible, finding_id)
    if finding is None:
        raise Http404("no such finding in this election")
    return finding


def _detail(
    request: HttpRequest, finding: Finding, form: StatusChangeForm | None, status: int = 200
) -> HttpResponse:
    election = finding.election
    if form is None and may_decide(request.user):  # type: ignore[arg-type]
        form = StatusChangeForm(finding=finding, user=request.user)  # type: ignore[arg-type]
    context = {
        "election": election,
        "row": _rows(election, [finding])[0],
        "finding": finding,
        "decisions": selectors.decisions_of(finding),
        "form": form,
    }
    return render(request, "findings/finding.html", context, status=status)


@require_GET
def finding_detail(request: HttpRequest, slug: str, finding_id: int) -> HttpResponse:
    refusal = _authorise_viewer(request)
    if refusal is not None:
        return refusal
    return _detail(request, _visible_finding(request, slug, finding_id), None)


@require_POST
def change_status(request: HttpRequest, slug: str, finding_id: int) -> HttpResponse:
    """Move a finding to a new status with a reason; a refusal re-shows the form, unchanged."""
    user = request.user
    if not user.is_authenticated or not may_decide(user):
        raise PermissionDenied
    finding = _visible_finding(request, slug, finding_id)
    form = StatusChangeForm(request.POST, finding=finding, user=user)
    if form.is_valid():
        try:
            change_finding_status(
                user,
                finding,
                form.cleaned_data["status"],
                form.cleaned_data["reason"],
            )
        except LifecycleError as error:
            # Someone else moved it between the page and this request.
            form.add_error(None, str(error))
        else:
            url = reverse("finding", args=[slug, finding.pk])
            return HttpResponseRedirect(f"{url}#history", status=303)
        finding.refresh_from_db(fields=["status"])
    return _detail(request, finding, form, status=400)
