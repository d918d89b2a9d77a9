"""Who may see an organisation's raw data: its protocol copies, their photos and metadata.

Each organisation decides (Organisation.share_with_mission / share_with_organisations):

- administrators and analysts — the mission — see the copies of organisations that share with
  the mission;
- a coordinator or an observer sees their own organisation's copies, and those of
  organisations that share with other organisations;
- data clerks, accounts without a role and the public see no raw copy: only the findings
  derived from them.

A user holding several roles sees the union of what each role allows. The rules are written as
subqueries of the copy queryset, so applying them costs no query beyond reading the roles.

Photo EXIF (camera, time, often the observer's position) is personal data and is shown more
narrowly (`can_see_exif`): to administrators and analysts, who need it to check a photo's
provenance, and to the coordinators of the organisation whose observer took it; never to other
organisations' members, observers or the public.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from pollwatch.accounts.roles import Role, roles_of
from pollwatch.accreditation.models import Membership, Observer

if TYPE_CHECKING:
    from pollwatch.protocols.models import ProtocolCopy

User = AbstractBaseUser | AnonymousUser

MISSION_ROLES = frozenset({Role.ADMINISTRATOR, Role.ANALYST})
ORGANISATION_ROLES = frozenset({Role.COORDINATOR, Role.OBSERVER})


def _own_organisation(user: AbstractBaseUser) -> Q:
    """The user's organisation: their membership's, or as an observer, their observer
    record's (an imported observer may have an account but no membership)."""
    membership = Membership.objects.filter(user_id=user.pk).values("organisation_id")
    observer = Observer.objects.filter(user_id=user.pk).values("organisation_id")
    return Q(organisation_id__in=membership) | Q(organisation_id__in=observer)


def visible_copies(user: User, queryset: QuerySet[ProtocolCopy]) -> QuerySet[ProtocolCopy]:
    """The copies of `queryset` that `user` may see raw."""
    if not user.is_authenticated:
        return queryset.none()
    roles = roles_of(user)
    allowed: list[Q] = []
    if roles & MISSION_ROLES:
        allowed.append(Q(organisation__share_with_mission=True))
    if roles & ORGANISATION_ROLES:
        allowed += [_own_organisation(user), Q(organisation__share_with_organisations=True)]
    if not allowed:
        return queryset.none()
    return queryset.filter(reduce(operator.or_, allowed))


def can_see_exif(user: User, copy: ProtocolCopy | None = None) -> bool:
    """Whether `user` may see the EXIF metadata of photos — of `copy`'s photos when given.

    Administrators and analysts: yes. A coordinator: only for a copy of their own
    organisation, so only when `copy` is given. Everyone else: no.
    """
    if not user.is_authenticated:
        return False
    roles = roles_of(user)
    if roles & MISSION_ROLES:
        return True
    if Role.COORDINATOR in roles and copy is not None:
        return Membership.objects.filter(
            user_id=user.pk, organisation_id=copy.organisation_id
        ).exists()
    return False
