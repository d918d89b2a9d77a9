"""Sign-ins for imported observers: an account each and a one-time link to set its password.

A coordinator (for their own organisation's observers) or an administrator (for any) creates
the accounts of observers who have none, in one transaction: all or nothing. Observers who
already have an account are refused, by name, rather than skipped: the coordinator asked for
something that cannot be done, and a silently shorter list of links is easy to miss. For them,
`reissue_signin` hands out a new link and stops the earlier unused ones.

A link's token is shown once; only its SHA-256 is stored (as for device tokens). It works once,
until POLLWATCH_SIGNIN_LINK_DAYS after it was issued.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pollwatch.accounts.audit import record_action
from pollwatch.accounts.device_tokens import token_sha256
from pollwatch.accounts.models import SigninLink
from pollwatch.accounts.roles import Role, grant_role, needs_second_factor
from pollwatch.accreditation.models import Membership, Observer
from pollwatch.accreditation.permissions import require_manager

TOKEN_PREFIX = "pwl_"  # tells a leaked sign-in link apart in logs and secret scanners
_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_USERNAME_LENGTH = 150


class SigninError(ValueError):
    """A refused sign-in operation; nothing was changed. The message is translated."""


@dataclass(frozen=True)
class Invitation:
    observer: Observer
    username: str
    token: str  # the plaintext: shown to the coordinator once, never stored
    expires_at: datetime


def chosen_observers(ids: Iterable[str]) -> list[Observer]:
    """The observers a form names by id; refused if any is not a known observer's."""
    values = list(ids)
    if not all(value.isdigit() for value in values):
        raise _no_longer_exist()
    chosen = {int(value) for value in values}
    observers = Observer.objects.select_related("organisation").in_bulk(chosen)
    if len(observers) != len(chosen):
        raise _no_longer_exist()
    return list(observers.values())


def _no_longer_exist() -> SigninError:
    return SigninError(_("Some of the chosen observers no longer exist."))


@transaction.atomic
def create_signins(
    actor: AbstractBaseUser | AnonymousUser, observers: Iterable[Observer]
) -> list[Invitation]:
    """An observer account and a sign-in link for each of `observers`, none of whom may have
    an account yet; `actor` must manage every one's organisation."""
    wanted = {observer.pk for observer in observers}
    if not wanted:
        raise SigninError(_("Choose the observers to create sign-ins for."))
    # Locked, so two coordinators creating the same observer's account cannot both succeed.
    locked = list(
        Observer.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .filter(pk__in=wanted)
        .order_by("organisation__code", "code")
    )
    if len(locked) != len(wanted):
        raise _no_longer_exist()
    for observer in locked:
        require_manager(actor, observer.organisation)
    with_account = [observer.full_name for observer in locked if observer.user_id is not None]
    if with_account:
        raise SigninError(
            _("These observers already have an account: %(names)s. Give them a new sign-in link.")
            % {"names": ", ".join(with_account)}
        )
    return [_create_account(actor, observer) for observer in locked]


def _create_account(actor: AbstractBaseUser | AnonymousUser, observer: Observer) -> Invitation:
    user = get_user_model().objects.create_user(  # no password: unusable until the link
        username=_free_username(observer),
        first_name=observer.full_name.split(" ", 1)[0][:150],
        last_name=observer.full_name.partition(" ")[2][:150],
    )
    grant_role(user, Role.OBSERVER)
    Membership.objects.create(user=user, organisation_id=observer.organisation_id)
    observer.user = user
    observer.save(update_fields=["user"])
    invitation = _issue_link(actor, observer, user)
    after = {"username": user.get_username(), "link_expires_at": invitation.expires_at}
    record_action(actor, "observer.signin_create", observer, {"user": None}, after)
    return invitation


@transaction.atomic
def reissue_signin(actor: AbstractBaseUser | AnonymousUser, observer: Observer) -> Invitation:
    """A new sign-in link for an observer who has an account; earlier unused links stop
    working. Their current password, if any, keeps working until the link sets a new one."""
    # Locked, so that of two reissues at once, the later stops the earlier's link.
    observer = (
        Observer.objects.select_for_update(of=("self",))
        .select_related("organisation", "user")
        .get(pk=observer.pk)
    )
    require_manager(actor, observer.organisation)
    user = observer.user
    if user is None:
        raise SigninError(
            _("%(name)s has no account yet: create their sign-in first.")
            % {"name": observer.full_name}
        )
    if not user.is_active:
        raise SigninError(
            _("The account of %(name)s is deactivated.") % {"name": observer.full_name}
        )
    # A link sets a password without the old one: never for an account that can do more
    # than observe, or a coordinator could take over a colleague's or an administrator's.
    if needs_second_factor(user):
        raise SigninError(
            _("The account of %(name)s is a staff account: it cannot be given a sign-in link.")
            % {"name": observer.full_name}
        )
    now = timezone.now()
    stopped = SigninLink.objects.filter(user=user, used_at=None, revoked_at=None).update(
        revoked_at=now
    )
    invitation = _issue_link(actor, observer, user)
    after = {"link_expires_at": invitation.expires_at, "earlier_links_stopped": stopped}
    record_action(actor, "observer.signin_reissue", observer, None, after)
    return invitation


def _issue_link(
    actor: AbstractBaseUser | AnonymousUser, observer: Observer, user: User
) -> Invitation:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits of randomness
    now = timezone.now()
    expires_at = now + timedelta(days=settings.POLLWATCH_SIGNIN_LINK_DAYS)
    SigninLink.objects.create(
        user=user,
        token_sha256=token_sha256(token),
        issued_by_id=actor.pk if actor.is_authenticated else None,
        created_at=now,
        expires_at=expires_at,
    )
    return Invitation(observer, user.get_username(), token, expires_at)


def _free_username(observer: Observer) -> str:
    """`<organisation code>-<observer code>`, lowercase, letters, digits and ._- only; with
    `-2`, `-3`… when taken (by any case: logins compare names as typed)."""
    code = _UNSAFE.sub("-", observer.code.lower()).strip("-.") or str(observer.pk)
    base = f"{observer.organisation.code.lower()}-{code}"[: _USERNAME_LENGTH - 8]
    taken = {
        name.lower()
        for name in get_user_model()
        .objects.filter(username__istartswith=base)
        .values_list("username", flat=True)
    }
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def live_link(token: str, *, lock: bool = False) -> SigninLink | None:
    """The unused, unexpired, unstopped link with this token whose account is active and
    needs no second factor, or None (whichever it is not: the caller must not tell)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    links = SigninLink.objects.select_related("user")
    if lock:
        links = links.select_for_update(of=("self",))
    link = links.filter(
        token_sha256=token_sha256(token),
        used_at=None,
        revoked_at=None,
        expires_at__gt=timezone.now(),
        user__is_active=True,
    ).first()
    # Made a coordinator or staff since the link was issued: a link sets no such password.
    if link is not None and needs_second_factor(link.user):
        return None
    return link


@transaction.atomic
def use_link(link: SigninLink) -> None:
    """Mark `link` (read with `live_link(..., lock=True)`) used, once its password is set; any
    other unused link of the account stops too."""
    now = timezone.now()
    link.used_at = now
    link.save(update_fields=["used_at"])
    SigninLink.objects.filter(user=link.user_id, used_at=None, revoked_at=None).update(
        revoked_at=now
    )
    record_action(link.user, "signin_link.use", link.user, None, {"link": link.pk})
