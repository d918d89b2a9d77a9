"""pollwatch import-observers: create or update observers, and with an election, their
accreditations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.accreditation.imports import ImportReport, import_observers
from pollwatch.accreditation.management.import_command import ImportCommand
from pollwatch.commands import CommandHelp
from pollwatch.core.progress import OnRows
from pollwatch.registry.models import Election


class Command(ImportCommand):
    help = CommandHelp(
        gettext_lazy(
            "Import observers (organisation, code, full_name, contact, languages, "
            "accreditation_number) from CSV, zipped CSV or XLSX; re-importing updates them by "
            "organisation and code. With --election, each gets an accreditation for it: accredited "
            "with the file's number, pending without one; a revoked one stays revoked."
        )
    )
    election_argument = False
    election_help = gettext_lazy(
        "also request or record each observer's accreditation for this election"
    )
    unit = " observers"

    def run(
        self,
        path: Path,
        election: Election | None,
        sheet: str | None,
        options: dict[str, Any],
        on_rows: OnRows,
    ) -> ImportReport:
        return import_observers(
            None, path, election=election, sheet=sheet, dry_run=options["dry_run"], on_rows=on_rows
        )

    def summary(self, report: ImportReport) -> str:
        text = _("Observers: %s") % super().summary(report)
        if report.accreditations_created or report.accreditations_updated:
            text += "\n" + _(
                "Accreditations: %(created)d created, %(updated)d given their number."
            ) % {
                "created": report.accreditations_created,
                "updated": report.accreditations_updated,
            }
        return text
