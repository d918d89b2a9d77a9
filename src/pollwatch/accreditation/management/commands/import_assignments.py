"""pollwatch import-assignments: observers' assignments to an election's polling stations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.accreditation.imports import ImportReport, import_assignments
from pollwatch.accreditation.management.import_command import ImportCommand
from pollwatch.commands import CommandHelp
from pollwatch.core.progress import OnRows
from pollwatch.registry.models import Election


class Command(ImportCommand):
    help = CommandHelp(
        gettext_lazy(
            "Import assignments (organisation, observer, station, starts_at, ends_at) from "
            "CSV, zipped CSV or XLSX. The file is the plan for the observers it names: each "
            "ends up with exactly the file's assignments in the election; observers not in the "
            "file keep theirs."
        )
    )
    election_argument = True
    election_help = gettext_lazy("the election whose station codes the file uses")
    unit = " assignments"

    def run(
        self,
        path: Path,
        election: Election | None,
        sheet: str | None,
        options: dict[str, Any],
        on_rows: OnRows,
    ) -> ImportReport:
        assert election is not None  # --election is required
        return import_assignments(
            None, path, election=election, sheet=sheet, dry_run=options["dry_run"], on_rows=on_rows
        )

    def summary(self, report: ImportReport) -> str:
        return _(
            "Assignments: %(created)d added, %(removed)d removed, %(unchanged)d unchanged."
        ) % {"created": report.created, "removed": report.removed, "unchanged": report.unchanged}
