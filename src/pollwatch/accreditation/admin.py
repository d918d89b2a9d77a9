"""Organisations, memberships and observers in the admin; accreditations and assignments to
look at only.

An accreditation changes only through `lifecycle` (request, accredit, revoke) and an
assignment through `assignments` or an import, each writing the audit log; an edit here would
bypass both. What the admin does edit is written to the audit log too, with the row's state
before and after.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from pollwatch.accounts.audit import record_action
from pollwatch.accreditation.models import (
    Accreditation,
    Assignment,
    DeviceKey,
    Membership,
    Observer,
    Organisation,
)


class AuditedAdmin(admin.ModelAdmin):
    """Every save and delete through the admin is an audited administrative action."""

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        before = None
        if change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = model_to_dict(stored) if stored is not None else None
        super().save_model(request, obj, form, change)
        action = f"{obj._meta.model_name}.{'change' if change else 'add'}"
        record_action(request.user, action, obj, before, model_to_dict(obj))

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        record_action(request.user, f"{obj._meta.model_name}.delete", obj, model_to_dict(obj), None)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            record_action(
                request.user, f"{obj._meta.model_name}.delete", obj, model_to_dict(obj), None
            )
        super().delete_queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["name", "code", "kind", "share_with_mission", "share_with_organisations"]
    list_filter = ["kind", "share_with_mission", "share_with_organisations"]
    search_fields = ["name", "=code"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "organisation"]
    list_filter = ["organisation"]
    search_fields = ["user__username", "organisation__name"]
    raw_id_fields = ["user"]
    list_select_related = ["user", "organisation"]


@admin.register(Observer)
class ObserverAdmin(AuditedAdmin):
    list_display = ["full_name", "code", "organisation", "contact", "user"]
    list_filter = ["organisation"]
    search_fields = ["full_name", "=code", "contact"]
    raw_id_fields = ["user"]
    list_select_related = ["organisation", "user"]
    show_full_result_count = False  # observers run to a hundred thousand


@admin.register(Accreditation)
class AccreditationAdmin(ReadOnlyAdmin):
    list_display = ["observer", "election", "status", "number", "requested_at", "decided_at"]
    list_filter = ["election", "status"]
    search_fields = ["=number", "observer__full_name", "=observer__code"]
    list_select_related = ["observer", "election"]
    show_full_result_count = False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["observer", "station", "starts_at", "ends_at"]
    list_filter = ["station__election"]
    search_fields = ["observer__full_name", "=observer__code", "=station__code"]
    list_select_related = ["observer", "station"]
    show_full_result_count = False


@admin.register(DeviceKey)
class DeviceKeyAdmin(ReadOnlyAdmin):
    """Keys are registered from the observer's own device and revoked by the observer: an
    administrator sees them, so as to answer "which key signed this copy"."""

    list_display = ["observer", "name", "key_id_hex", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["observer__full_name", "=observer__code", "name"]
    list_select_related = ["observer"]
    show_full_result_count = False

    @admin.display(description=_("public key"))
    def key_id_hex(self, key: DeviceKey) -> str:
        return bytes(key.public_key).hex()
