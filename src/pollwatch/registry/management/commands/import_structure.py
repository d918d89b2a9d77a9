"""pollwatch import-structure: load an election's commissions and polling stations."""

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
from pollwatch.core.structure import preset_names
from pollwatch.core.tabular import InputError
from pollwatch.registry.models import Election
from pollwatch.registry.structure_import import ImportReport, import_structure, read_structure


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Import an election's commissions and polling stations from CSV, zipped CSV or XLSX. "
            "Re-importing updates rows by code; rows missing from the file are left in place."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--election", required=True, metavar="SLUG", help=_("election slug"))
        how = parser.add_mutually_exclusive_group(required=True)
        how.add_argument(
            "--preset",
            choices=preset_names(),
            help=_("built-in column mapping (pollwatch is the native format)"),
        )
        how.add_argument(
            "--mapping", type=Path, metavar="FILE", help=_("column mapping file (TOML)")
        )
        parser.add_argument(
            "--stations",
            type=Path,
            required=True,
            metavar="FILE",
            help=_("stations table: .csv, .csv.zip or .xlsx"),
        )
        parser.add_argument(
            "--commissions",
            type=Path,
            metavar="FILE",
            help=_(
                "commissions table, for two-table mappings; default: the stations workbook "
                "when it is an XLSX file holding both sheets"
            ),
        )
        parser.add_argument("--stations-sheet", metavar="NAME", help=_("XLSX sheet of stations"))
        parser.add_argument(
            "--commissions-sheet", metavar="NAME", help=_("XLSX sheet of commissions")
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("check the files and report what would change, without changing anything"),
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
            reported_as_command_error(InputError),
            progress_bar(options, desc=_("reading"), unit=" rows") as bar,
        ):
            plan = read_structure(
                options["stations"],
                options["commissions"],
                preset=options["preset"],
                mapping_file=options["mapping"],
                stations_sheet=options["stations_sheet"],
                commissions_sheet=options["commissions_sheet"],
                on_rows=bar.update,
            )
        with progress_bar(
            options, desc=_("writing"), total=len(plan.stations), unit=" stations"
        ) as bar:
            report = import_structure(
                election,
                plan,
                dry_run=options["dry_run"],
                on_stage=lambda stage: bar.set_description_str(_("writing %s") % stage),
                on_rows=bar.update,
            )
        self._print_report(election, report)

    def _print_report(self, election: Election, report: ImportReport) -> None:
        write = self.stdout.write
        for warning in report.warnings:
            self.stderr.write(_("warning: %s") % warning)
        if report.dry_run:
            write(_("Dry run: nothing was changed. The import would give:"))
        write(
            _("%(election)s: levels %(levels)s; %(voters)s registered voters in the file.")
            % {
                "election": election.slug,
                "levels": " → ".join(report.levels),
                "voters": f"{report.registered_voters:,}",
            }
        )
        write(
            _("Commissions: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
            % {
                "created": report.commissions_created,
                "updated": report.commissions_updated,
                "unchanged": report.commissions_unchanged,
            }
        )
        write(
            _("Stations: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
            % {
                "created": report.stations_created,
                "updated": report.stations_updated,
                "unchanged": report.stations_unchanged,
            }
        )
        if report.commissions_not_in_file or report.stations_not_in_file:
            write(
                _(
                    "Not in the file and left in place (the import never deletes): "
                    "%(commissions)d commissions, %(stations)d stations."
                )
                % {
                    "commissions": report.commissions_not_in_file,
                    "stations": report.stations_not_in_file,
                }
            )
