from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtocolsConfig(AppConfig):
    name = "pollwatch.protocols"
    verbose_name = _("Protocol copies")
