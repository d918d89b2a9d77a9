"""The audit log: who did what to which object, before and after; append-only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.test import Client

from pollwatch.accounts.audit import record_action
from pollwatch.accounts.models import AppendOnlyError, AuditEntry
from pollwatch.accounts.roles import Role
from tests.accounts.factories import login_verified, make_user

pytestmark = pytest.mark.django_db


def test_record_action_keeps_who_what_target_and_states() -> None:
    admin = make_user("ada", Role.ADMINISTRATOR)
    group = Group.objects.create(name="volunteers")

    entry = record_action(
        admin, "group.rename", group, {"name": "vol"}, {"name": "volunteers"}, ip="10.0.0.7"
    )

    entry.refresh_from_db()
    assert entry.actor == admin and entry.actor_username == "ada"
    assert entry.action == "group.rename"
    assert entry.target_type.model_class() is Group
    assert entry.target_id == str(group.pk) and entry.target_repr == "volunteers"
    assert entry.before == {"name": "vol"} and entry.after == {"name": "volunteers"}
    assert entry.ip == "10.0.0.7" and entry.at is not None


def test_anonymous_actor_and_creation_without_before() -> None:
    group = Group.objects.create(name="g")
    entry = record_action(AnonymousUser(), "group.create", group, None, {"name": "g"})
    assert entry.actor is None and entry.actor_username == "" and entry.before is None


def test_unsaved_target_or_empty_action_is_refused_and_writes_nothing() -> None:
    with pytest.raises(ValueError, match="has not been saved"):
        record_action(None, "group.create", Group(name="x"), None, None)
    with pytest.raises(ValueError, match="action must not be empty"):
        record_action(None, "", Group.objects.create(name="y"), None, None)
    assert not AuditEntry.objects.exists()


def test_entries_cannot_be_changed_or_deleted_through_the_orm() -> None:
    entry = record_action(None, "group.create", Group.objects.create(name="g"), None, {"a": 1})

    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.action == "group.create" and AuditEntry.objects.count() == 1


def test_an_actor_with_entries_cannot_be_deleted() -> None:
    from django.db.models import ProtectedError

    user = make_user("carl", Role.COORDINATOR)
    record_action(user, "group.create", Group.objects.create(name="g"), None, None)
    with pytest.raises(ProtectedError):
        user.delete()
    assert get_user_model().objects.filter(username="carl").exists()


def test_admin_shows_the_log_read_only_to_administrators_only() -> None:
    entry = record_action(None, "group.create", Group.objects.create(name="g"), None, None)
    admin_client, clerk_client = Client(), Client()
    login_verified(admin_client, make_user("ada", Role.ADMINISTRATOR))
    login_verified(clerk_client, make_user("cleo", Role.DATA_CLERK))

    assert admin_client.get("/admin/accounts/auditentry/").status_code == 200
    change = f"/admin/accounts/auditentry/{entry.pk}/change/"
    assert admin_client.get(change).status_code == 200  # the read-only view
    assert admin_client.post(change, {"action": "forged"}).status_code == 403
    assert admin_client.get(f"/admin/accounts/auditentry/{entry.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/accounts/auditentry/add/").status_code == 403
    assert clerk_client.get("/admin/accounts/auditentry/").status_code == 403
    entry.refresh_from_db()
    assert entry.action == "group.create"
