from django.urls import path

from pollwatch.registry import views

urlpatterns = [
    path("elections/<slug:slug>/", views.election_overview, name="election"),
    path("elections/<slug:slug>/search", views.station_search, name="station_search"),
    path(
        "elections/<slug:slug>/commissions/<int:commission_id>/",
        views.commission_detail,
        name="commission",
    ),
    path(
        "elections/<slug:slug>/commissions/<int:commission_id>/children/",
        views.commission_children,
        name="commission_children",
    ),
    path("elections/<slug:slug>/stations/<int:station_id>/", views.station_detail, name="station"),
]
