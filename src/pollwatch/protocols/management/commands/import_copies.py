"""pollwatch import-copies: bulk import of protocol copies (typed paper copies, synthetic ones)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.commands import (
    CommandHelp,
    add_progress_argument,
    progress_bar,
    reported_as_command_error,
)
from pollwatch.core.tabular import InputError
from pollwatch.findings.recheck import recheck_election
from pollwatch.protocols.copies_import import CopiesImportError, import_copies
from pollwatch.registry.models import Election


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Import observers' protocol copies from CSV, zipped CSV or XLSX: id, station, "
            "organisation, observer, all_members_signed, certified and one column per protocol "
            "line. All or nothing; a copy already stored with the same id and body is skipped. "
            "The election's findings are recomputed afterwards."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--election", required=True, metavar="SLUG", help=_("election slug"))
        parser.add_argument("file", type=Path, help=_("copies table: .csv, .csv.zip or .xlsx"))
        parser.add_argument("--sheet", metavar="NAME", help=_("XLSX sheet of copies"))
        parser.add_argument(
            "--no-crosscheck",
            action="store_true",
            help=_("do not recompute the cross-check's findings after the import"),
        )
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            election = Election.objects.get(slug=options["election"])
        except Election.DoesNotExist:
            raise CommandError(
                _("No election with the slug %(slug)s.") % {"slug": options["election"]}
            ) from None
        with (
            reported_as_command_error(InputError, CopiesImportError),
            progress_bar(options, desc=_("reading"), unit=" copies") as bar,
        ):
            report = import_copies(
                election, options["file"], sheet=options["sheet"], on_rows=bar.update
            )
        self.stdout.write(
            _("Protocol copies: %(created)s imported, %(unchanged)s already stored.")
            % {"created": f"{report.created:,}", "unchanged": f"{report.unchanged:,}"}
        )
        if report.created and not options["no_crosscheck"]:
            counts = recheck_election(election)
            self.stdout.write(
                _("Findings: %(new)d new, %(updated)d updated, %(resolved)d resolved.")
                % {"new": counts.new, "updated": counts.updated, "resolved": counts.resolved}
            )
