from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccreditationConfig(AppConfig):
    name = "pollwatch.accreditation"
    verbose_name = _("Observers and accreditation")
