from django.urls import path

from pollwatch.findings import views

urlpatterns = [
    path("elections/<slug:slug>/findings/", views.queue, name="findings_queue"),
    path("elections/<slug:slug>/findings/<int:finding_id>/", views.finding_detail, name="finding"),
    path(
        "elections/<slug:slug>/findings/<int:finding_id>/status",
        views.change_status,
        name="finding_status",
    ),
]
