from django.urls import path

from pollwatch.accreditation import views

urlpatterns = [
    path("organisation/observers/", views.observer_list, name="observer_list"),
    path(
        "organisation/observers/<int:observer_id>/", views.observer_detail, name="observer_detail"
    ),
    path(
        "organisation/observers/<int:observer_id>/accreditation/",
        views.accreditation_request,
        name="accreditation_request",
    ),
    path(
        "organisation/observers/<int:observer_id>/assignments/",
        views.assignment_add,
        name="assignment_add",
    ),
    path(
        "organisation/assignments/<int:assignment_id>/remove/",
        views.assignment_remove,
        name="assignment_remove",
    ),
    path("organisation/observers/sign-ins/", views.signins_create, name="observer_signins_create"),
    path(
        "organisation/observers/<int:observer_id>/sign-in/",
        views.signin_reissue,
        name="observer_signin_reissue",
    ),
    path("organisation/import/", views.import_upload, name="observer_import"),
    path("accreditations/", views.accreditation_queue, name="accreditation_queue"),
    path(
        "accreditations/<int:accreditation_id>/accredit/",
        views.accreditation_accredit,
        name="accreditation_accredit",
    ),
    path(
        "accreditations/<int:accreditation_id>/revoke/",
        views.accreditation_revoke,
        name="accreditation_revoke",
    ),
    path("elections/<slug:slug>/coverage/", views.coverage, name="coverage"),
    path(
        "elections/<slug:slug>/coverage/missing.csv",
        views.coverage_missing_csv,
        name="coverage_missing_csv",
    ),
]
