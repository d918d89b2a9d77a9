from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from pollwatch.accounts.forms import ThrottledAuthenticationForm
from pollwatch.registry import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"elections": selectors.elections_with_totals()})


class LoginView(auth_views.LoginView):
    """Django's login with the lockout and throttle; a refused attempt answers 429."""

    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's own login page would skip the throttle and the second factor: send
    everyone to the site's login, keeping where they were going."""
    target = request.GET.get("next") or reverse("admin:index")
    return redirect(f"{reverse('login')}?{urlencode({'next': target})}")
