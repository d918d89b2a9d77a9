from django.urls import path

from pollwatch.official import views

urlpatterns = [
    path("elections/<slug:slug>/tabulation/", views.tabulation, name="tabulation"),
    path(
        "elections/<slug:slug>/tabulation/<int:commission_id>/",
        views.commission_tabulation,
        name="commission_tabulation",
    ),
]
