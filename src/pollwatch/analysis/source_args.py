"""The command-line arguments naming a per-station results file and its mapping, shared by
`pollwatch forensics` and `pollwatch pvt`, and reading the file they name."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from pollwatch.analysis.election_figures import (
    ElectionFiguresError,
    observed_station_figures,
    official_station_figures,
)
from pollwatch.commands import add_progress_argument, progress_bar, reported_as_command_error
from pollwatch.core.forensics.source import StationFigures, read_station_figures
from pollwatch.core.structure import load_mapping, load_preset, preset_names
from pollwatch.core.structure.mapping import Mapping
from pollwatch.core.tabular import InputError
from pollwatch.registry.models import Election


def add_mapping_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    how = parser.add_mutually_exclusive_group(required=required)
    how.add_argument(
        "--preset",
        choices=preset_names(),
        help=_("built-in column mapping (ru-2018, ru-2020: the Russian CEC's files)"),
    )
    how.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE.toml",
        help=_("column mapping (the import mapping format, with a [figures] table)"),
    )
    parser.add_argument("--sheet", metavar="NAME", help=_("XLSX sheet (default: the first)"))
    add_progress_argument(parser)


def mapping_of(options: dict[str, Any]) -> Mapping:
    with reported_as_command_error(InputError):
        if options.get("preset"):
            return load_preset(options["preset"])
        if options.get("mapping"):
            return load_mapping(options["mapping"])
    raise CommandError(_("Give the column mapping: --preset NAME or --mapping FILE.toml."))


def figures_of(options: dict[str, Any], urban_column: str | None = None) -> StationFigures:
    """The figures the options name: an election in the database (--election), or a file."""
    if options.get("election"):
        if options.get("file") is not None:
            raise CommandError(_("Give either --election or a file, not both."))
        election = Election.objects.filter(slug=options["election"]).first()
        if election is None:
            raise CommandError(
                _("No election %(slug)s in the database.") % {"slug": options["election"]}
            )
        with reported_as_command_error(ElectionFiguresError):
            if options.get("observed"):
                return observed_station_figures(election)
            return official_station_figures(election)
    if options.get("observed"):
        raise CommandError(_("--observed needs --election: a file holds no observers' copies."))
    if options.get("file") is None:
        raise CommandError(_("Give --election SLUG or the per-station results file (see --help)."))
    return read_figures(options["file"], options, urban_column)


def read_figures(
    path: Path, options: dict[str, Any], urban_column: str | None = None
) -> StationFigures:
    """Read `path` as the options' mapping says; bad input becomes a CommandError (exit 1)."""
    mapping = mapping_of(options)
    with (
        reported_as_command_error(InputError),
        progress_bar(options, desc=_("reading %s") % Path(path).name, unit=" rows") as bar,
    ):
        return read_station_figures(
            mapping,
            path,
            sheet=options.get("sheet"),
            urban_column=urban_column,
            on_rows=bar.update,
        )
