"""Template filters for links that only some roles may follow (the pages check again)."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from pollwatch.accounts.roles import Role, roles_of
from pollwatch.accreditation.permissions import is_administrator

register = template.Library()


@register.filter
def manages_observers(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Coordinators and administrators: the observers pages are theirs."""
    return user.is_authenticated and (Role.COORDINATOR in roles_of(user) or is_administrator(user))


@register.filter
def administers(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and is_administrator(user)
