"""pollwatch import-organisations: create or update observer organisations by code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.accreditation.imports import ImportReport, import_organisations
from pollwatch.accreditation.management.import_command import ImportCommand
from pollwatch.commands import CommandHelp
from pollwatch.core.progress import OnRows
from pollwatch.registry.models import Election


class Command(ImportCommand):
    help = CommandHelp(
        gettext_lazy(
            "Import organisations (code, name, kind, share_with_mission, share_with_organisations) "
            "from CSV, zipped CSV or XLSX; re-importing updates them by code."
        )
    )

    def run(
        self,
        path: Path,
        election: Election | None,
        sheet: str | None,
        options: dict[str, Any],
        on_rows: OnRows,
    ) -> ImportReport:
        return import_organisations(None, path, sheet=sheet, dry_run=options["dry_run"])

    def summary(self, report: ImportReport) -> str:
        return _("Organisations: %s") % super().summary(report)
