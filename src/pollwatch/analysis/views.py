"""The forensics and PVT pages of an election.

Both are public: the mission publishes its statistics. Forensics reports are computed in the
background once per data state (``forensics_reports``); the page shows the latest and polls
(htmx) while a newer one is computed. Only analysts and administrators draw a PVT sample;
the list of sample stations is shown to them and to coordinators, who send observers there —
published before the count, it would tell a commission which stations are watched.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_POST

from pollwatch.accounts.roles import Role, roles_of
from pollwatch.analysis import forensics_reports
from pollwatch.analysis.forensics_page import page_context
from pollwatch.analysis.forms import PvtDesignForm, PvtDrawForm, design_values
from pollwatch.analysis.models import FiguresSource, ForensicsFigure, ForensicsReport, PvtPlan
from pollwatch.analysis.pvt_plan import (
    PlanError,
    design,
    draw_plan,
    frame_summary,
    write_plan_csv,
)
from pollwatch.analysis.pvt_progress import plan_progress
from pollwatch.registry.models import Election

Status = ForensicsReport.Status
DRAWING_ROLES = frozenset({Role.ANALYST, Role.ADMINISTRATOR})
SAMPLE_VIEWING_ROLES = DRAWING_ROLES | {Role.COORDINATOR}


def may_draw(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(roles_of(user) & DRAWING_ROLES)


def may_see_sample(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(roles_of(user) & SAMPLE_VIEWING_ROLES)


def _election(slug: str) -> Election:
    return get_object_or_404(Election.objects.select_related("template"), slug=slug)


@require_GET
def forensics(request: HttpRequest, slug: str) -> HttpResponse:
    election = _election(slug)
    source = request.GET.get("source", FiguresSource.OFFICIAL)
    context: dict[str, Any] = {
        "election": election,
        "source": source,
        "sources": FiguresSource.choices,
    }
    if source not in FiguresSource.values:
        context["bad_source"] = True
        return render(request, "analysis/forensics.html", context, status=400)
    if source == FiguresSource.OFFICIAL and not forensics_reports.has_official_results(election):
        context["no_official_results"] = True
        return render(request, "analysis/forensics.html", context)
    asked = forensics_reports.request_report(election, source)
    shown = asked.shown
    context |= {
        "report": shown,
        "computing": asked.computing,
        "outdated": shown is not None and not asked.current,
        "next_refresh": asked.next_refresh,
    }
    if shown is not None and shown.status == Status.READY and shown.results is not None:
        context["results"] = page_context(shown.results)
        names = set(shown.figures.values_list("name", flat=True))
        context["figures"] = {
            name.replace("-", "_"): reverse("forensics_figure_svg", args=[slug, shown.pk, name])
            for name in forensics_reports.FIGURES
            if name in names
        }
    return render(request, "analysis/forensics.html", context)


def _figure(slug: str, report_id: int, figure: str, field: str, content_type: str) -> HttpResponse:
    row = (
        ForensicsFigure.objects.filter(
            report_id=report_id, report__election__slug=slug, name=figure
        )
        .values_list(field, flat=True)
        .first()
    )
    if row is None:
        raise Http404("no such figure")
    response = HttpResponse(bytes(row), content_type=content_type)
    # A report's figures never change: a new data state makes a new report with new URLs.
    patch_cache_control(response, public=True, max_age=7 * 24 * 3600, immutable=True)
    return response


@require_GET
def forensics_figure_svg(
    request: HttpRequest, slug: str, report_id: int, figure: str
) -> HttpResponse:
    return _figure(slug, report_id, figure, "svg", "image/svg+xml")


@require_GET
def forensics_figure_png(
    request: HttpRequest, slug: str, report_id: int, figure: str
) -> HttpResponse:
    return _figure(slug, report_id, figure, "png", "image/png")


def _pvt_page(
    request: HttpRequest,
    election: Election,
    draw_form: PvtDrawForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    plan = PvtPlan.objects.filter(election=election).select_related("election__template").first()
    context: dict[str, Any] = {
        "election": election,
        "plan": plan,
        "may_draw": may_draw(request.user),
        "error": error,
    }
    if plan is None:
        data = request.GET if "margin" in request.GET else None
        form = PvtDesignForm(data, auto_id="design-%s")
        context["design_form"] = form
        if data is None or form.is_valid():
            values = design_values(form) if data is not None else _initial_design()
            try:
                context["design"] = design(frame_summary(election), **values)
            except PlanError as problem:
                context["design_error"] = str(problem)
                status = 400 if data is not None else status
        else:
            status = 400
        if context["may_draw"]:
            chosen = form.cleaned_data if form.is_bound and form.is_valid() else {}
            size = context["design"].suggested_size if "design" in context else None
            # A fresh seed to start from; whatever is drawn, the plan records it.
            initial = {**chosen, "size": size, "seed": secrets.randbelow(1_000_000)}
            context["draw_form"] = draw_form or PvtDrawForm(initial=initial, auto_id="draw-%s")
    else:
        context["progress"] = plan_progress(plan)
        if may_see_sample(request.user):
            context["sample"] = plan.stations.select_related("station", "stratum").order_by(
                "stratum__position", "station__code"
            )
    return render(request, "analysis/pvt.html", context, status=status)


def _initial_design() -> dict[str, Any]:
    fields = PvtDesignForm.base_fields
    return {
        "margin": float(fields["margin"].initial) / 100,
        "confidence": fields["confidence"].initial,
        "share": float(fields["share"].initial) / 100,
    }


@require_GET
def pvt_sample_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The sample as `pollwatch pvt draw` writes it: `pvt estimate --sample` reads it back."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not may_see_sample(request.user):
        raise PermissionDenied
    plan = get_object_or_404(PvtPlan, election__slug=slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-pvt-sample.csv"'
    write_plan_csv(plan, response)
    return response


@require_GET
def pvt(request: HttpRequest, slug: str) -> HttpResponse:
    return _pvt_page(request, _election(slug))


@require_POST
def pvt_draw(request: HttpRequest, slug: str) -> HttpResponse:
    if not request.user.is_authenticated or not may_draw(request.user):
        raise PermissionDenied
    election = _election(slug)
    form = PvtDrawForm(request.POST, auto_id="draw-%s")
    if not form.is_valid():
        return _pvt_page(request, election, draw_form=form, status=400)
    try:
        draw_plan(
            election,
            request.user,
            **design_values(form),
            seed=form.cleaned_data["seed"],
            size=form.cleaned_data["size"],
        )
    except PlanError as error:
        return _pvt_page(request, election, draw_form=form, error=str(error), status=400)
    return HttpResponseRedirect(reverse("pvt", args=[slug]), status=303)
