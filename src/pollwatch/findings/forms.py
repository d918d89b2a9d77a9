"""The findings pages' forms: the queue's filters (GET) and a status change (POST)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from pollwatch.findings.lifecycle import TRANSITIONS, LifecycleError, check_change_finding_status
from pollwatch.findings.models import Finding, FindingKind, FindingStatus, Severity
from pollwatch.findings.selectors import Cursor, CursorError, QueueFilters
from pollwatch.registry.models import Commission

# A reason is a sentence or a paragraph; the evidence itself belongs to a complaint.
MAX_REASON_LENGTH = 2000


class QueueFilterForm(forms.Form):
    """The queue's filters; every field is optional, an empty one means "any"."""

    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *FindingKind.choices]
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("All severities")), *Severity.choices]
    )
    region = forms.ChoiceField(label=_("Region"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *FindingStatus.choices],
    )
    resolved = forms.BooleanField(label=_("Include resolved findings"), required=False)
    # The queue's own "next page" links set it; nobody types it.
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, regions: list[Commission], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._regions = {str(region.pk): region for region in regions}
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ChoiceField)
        region_field.choices = [
            ("", _("All regions")),
            *((key, region.name) for key, region in self._regions.items()),
        ]

    def clean_region(self) -> Commission | None:
        key: str = self.cleaned_data["region"]
        return self._regions[key] if key else None

    def clean_after(self) -> Cursor | None:
        text: str = self.cleaned_data["after"].strip()
        if not text:
            return None
        try:
            return Cursor.parse(text)
        except CursorError:
            raise ValidationError(
                _(
                    "“%(value)s” is not a position in the queue (expected the size of the "
                    "difference and a finding's id, as in 120-4567); start again from the "
                    "first page."
                ),
                params={"value": text[:40]},
                code="invalid",
            ) from None

    def filters(self) -> QueueFilters:
        """The cleaned filters; call after is_valid()."""
        data = self.cleaned_data
        return QueueFilters(
            kind=data["kind"] or None,
            severity=data["severity"] or None,
            region=data["region"],
            status=data["status"] or None,
            include_resolved=data["resolved"],
        )

    def query(self, after: Cursor | None = None) -> str:
        """The cleaned filters as a query string, from ``after`` when given: the queue's links."""
        data = self.cleaned_data
        region: Commission | None = data["region"]
        pairs = [
            ("kind", data["kind"]),
            ("severity", data["severity"]),
            ("region", str(region.pk) if region else ""),
            ("status", data["status"]),
            ("resolved", "on" if data["resolved"] else ""),
            ("after", str(after) if after else ""),
        ]
        return urlencode([(name, value) for name, value in pairs if value])


class StatusChangeForm(forms.Form):
    """A move of one finding to a new status; the lifecycle service has the last word."""

    status = forms.ChoiceField(label=_("New status"), choices=FindingStatus.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "aria-describedby": "reason-help"}),
        help_text=_("Required to dismiss a finding, and to undo an earlier decision."),
    )

    def __init__(self, *args: Any, finding: Finding, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.finding = finding
        self.user = user
        # Offer only the moves the lifecycle allows from here; any status is still accepted
        # on submission, so that a stale page gets the lifecycle's precise refusal.
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        allowed = TRANSITIONS[FindingStatus(finding.status)]
        status_field.widget.choices = [
            (value, label) for value, label in FindingStatus.choices if value in allowed
        ]

    @property
    def has_moves(self) -> bool:
        return bool(TRANSITIONS[FindingStatus(self.finding.status)])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None
        if "status" in data:
            try:
                check_change_finding_status(
                    self.user, self.finding.status, data["status"], data.get("reason", "")
                )
            except LifecycleError as error:
                raise ValidationError(str(error), code="lifecycle") from None
        return data
