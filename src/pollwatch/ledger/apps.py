from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "pollwatch.ledger"
    verbose_name = _("Transparency log")

    def ready(self) -> None:
        # Each app that logs records registers its kinds in <app>/ledger_records.py.
        from pollwatch.ledger import finding_decisions  # noqa: F401

        autodiscover_modules("ledger_records")
