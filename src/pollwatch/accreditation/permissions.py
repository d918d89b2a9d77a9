"""Who manages which organisation's observers: the mission's administrators manage all; a
coordinator manages only their own organisation's. Nobody else manages any."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from pollwatch.accounts.roles import Role, roles_of
from pollwatch.accreditation.models import Membership, Organisation

User = AbstractBaseUser | AnonymousUser


class NotPermitted(PermissionDenied):
    """The user's role does not allow the action; nothing was changed. Django answers 403."""


def is_administrator(user: User) -> bool:
    return bool(getattr(user, "is_superuser", False)) or Role.ADMINISTRATOR in roles_of(user)


def organisation_of(user: User) -> Organisation | None:
    """The organisation the user works for, or None."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.select_related("organisation").filter(user_id=user.pk).first()
    return membership.organisation if membership is not None else None


def coordinated_organisation(user: User) -> Organisation | None:
    """The organisation a coordinator runs; None for anyone who is not a coordinator."""
    if Role.COORDINATOR not in roles_of(user):
        return None
    return organisation_of(user)


def may_manage(user: User, organisation_id: int) -> bool:
    if is_administrator(user):
        return True
    own = coordinated_organisation(user)
    return own is not None and own.pk == organisation_id


def require_manager(user: User, organisation: Organisation) -> None:
    """Raise NotPermitted unless `user` may manage `organisation`'s observers."""
    if not may_manage(user, organisation.pk):
        raise NotPermitted(
            _("Only the administrators and %(organisation)s's own coordinators may do this.")
            % {"organisation": organisation.name}
        )


def require_administrator(user: User) -> None:
    if not is_administrator(user):
        raise NotPermitted(_("Only an administrator may do this."))
