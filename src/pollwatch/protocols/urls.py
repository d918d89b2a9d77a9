from django.urls import path

from pollwatch.protocols import views

urlpatterns = [
    path("observe/", views.observer_stations, name="observer_stations"),
    path("observe/device-keys/", views.device_keys, name="device_keys"),
    path(
        "observe/device-keys/<int:key_id>/revoke/",
        views.device_key_revoke,
        name="device_key_revoke",
    ),
    path(
        "elections/<slug:slug>/stations/<int:station_id>/protocol/",
        views.copy_form,
        name="protocol_form",
    ),
    path(
        "elections/<slug:slug>/stations/<int:station_id>/protocol/feedback",
        views.copy_feedback,
        name="protocol_feedback",
    ),
    path(
        "elections/<slug:slug>/stations/<int:station_id>/comparison/",
        views.station_comparison,
        name="station_comparison",
    ),
    path(
        "elections/<slug:slug>/protocol-copies/<uuid:copy_id>/",
        views.copy_detail,
        name="protocol_copy",
    ),
    path(
        "elections/<slug:slug>/protocol-copies/<uuid:copy_id>/receipt-state",
        views.copy_receipt_state,
        name="protocol_copy_receipt_state",
    ),
]
