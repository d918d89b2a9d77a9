from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from pollwatch.api import api
from pollwatch.web.views import admin_login

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("pollwatch.ledger.urls")),  # the transparency log's machine endpoints
]
urlpatterns += i18n_patterns(
    # Before the admin's own login: one login page for all, throttled, with the second factor.
    path("admin/login/", admin_login, name="admin_login_redirect"),
    path("admin/", admin.site.urls),
    path("", include("pollwatch.web.urls")),
    path("", include("pollwatch.accounts.urls")),
    path("", include("pollwatch.registry.urls")),
    path("", include("pollwatch.findings.urls")),
    path("", include("pollwatch.protocols.urls")),
    path("", include("pollwatch.ledger.page_urls")),
    path("", include("pollwatch.official.urls")),
    path("", include("pollwatch.accreditation.urls")),
    path("", include("pollwatch.analysis.urls")),
    prefix_default_language=False,
)
