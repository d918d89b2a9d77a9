"""Official results in the admin: snapshots to look at (an import is the only writer), and
the election's outcome rule, checked against its template before it is saved."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from pollwatch.core.outcome import OutcomeRuleError
from pollwatch.findings.admin import ReadOnlyAdmin
from pollwatch.official.models import OfficialSnapshot, OutcomeRuleSetting
from pollwatch.official.outcome_rules import parse_rule
from pollwatch.registry.protocol_templates import spec_of


@admin.register(OfficialSnapshot)
class OfficialSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["election", "source", "imported_at", "station_rows", "commission_rows"]
    list_filter = ["election"]
    readonly_fields = [
        "election", "source", "sha256", "imported_at", "imported_by", "station_rows",
        "commission_rows",
    ]  # fmt: skip


class OutcomeRuleForm(forms.ModelForm):
    class Meta:
        model = OutcomeRuleSetting
        fields = ["election", "rule"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        election, rule = data.get("election"), data.get("rule")
        if election is not None and rule is not None:
            try:
                parse_rule(rule, spec_of(election.template))
            except OutcomeRuleError as error:
                raise forms.ValidationError(str(error)) from None
        return data


@admin.register(OutcomeRuleSetting)
class OutcomeRuleAdmin(admin.ModelAdmin):
    form = OutcomeRuleForm
    list_display = ["election"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)
