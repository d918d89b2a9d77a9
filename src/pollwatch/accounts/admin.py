"""The audit log in the admin: readable by administrators, changeable by nobody."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from pollwatch.accounts.models import AuditEntry, LoginLock
from pollwatch.accounts.roles import Role, roles_of


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_username", "action", "target_type", "target_repr", "ip"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_username", "action", "target_repr", "target_id"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_administrator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_administrator(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _is_administrator(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and (user.is_superuser or Role.ADMINISTRATOR in roles_of(user))


@admin.register(LoginLock)
class LoginLockAdmin(admin.ModelAdmin):
    """Administrators see which account names are locked and can lift a lockout early (by
    deleting the lock; the admin's own history records who did)."""

    list_display = ["username", "consecutive_failures", "locked_until"]
    search_fields = ["username"]
    readonly_fields = ["username", "consecutive_failures", "locked_until"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_administrator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_administrator(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_administrator(request)
