from django.urls import path

from pollwatch.accounts import views

urlpatterns = [
    path("account/two-factor/", views.second_factor_enrol, name="second_factor_enrol"),
    path("account/two-factor/verify/", views.second_factor_verify, name="second_factor_verify"),
    path("account/devices/", views.device_token_list, name="device_tokens"),
    path(
        "account/devices/<int:token_id>/revoke/",
        views.device_token_revoke,
        name="device_token_revoke",
    ),
    path("account/activate/<str:token>/", views.signin_activate, name="signin_activate"),
]
