"""Findings in the admin: to look at, not to edit.

Recording writes the computed columns and the lifecycle service the status (with its decision
history); an edit here would bypass both, so every field is read-only and nothing is added or
deleted by hand.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from pollwatch.findings.models import Finding, FindingDecision


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FindingDecisionInline(admin.TabularInline):
    model = FindingDecision
    extra = 0
    fields = ["decided_at", "decided_by", "from_status", "to_status", "reason"]
    readonly_fields = ["decided_at", "decided_by", "from_status", "to_status", "reason"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = [
        "fingerprint",
        "kind",
        "severity",
        "status",
        "present",
        "magnitude",
        "station",
        "commission",
        "election",
    ]
    list_filter = ["election", "status", "kind", "severity", "present"]
    search_fields = ["=fingerprint"]
    ordering = ["-magnitude", "id"]
    list_select_related = ["election", "station", "commission"]
    raw_id_fields = ["station", "commission"]
    inlines = [FindingDecisionInline]
    show_full_result_count = False  # counting 200,000 findings on every page is slow


@admin.register(FindingDecision)
class FindingDecisionAdmin(ReadOnlyAdmin):
    list_display = ["finding", "from_status", "to_status", "decided_by", "decided_at"]
    list_filter = ["to_status"]
    raw_id_fields = ["finding", "decided_by"]
    list_select_related = ["finding", "decided_by"]
