"""Analysis in the admin: PVT plans and forensics reports to look at.

A plan is drawn only on the PVT page; an administrator may delete a plan drawn by mistake (so a
new one can be drawn) and a forensics report (the next visit computes it again).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from pollwatch.analysis.models import ForensicsReport, PvtPlan
from pollwatch.findings.admin import ReadOnlyAdmin


class DeletableAdmin(ReadOnlyAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(PvtPlan)
class PvtPlanAdmin(DeletableAdmin):
    list_display = ["election", "sample_size", "seed", "margin", "confidence", "drawn_at"]
    readonly_fields = [
        "election", "margin", "confidence", "z", "share", "voters_needed", "sample_size",
        "seed", "frame_stations", "frame_voters", "drawn_at", "drawn_by",
    ]  # fmt: skip


@admin.register(ForensicsReport)
class ForensicsReportAdmin(DeletableAdmin):
    list_display = ["election", "source", "status", "started_at", "finished_at"]
    list_filter = ["status", "source"]
    readonly_fields = [
        "election", "source", "state", "status", "started_at", "finished_at", "error",
    ]  # fmt: skip
    exclude = ["results"]  # large; the page shows it
