"""pollwatch forensics: the forensic tests on an election's per-station results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.analysis.figure_files import report_figures, write_figures
from pollwatch.analysis.forensics_output import ForensicsRun, report_json, report_text
from pollwatch.analysis.source_args import add_mapping_arguments, figures_of
from pollwatch.commands import CommandHelp
from pollwatch.core.forensics import ForensicsInputError, forensics_report
from pollwatch.core.forensics.klimek import fit
from pollwatch.core.tabular import InputError


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Election forensics on an election in the database or on a per-station results file.\n"
            "Integer percentages, Shpilkin's estimate, digit tests, Klimek's fraud model and the "
            "fingerprint figures. "
            "Give --election SLUG (its current official results, or with --observed the observers' "
            "consensus figures), or the file and its column mapping (--preset or --mapping with a "
            "[figures] table)."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            nargs="?",
            type=Path,
            metavar="FILE",
            help=_("per-station results: .csv, .csv.zip or .xlsx, one row per station"),
        )
        parser.add_argument(
            "--election",
            metavar="SLUG",
            help=_("an election in the database: its current official station results"),
        )
        parser.add_argument(
            "--observed",
            action="store_true",
            help=_("with --election: the observers' consensus figures instead of the official"),
        )
        add_mapping_arguments(parser, required=False)
        parser.add_argument(
            "--leader",
            metavar="OPTION",
            help=_("the option whose votes are tested (default: the one with most votes)"),
        )
        parser.add_argument(
            "--figures", type=Path, metavar="DIR", help=_("write the figures here, PNG and SVG")
        )
        parser.add_argument(
            "--json", action="store_true", help=_("print the results as JSON, nothing else")
        )
        parser.add_argument(
            "--no-klimek",
            action="store_true",
            help=_("skip Klimek's model fit (the slowest test, several seconds)"),
        )
        parser.add_argument(
            "--seed", type=int, default=0, help=_("random seed of the bootstrap and simulations")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        figures = figures_of(options)
        try:
            leader = figures.leader_of(options["leader"])
            results = figures.results(leader)
            report = forensics_report(results, seed=options["seed"])
            klimek = None
            if not options["no_klimek"]:
                if options["verbosity"] >= 1:
                    self.stderr.write(_("Fitting Klimek's model (--no-klimek skips it)…"))
                klimek = fit(results, seed=options["seed"])
        except (InputError, ForensicsInputError, ValueError) as error:
            raise CommandError(f"{figures.source}: {error}") from None
        written = []
        if options["figures"] is not None:
            written = write_figures(options["figures"], report_figures(results, report, klimek))
        run = ForensicsRun(report, figures.source, figures.stations, leader, klimek, written)
        if options["json"]:
            self.stdout.write(json.dumps(report_json(run), ensure_ascii=False, indent=2))
        else:
            self.stdout.write("\n".join(report_text(run)))
