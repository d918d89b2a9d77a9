"""Pages of the second factor (enrol, verify), observers' device tokens and sign-in links."""

from __future__ import annotations

from contextlib import suppress

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pollwatch.accounts import device_tokens, observer_signins, second_factor
from pollwatch.accounts.forms import DeviceTokenForm, TokenForm
from pollwatch.accounts.models import DeviceToken
from pollwatch.accounts.roles import is_observer


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran
    return user


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the secret), confirm a code.

    Only for accounts without a confirmed device: adding a device to an account that has one
    would let a stolen password replace the second factor.
    """
    user = _user(request)
    if second_factor.confirmed_device(user) is not None:
        return redirect(f"{reverse('second_factor_verify')}?next={_next_url(request)}")
    device = second_factor.pending_device(user)
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            reason = second_factor.confirm_enrolment(
                request, device, form.cleaned_data["otp_token"]
            )
            if reason is None:
                return HttpResponseRedirect(_next_url(request))
            form.add_error("otp_token", reason)
        status = 400
    context = {
        "form": form,
        "qr_code": second_factor.qr_code_svg(device),
        "secret": second_factor.secret_base32(device),
        "otpauth_uri": second_factor.otpauth_uri(device),
        "next": _next_url(request),
    }
    return render(request, "accounts/second_factor_enrol.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    """The login's second step: a code from the enrolled authenticator app."""
    user = _user(request)
    device = second_factor.confirmed_device(user)
    if device is None:
        return redirect(f"{reverse('second_factor_enrol')}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            reason = second_factor.verify(request, device, form.cleaned_data["otp_token"])
            if reason is None:
                return HttpResponseRedirect(_next_url(request))
            form.add_error("otp_token", reason)
        status = 400
    context = {"form": form, "next": _next_url(request)}
    return render(request, "accounts/second_factor_verify.html", context, status=status)


def _observer(request: HttpRequest) -> User:
    user = _user(request)
    if not is_observer(user):
        raise PermissionDenied
    return user


@login_required
@require_http_methods(["GET", "POST"])
def device_token_list(request: HttpRequest) -> HttpResponse:
    """The observer's device tokens; creating one shows it on this response only."""
    user = _observer(request)
    form = DeviceTokenForm(request.POST or None)
    issued = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                issued = device_tokens.issue_device_token(user, form.cleaned_data["name"])
            except device_tokens.DeviceTokenError as error:
                form.add_error("name", str(error))
            else:
                form = DeviceTokenForm()
        if issued is None:
            status = 400
    context = {
        "form": form,
        "issued": issued,
        "devices": DeviceToken.objects.filter(user=user),
    }
    response = render(request, "accounts/device_tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may hold a token shown once
    return response


@login_required
@require_POST
def device_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = _observer(request)
    device = get_object_or_404(DeviceToken, pk=token_id, user=user)
    with suppress(device_tokens.DeviceTokenError):  # already revoked: the list shows it so
        device_tokens.revoke_device_token(user, device)
    return redirect("device_tokens")


@never_cache
@require_http_methods(["GET", "POST"])
def signin_activate(request: HttpRequest, token: str) -> HttpResponse:
    """An observer's one-time sign-in link: set a password, then signed in.

    Unknown, expired, used and stopped links get the same 404, telling nothing of which. The
    link is locked while its password is set, so two submissions cannot both use it; a form
    the validators refuse leaves it usable.
    """
    with transaction.atomic():
        link = observer_signins.live_link(token, lock=request.method == "POST")
        if link is None:
            return render(request, "accounts/signin_link_invalid.html", status=404)
        form = SetPasswordForm(link.user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            user = form.save()
            observer_signins.use_link(link)
        else:
            status = 400 if request.method == "POST" else 200
            context = {"form": form, "username": link.user.get_username()}
            return render(request, "accounts/signin_activate.html", context, status=status)
    login(request, user, backend="pollwatch.accounts.backends.AccountBackend")
    return redirect("observer_stations")
