"""The log's machine endpoints (C2SP tlog-tiles and friends), outside the language prefixes."""

from django.urls import path, re_path

from pollwatch.ledger import views

urlpatterns = [
    path("log/<slug:election>/checkpoint", views.checkpoint, name="log_checkpoint"),
    re_path(r"^log/(?P<election>[-\w]+)/tile/(?P<path>.+)$", views.tile, name="log_tile"),
    path("log/<slug:election>/receipt/<int:entry>", views.receipt, name="log_receipt"),
    path("log/<slug:election>/consistency", views.consistency, name="log_consistency"),
]
