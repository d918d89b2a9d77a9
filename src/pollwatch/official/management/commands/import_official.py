"""pollwatch import-official: import a publication of official results as a snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pollwatch.commands import (
    CommandHelp,
    add_progress_argument,
    progress_bar,
    reported_as_command_error,
)
from pollwatch.core.tabular import InputError
from pollwatch.findings.recheck import recheck_election
from pollwatch.official.importing import (
    already_imported,
    file_sha256,
    import_official,
    read_official,
)
from pollwatch.official.mapping import official_preset_names
from pollwatch.official.models import OfficialSnapshot
from pollwatch.registry.models import Election


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Import official results (station results, or with --totals commission totals at any "
            "level) from CSV, zipped CSV, XLSX or JSON. All or nothing; figures that changed since "
            "an earlier import become current and each raises a silent-change finding."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--election", required=True, metavar="SLUG", help=_("election slug"))
        parser.add_argument("file", type=Path, metavar="FILE", help=_("the publication"))
        how = parser.add_mutually_exclusive_group()
        how.add_argument("--preset", choices=official_preset_names(), help=_("built-in mapping"))
        how.add_argument(
            "--mapping", type=Path, metavar="FILE", help=_("column mapping file (TOML)")
        )
        parser.add_argument(
            "--source", metavar="TEXT", help=_("where the publication came from (default: FILE)")
        )
        parser.add_argument(
            "--totals", action="store_true", help=_("the rows are commission totals")
        )
        parser.add_argument("--sheet", metavar="NAME", help=_("XLSX sheet"))
        parser.add_argument(
            "--no-crosscheck",
            action="store_true",
            help=_("do not recompute the cross-check's findings after the import"),
        )
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            election = Election.objects.select_related("template").get(slug=options["election"])
        except Election.DoesNotExist:
            raise CommandError(
                _("No election with the slug %(slug)s.") % {"slug": options["election"]}
            ) from None
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("%(path)s: file not found") % {"path": path})
        sha256 = file_sha256(path)
        earlier = already_imported(election, sha256, totals=options["totals"])
        if earlier is not None:
            self._unchanged(earlier)
            return
        with reported_as_command_error(InputError):
            with progress_bar(options, desc=_("reading"), unit=" rows") as bar:
                table = read_official(
                    path,
                    election,
                    preset=options["preset"],
                    mapping_file=options["mapping"],
                    totals=options["totals"],
                    sheet=options["sheet"],
                    on_rows=bar.update,
                )
            report = import_official(
                election,
                table,
                source=options["source"] or str(path),
                sha256=sha256,
            )
        if not report.created:
            self._unchanged(report.snapshot)
            return
        self.stdout.write(
            _(
                "Snapshot %(id)d: %(rows)d rows, %(first)d published for the first time, "
                "%(changed)d changed, %(unchanged)d unchanged."
            )
            % {
                "id": report.snapshot.pk,
                "rows": report.rows,
                "first": report.first_published,
                "changed": report.changed,
                "unchanged": report.unchanged,
            }
        )
        if report.silent_changes is not None and report.silent_changes.new:
            self.stdout.write(
                ngettext(
                    "%(count)d new silent-change finding.",
                    "%(count)d new silent-change findings.",
                    report.silent_changes.new,
                )
                % {"count": report.silent_changes.new}
            )
        if not options["no_crosscheck"] and (report.first_published or report.changed):
            counts = recheck_election(election)
            self.stdout.write(
                _("Cross-check: %(new)d new, %(resolved)d resolved findings.")
                % {"new": counts.new, "resolved": counts.resolved}
            )

    def _unchanged(self, snapshot: OfficialSnapshot) -> None:
        self.stdout.write(
            _("This file was imported before (%(when)s) and nothing changed: nothing to do.")
            % {"when": snapshot.imported_at.isoformat(timespec="seconds")}
        )
