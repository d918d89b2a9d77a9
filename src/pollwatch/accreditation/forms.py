"""Forms of the accreditation pages: they parse; the services decide and write."""

from __future__ import annotations

import datetime
import zoneinfo
from pathlib import Path
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pollwatch.core.tabular import XLSX_SUFFIXES
from pollwatch.registry.models import Election, PollingStation

UPLOAD_SUFFIXES = {".csv", ".zip", *XLSX_SUFFIXES}


class AssignmentForm(forms.Form):
    """A station of an election and a window, typed in the election's local time."""

    election = forms.ModelChoiceField(
        label=_("Election"), queryset=Election.objects.all(), to_field_name="slug"
    )
    station = forms.CharField(label=_("Polling station code"), max_length=255)
    starts_at = forms.DateTimeField(
        label=_("From (local time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=_("Until (local time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        election: Election | None = data.get("election")
        if election is None:
            return data
        zone = zoneinfo.ZoneInfo(election.time_zone)
        for name in ("starts_at", "ends_at"):
            moment: datetime.datetime | None = data.get(name)
            if moment is not None:
                # The browser sends wall-clock time: it is the election's, not the server's.
                data[name] = moment.replace(tzinfo=zone)
        code = (data.get("station") or "").strip()
        station = PollingStation.objects.filter(election=election, code=code).first()
        if station is None and code:
            self.add_error(
                "station",
                _("%(election)s has no polling station with the code %(code)s.")
                % {"election": election.name, "code": code},
            )
        data["station"] = station
        return data


class AccreditForm(forms.Form):
    number = forms.CharField(label=_("Accreditation number"), max_length=100)


class ImportForm(forms.Form):
    KINDS = [
        ("observers", _("Observers")),
        ("assignments", _("Assignments")),
        ("organisations", _("Organisations")),
    ]

    kind = forms.ChoiceField(label=_("What the file holds"), choices=KINDS)
    election = forms.ModelChoiceField(
        label=_("Election"),
        queryset=Election.objects.all(),
        to_field_name="slug",
        required=False,
        help_text=_(
            "Required for assignments; for observers, each gets an accreditation request for it."
        ),
    )
    file = forms.FileField(label=_("File (.csv, .zip holding one CSV, or .xlsx)"))

    def __init__(self, *args: Any, may_import_organisations: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_import_organisations:
            field = self.fields["kind"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = self.KINDS[:2]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in UPLOAD_SUFFIXES:
            raise forms.ValidationError(
                _("Expected a .csv, .zip or .xlsx file, got %(name)s.") % {"name": upload.name}
            )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "assignments" and data.get("election") is None:
            self.add_error("election", _("Assignments are imported into an election: choose one."))
        return data
