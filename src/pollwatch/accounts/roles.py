"""The roles of DESIGN §2, each a Django group.

The public role is everyone who is not logged in, so it has no group. What each role may do is
decided where objects are accessed; this module only says who holds which role.
"""

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OBSERVER = "observer", _("Observer")
    COORDINATOR = "coordinator", _("Coordinator")
    ANALYST = "analyst", _("Analyst")
    DATA_CLERK = "data_clerk", _("Data clerk")
    ADMINISTRATOR = "administrator", _("Administrator")


@transaction.atomic
def ensure_role_groups() -> dict[Role, Group]:
    """Create the group of every role that lacks one; idempotent."""
    return {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}


def grant_role(user: AbstractBaseUser, role: Role) -> None:
    group, _created = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)  # type: ignore[attr-defined]


def roles_of(user: AbstractBaseUser) -> set[Role]:
    names = user.groups.values_list("name", flat=True)  # type: ignore[attr-defined]
    return {Role(name) for name in names if name in Role.values}
