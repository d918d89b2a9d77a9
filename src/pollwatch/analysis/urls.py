from django.urls import path

from pollwatch.analysis import views

urlpatterns = [
    path("elections/<slug:slug>/forensics/", views.forensics, name="forensics"),
    path(
        "elections/<slug:slug>/forensics/<int:report_id>/<slug:figure>.svg",
        views.forensics_figure_svg,
        name="forensics_figure_svg",
    ),
    path(
        "elections/<slug:slug>/forensics/<int:report_id>/<slug:figure>.png",
        views.forensics_figure_png,
        name="forensics_figure_png",
    ),
    path("elections/<slug:slug>/pvt/", views.pvt, name="pvt"),
    path("elections/<slug:slug>/pvt/draw/", views.pvt_draw, name="pvt_draw"),
    path("elections/<slug:slug>/pvt/sample.csv", views.pvt_sample_csv, name="pvt_sample_csv"),
]
