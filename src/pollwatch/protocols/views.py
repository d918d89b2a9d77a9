"""Pages for protocol copies: the observer's form with live feedback, a stored copy, and the
station comparison (every source side by side).

Views parse and authorise, then call the submission service (``submission.submit_copy``,
``photos.store_photo``) or read (``comparison.compare_station``). Who may see a copy raw is
``accreditation.sharing``'s decision alone; who may submit is ``accreditation.eligibility``'s.
Photos are shown through the API's download (EXIF only for those who may see it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pollwatch.accreditation.eligibility import submission_refusal
from pollwatch.accreditation.models import Assignment, Observer
from pollwatch.accreditation.sharing import visible_copies
from pollwatch.core.protocol import ProtocolTemplateSpec
from pollwatch.core.relation_feedback import RelationState, relation_feedback
from pollwatch.protocols.comparison import compare_station
from pollwatch.protocols.forms import DeviceKeyForm, ProtocolCopyForm, partial_figures
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.protocols.photos import store_photo
from pollwatch.protocols.receipts import copy_receipt, receipt_state
from pollwatch.protocols.signatures import (
    key_base64,
    observer_keys,
    register_device_key,
    revoke_device_key,
)
from pollwatch.protocols.submission import (
    CopyInput,
    SubmissionRefused,
    submit_copy,
    template_spec,
)
from pollwatch.registry import selectors
from pollwatch.registry.models import PollingStation

# With more assignments than this, the station list offers a search by number.
SEARCH_FROM = 8
# A station number is short (the model allows 50 characters).
MAX_NUMBER_LENGTH = 50

User = AbstractBaseUser | AnonymousUser


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def _observer_of(user: User) -> Observer | None:
    if not user.is_authenticated:
        return None
    return Observer.objects.filter(user_id=user.pk).select_related("organisation").first()


def _refused(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    return render(request, "protocols/refused.html", {"message": message}, status=status)


def _station(slug: str, station_id: int) -> PollingStation:
    return get_object_or_404(
        PollingStation.objects.select_related("election__template", "commission"),
        election__slug=slug,
        pk=station_id,
    )


def _assigned(observer: Observer | None, station: PollingStation) -> bool:
    return observer is not None and (
        Assignment.objects.filter(observer=observer, station=station).exists()
    )


# --- The observer's stations ----------------------------------------------------------------


@login_required
@require_GET
def observer_stations(request: HttpRequest) -> HttpResponse:
    """The stations the signed-in observer is assigned to, by election; search by number."""
    observer = _observer_of(request.user)
    if observer is None:
        return _refused(request, _("You are not registered as an observer."))
    assignments = Assignment.objects.filter(observer=observer).select_related(
        "station__election", "station__commission"
    )
    total = assignments.values("station").distinct().count()
    number = request.GET.get("number", "").strip()[:MAX_NUMBER_LENGTH]
    if number:
        assignments = assignments.filter(station__number=number)
    elections: dict[int, Any] = {}
    stations: dict[int, dict[str, Any]] = {}  # by station id, in the order shown
    for assignment in assignments.order_by(
        "-station__election__date", "station__number", "starts_at"
    ):
        station = assignment.station
        elections.setdefault(station.election_id, station.election)
        entry = stations.setdefault(station.pk, {"station": station, "windows": [], "copies": []})
        entry["windows"].append(assignment)
    current = ProtocolCopy.objects.filter(
        observer=observer, station_id__in=list(stations), superseded_by__isnull=True
    ).order_by("received_at")
    for copy in current:
        stations[copy.station_id]["copies"].append(copy)
    by_election: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in stations.values():
        by_election[entry["station"].election_id].append(entry)
    context = {
        "observer": observer,
        "elections": [(elections[pk], entries) for pk, entries in by_election.items()],
        "number": number,
        "searchable": total > SEARCH_FROM or bool(number),
        "total": total,
    }
    return render(request, "protocols/observer_stations.html", context)


# --- The observer's device keys -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def device_keys(request: HttpRequest) -> HttpResponse:
    """The observer's device keys; register this browser's (generated by device-keys.js)."""
    if _observer_of(request.user) is None:
        return _refused(request, _("You are not registered as an observer."))
    form = DeviceKeyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                key, created = register_device_key(
                    user=request.user,
                    public_key=form.cleaned_data["public_key"],
                    name=form.cleaned_data["name"],
                )
            except SubmissionRefused as refused:
                form.add_error(form.field_for(refused.field), refused.message)
            else:
                if created:
                    messages.success(
                        request, _("Device key %(name)s registered.") % {"name": key.name}
                    )
                return HttpResponseRedirect(reverse("device_keys"), status=303)
        status = 400
    keys = [(key, key_base64(key)) for key in observer_keys(request.user)]
    return render(
        request, "protocols/device_keys.html", {"form": form, "keys": keys}, status=status
    )


@login_required
@require_POST
def device_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """Revoke one of the observer's own device keys (a lost or replaced phone)."""
    if _observer_of(request.user) is None:
        return _refused(request, _("You are not registered as an observer."))
    key = revoke_device_key(user=request.user, key_id=key_id)
    if key is None:
        return _refused(request, _("You have no device key %(id)d.") % {"id": key_id}, 404)
    messages.success(request, _("Device key %(name)s revoked.") % {"name": key.name})
    return HttpResponseRedirect(reverse("device_keys"), status=303)


# --- The observer's form --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def copy_form(request: HttpRequest, slug: str, station_id: int) -> HttpResponse:
    """Type in a copy of the station's protocol (or a correction of an earlier one) and submit."""
    station = _station(slug, station_id)
    observer = _observer_of(request.user)
    if not _assigned(observer, station):
        return _refused(
            request,
            _("You are not assigned to polling station %(number)s.") % {"number": station.number},
        )
    election = station.election
    spec = template_spec(election.template)
    if request.method == "POST":
        form = ProtocolCopyForm(request.POST, request.FILES, lines=spec.lines, language=_language())
        valid = form.is_valid()
        # Photos are stored even when a figure is sent back, so they need not travel again.
        photos = _store_photos(request, form)
        if valid and photos is not None:
            submitted = _submit(request, form, station, photos)
            if submitted is not None:
                return submitted
        typed = partial_figures(request.POST, spec.lines)
    else:
        earlier = _correction_of(request, station, observer)
        if isinstance(earlier, HttpResponse):
            return earlier
        form = ProtocolCopyForm.blank(
            lines=spec.lines,
            language=_language(),
            figures=earlier.figures if earlier else None,
            supersedes=earlier.pk if earlier else None,
            all_members_signed=earlier.all_members_signed if earlier else False,
            certified=earlier.certified if earlier else False,
        )
        typed = dict(earlier.figures) if earlier else {}
    form.enable_live_feedback(reverse("protocol_feedback", args=[slug, station.pk]))
    own_copies = ProtocolCopy.objects.filter(
        station=station, observer=observer, superseded_by__isnull=True
    ).order_by("received_at")
    context = {
        "election": election,
        "station": station,
        "form": form,
        "correcting": form["supersedes"].value(),
        "refusal": submission_refusal(request.user, station, timezone.now()),
        "own_copies": own_copies,
        # The keys signing.js may sign with: the observer's active ones.
        "active_keys": " ".join(
            key_base64(key) for key in observer_keys(request.user).filter(revoked_at__isnull=True)
        ),
        **_feedback_context(spec, typed),
    }
    return render(request, "protocols/copy_form.html", context)


def _correction_of(
    request: HttpRequest, station: PollingStation, observer: Observer | None
) -> ProtocolCopy | HttpResponse | None:
    """The observer's own current copy named by ``?corrects=``, to start a correction from."""
    raw = request.GET.get("corrects")
    if not raw:
        return None
    try:
        copy_id = UUID(raw)
    except ValueError:
        return _refused(
            request, _("%(value)s is not a protocol copy id.") % {"value": repr(raw)}, status=400
        )
    earlier = ProtocolCopy.objects.filter(
        pk=copy_id, station=station, observer=observer, superseded_by__isnull=True
    ).first()
    if earlier is None:
        return _refused(
            request,
            _(
                "You have no uncorrected protocol copy %(id)s at polling station %(number)s "
                "to correct."
            )
            % {"id": copy_id, "number": station.number},
            status=404,
        )
    return earlier


def _store_photos(request: HttpRequest, form: ProtocolCopyForm) -> list[str] | None:
    """The SHA-256s of the photos kept from earlier attempts and of those just uploaded, or
    None if an upload was refused (the error is put beside the photos)."""
    shas = list(form.cleaned_data.get("uploaded_photos") or [])
    refused = False
    for upload in form.cleaned_data.get("photos") or []:
        try:
            shas.append(store_photo(user=request.user, data=upload).sha256)
        except SubmissionRefused as refusal:
            form.add_error("photos", f"{upload.name}: {refusal.message}")
            refused = True
    form.keep_photos(shas)
    return None if refused else shas


def _submit(
    request: HttpRequest, form: ProtocolCopyForm, station: PollingStation, photos: list[str]
) -> HttpResponse | None:
    """Store the copy; on refusal put each problem beside its field."""
    try:
        submission = submit_copy(
            request.user,
            station.election,
            station,
            CopyInput(
                copy_id=form.cleaned_data["client_id"],
                figures=form.figures(),
                all_members_signed=form.cleaned_data["all_members_signed"],
                certified=form.cleaned_data["certified"],
                photo_sha256s=photos,
                supersedes=form.cleaned_data["supersedes"],
                device_key=form.cleaned_data["device_key"] or None,
                signature=form.cleaned_data["signature"] or None,
            ),
        )
    except SubmissionRefused as refused:
        for problem in refused.problems:
            form.add_error(form.field_for(problem.field), problem.message)
        return None
    if submission.created:
        messages.success(request, _("Your protocol copy has been received."))
    else:
        messages.info(request, _("This protocol copy had already been received; nothing changed."))
    url = reverse("protocol_copy", args=[station.election.slug, submission.copy.pk])
    return HttpResponseRedirect(url, status=303)


@login_required
@require_POST
def copy_feedback(request: HttpRequest, slug: str, station_id: int) -> HttpResponse:
    """The control relations on the figures typed so far (htmx swaps it into the form)."""
    station = _station(slug, station_id)
    if not _assigned(_observer_of(request.user), station):
        return _refused(
            request,
            _("You are not assigned to polling station %(number)s.") % {"number": station.number},
        )
    spec = template_spec(station.election.template)
    typed = partial_figures(request.POST, spec.lines)
    return render(request, "protocols/partials/feedback.html", _feedback_context(spec, typed))


def _feedback_context(spec: ProtocolTemplateSpec, typed: Mapping[str, Any]) -> dict[str, Any]:
    """The control relations on ``typed``, each with its description and missing line numbers."""
    language = _language()
    feedback = relation_feedback(spec, typed)
    rows = [
        {
            "item": item,
            "description": item.relation.description.get(language)
            or item.relation.description.get("en", ""),
            "missing": [spec.line(key).number for key in item.missing],
        }
        for item in feedback
    ]
    return {
        "feedback": rows,
        "broken": sum(item.state is RelationState.BROKEN for item in feedback),
        "incomplete": sum(item.state is RelationState.INCOMPLETE for item in feedback),
    }


# --- A stored copy --------------------------------------------------------------------------


def _visible_copy(request: HttpRequest, slug: str, copy_id: UUID) -> QuerySet[ProtocolCopy]:
    """The copy, if the user may see it raw or submitted it themselves."""
    copies = ProtocolCopy.objects.filter(election__slug=slug, pk=copy_id)
    return (
        (visible_copies(request.user, copies) | copies.filter(submitted_by_id=request.user.pk))
        if request.user.is_authenticated
        else copies.none()
    )


def _no_copy(request: HttpRequest, copy_id: UUID) -> HttpResponse:
    return _refused(
        request,
        _("There is no protocol copy %(id)s that you may see in this election.") % {"id": copy_id},
        status=404,
    )


@require_GET
def copy_receipt_state(request: HttpRequest, slug: str, copy_id: UUID) -> HttpResponse:
    """Whether the log's latest checkpoint covers the copy yet (receipt-page.js asks while
    pending, then fetches the receipt itself from the log)."""
    found = _visible_copy(request, slug, copy_id).first()
    if found is None:
        return _no_copy(request, copy_id)
    where = receipt_state(found)
    return JsonResponse(
        {
            "entry": where.entry_id if where else None,
            "index": where.index if where else None,
            "included": where.included if where else False,
        }
    )


@require_GET
def copy_detail(request: HttpRequest, slug: str, copy_id: UUID) -> HttpResponse:
    """One copy as stored: figures, flags, photos, time, id; a correction for its observer."""
    found = (
        _visible_copy(request, slug, copy_id)
        .select_related(
            "election__template",
            "station",
            "organisation",
            "observer",
            "supersedes",
            "device_key",
        )
        .prefetch_related("photos")
        .first()
    )
    if found is None:
        return _no_copy(request, copy_id)
    spec = template_spec(found.election.template)
    corrected_by = ProtocolCopy.objects.filter(supersedes=found).first()
    may_correct = (
        corrected_by is None
        and found.observer.user_id == request.user.pk
        and request.user.is_authenticated
    )
    context = {
        "election": found.election,
        "station": found.station,
        "copy": found,
        "lines": [
            (line, line.label(_language()), found.figures.get(line.key)) for line in spec.lines
        ],
        "photos": list(found.photos.all()),
        "corrected_by": corrected_by,
        "may_correct": may_correct,
        "receipt": copy_receipt(found),
        **_feedback_context(spec, found.figures),
    }
    return render(request, "protocols/copy_detail.html", context)


# --- The station comparison -----------------------------------------------------------------


@require_GET
def station_comparison(request: HttpRequest, slug: str, station_id: int) -> HttpResponse:
    """Every source for one station side by side, differences marked; public and staff."""
    station = get_object_or_404(
        selectors.stations_with_commission_path().select_related("election__template"),
        election__slug=slug,
        pk=station_id,
    )
    spec = template_spec(station.election.template)
    comparison = compare_station(request.user, station, spec, _language())
    observer = _observer_of(request.user)
    context = {
        "election": station.election,
        "station": station,
        "path": selectors.commission_path(station.commission),
        "comparison": comparison,
        "may_submit": _assigned(observer, station),
    }
    return render(request, "protocols/comparison.html", context)
