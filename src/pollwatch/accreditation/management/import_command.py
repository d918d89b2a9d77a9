"""What the three import commands share: arguments, the election, errors and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from pollwatch.accreditation.imports import ImportReport
from pollwatch.commands import add_progress_argument, progress_bar, reported_as_command_error
from pollwatch.core.progress import OnRows
from pollwatch.core.tabular import InputError
from pollwatch.registry.models import Election


class ImportCommand(BaseCommand):
    # Whether --election is required (True), optional (False) or not offered (None).
    election_argument: bool | None = None
    election_help: str | Promise = ""
    unit = " rows"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help=_("a .csv, .zip (one CSV) or .xlsx file"))
        parser.add_argument("--sheet", metavar="NAME", help=_("XLSX sheet (default: the first)"))
        if self.election_argument is not None:
            parser.add_argument(
                "--election",
                required=self.election_argument,
                metavar="SLUG",
                help=str(self.election_help),
            )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("check the file and report what would change, without changing anything"),
        )
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        election = self._election(options.get("election"))
        with (
            reported_as_command_error(InputError),
            progress_bar(options, desc=_("importing"), unit=self.unit) as bar,
        ):
            report = self.run(options["file"], election, options["sheet"], options, bar.update)
        self.print_report(report)

    def run(
        self,
        path: Path,
        election: Election | None,
        sheet: str | None,
        options: dict[str, Any],
        on_rows: OnRows,
    ) -> ImportReport:
        raise NotImplementedError

    def _election(self, slug: str | None) -> Election | None:
        if slug is None:
            return None
        try:
            return Election.objects.get(slug=slug)
        except Election.DoesNotExist:
            raise CommandError(_("No election with the slug %(slug)s.") % {"slug": slug}) from None

    def print_report(self, report: ImportReport) -> None:
        if report.dry_run:
            self.stdout.write(_("Dry run: nothing was changed. The import would give:"))
        self.stdout.write(self.summary(report))

    def summary(self, report: ImportReport) -> str:
        return _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
