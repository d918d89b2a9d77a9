"""The roles of DESIGN §2, each a Django group.

The public role is everyone who is not logged in, so it has no group. What each role may do is
decided where objects are accessed; this module only says who holds which role.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OBSERVER = "observer", _("Observer")
    COORDINATOR = "coordinator", _("Coordinator")
    ANALYST = "analyst", _("Analyst")
    DATA_CLERK = "data_clerk", _("Data clerk")
    ADMINISTRATOR = "administrator", _("Administrator")


# Roles that see or change other people's data: they must sign in with a second factor.
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.ANALYST, Role.DATA_CLERK, Role.ADMINISTRATOR})

_ROLES_CACHE = "_pollwatch_roles"


@transaction.atomic
def ensure_role_groups() -> dict[Role, Group]:
    """Create the group of every role that lacks one; idempotent."""
    return {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}


def grant_role(user: AbstractBaseUser, role: Role) -> None:
    group, _created = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)  # type: ignore[attr-defined]
    user.__dict__.pop(_ROLES_CACHE, None)


def roles_of(user: AbstractBaseUser | AnonymousUser) -> set[Role]:
    """The user's roles; read once per user object (a request's user asks many times)."""
    if not user.is_authenticated:
        return set()
    cached: set[Role] | None = user.__dict__.get(_ROLES_CACHE)
    if cached is None:
        names = user.groups.values_list("name", flat=True)  # type: ignore[attr-defined]
        cached = {Role(name) for name in names if name in Role.values}
        user.__dict__[_ROLES_CACHE] = cached
    return set(cached)


def is_observer(user: AbstractBaseUser | AnonymousUser) -> bool:
    return Role.OBSERVER in roles_of(user)


def needs_second_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Administrators, analysts, data clerks and coordinators — and any account that can
    enter the admin — sign in with TOTP; observers and the public do not."""
    if not user.is_authenticated:
        return False
    if getattr(user, "is_staff", False) or getattr(user, "is_superuser", False):
        return True
    return bool(roles_of(user) & STAFF_ROLES)
