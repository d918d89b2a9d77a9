"""The public log page, inside the language prefixes."""

from django.urls import path

from pollwatch.ledger import views

urlpatterns = [
    path("elections/<slug:slug>/log/", views.log_page, name="election_log"),
]
