"""pollwatch pvt: a parallel vote tabulation — sample size, the sample, the estimate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pollwatch.analysis import pvt_output
from pollwatch.analysis.election_figures import observed_station_figures, registry_frame
from pollwatch.analysis.pvt_sample import check_in_sample, read_sample, write_sample
from pollwatch.analysis.source_args import add_mapping_arguments, figures_of, read_figures
from pollwatch.commands import CommandHelp, reported_as_command_error
from pollwatch.core.forensics.source import StationFigures
from pollwatch.core.pvt import (
    HANDBOOK_Z,
    FrameError,
    SampleSizeError,
    SamplingFrame,
    ndi_sample_size,
    pvt_estimate,
    stations_for,
    strata_codes,
    stratified_sample,
)
from pollwatch.core.tabular import InputError
from pollwatch.registry.models import Election

NATIONAL = "national"


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Parallel vote tabulation (quick count) on an election in the database or a results "
            "file.\n"
            "After NDI's handbook: "
            "`size` the sample, `draw` a stratified random sample, `estimate` each option's share "
            "and turnout from the sample with 95 % and 99 % margins, beside the file's full count."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        size = actions.add_parser("size", help=_("the NDI formula's sample size"))
        size.add_argument("--population", type=int, required=True, metavar="N", help=_("voters"))
        size.add_argument(
            "--margin",
            type=float,
            required=True,
            metavar="E",
            help=_("margin of error, 0.01 = 1 %%"),
        )
        level = size.add_mutually_exclusive_group()
        level.add_argument(
            "--confidence",
            choices=sorted(HANDBOOK_Z),
            default="0.95",
            help=_("confidence level: Z = 1.96 or 2.58, as in the NDI handbook (default 0.95)"),
        )
        level.add_argument("--z", type=float, help=_("Z itself, instead of --confidence"))
        size.add_argument(
            "--share",
            type=float,
            default=0.5,
            metavar="P",
            help=_("expected share of the closest option (default 0.5, the worst case)"),
        )
        size.add_argument(
            "--voters-per-station",
            type=float,
            metavar="V",
            help=_("also say how many stations hold that many voters"),
        )
        size.add_argument("--json", action="store_true", help=_("print JSON"))

        draw = actions.add_parser("draw", help=_("draw a stratified random sample of stations"))
        _add_source_arguments(draw)
        draw.add_argument("--size", type=int, required=True, help=_("stations to sample"))
        draw.add_argument("--seed", type=int, required=True, help=_("random seed (record it)"))
        draw.add_argument("--by-region", action="store_true", help=_("stratify by region"))
        draw.add_argument(
            "--urban-column",
            metavar="COLUMN",
            help=_("stratify by urban/rural too, from this column (1/0, urban/rural, yes/no)"),
        )
        draw.add_argument(
            "--by-voters",
            action="store_true",
            help=_("allocate the sample to strata by registered voters, not by stations"),
        )
        draw.add_argument(
            "--out", type=Path, required=True, metavar="sample.csv", help=_("where to write it")
        )

        estimate = actions.add_parser("estimate", help=_("estimate the result from the sample"))
        _add_source_arguments(estimate)
        estimate.add_argument(
            "--sample", type=Path, required=True, metavar="sample.csv", help=_("from pvt draw")
        )
        estimate.add_argument(
            "--reports",
            type=Path,
            metavar="reports.csv",
            help=_(
                "the sample stations' reported figures, laid out as FILE (default: the sample "
                "stations' figures in FILE itself)"
            ),
        )
        estimate.add_argument("--json", action="store_true", help=_("print JSON"))

    def handle(self, *args: Any, **options: Any) -> None:
        action = {"size": self._size, "draw": self._draw, "estimate": self._estimate}
        action[options["action"]](options)

    def _size(self, options: dict[str, Any]) -> None:
        z = options["z"] if options["z"] is not None else HANDBOOK_Z[options["confidence"]]
        with reported_as_command_error(SampleSizeError):
            voters = ndi_sample_size(options["population"], options["margin"], z, options["share"])
            per_station = options["voters_per_station"]
            stations = None if per_station is None else stations_for(voters, per_station)
        if options["json"]:
            result = {"n": voters, "z": z, "stations": stations}
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            _("n = %(n)s voters (Z = %(z)g, E = %(e)g, P = %(p)g, N = %(pop)s)")
            % {
                "n": f"{voters:,.1f}",
                "z": z,
                "e": options["margin"],
                "p": options["share"],
                "pop": f"{options['population']:,}",
            }
        )
        if stations is not None:
            self.stdout.write(
                ngettext("%(stations)s station", "%(stations)s stations", stations)
                % {"stations": f"{stations:,}"}
            )

    def _draw(self, options: dict[str, Any]) -> None:
        if options["election"]:
            if options["urban_column"]:
                raise CommandError(_("--urban-column reads a file; the registry has no such mark"))
            figures = _registry_frame(options)
        else:
            figures = figures_of(options, urban_column=options["urban_column"])
        frame = _frame(figures, options["by_region"])
        try:
            with reported_as_command_error(FrameError):
                sample = stratified_sample(
                    frame, options["size"], options["seed"], by_voters=options["by_voters"]
                )
                write_sample(options["out"], figures, frame, sample)
        except OSError as error:
            raise CommandError(
                _("%(path)s: cannot write the sample (%(error)s)")
                % {"path": options["out"], "error": error.strerror or error}
            ) from None
        strata = int(np.count_nonzero(sample.population))
        self.stdout.write(
            _("%(size)s of %(stations)s stations in %(strata)d strata, seed %(seed)d: %(out)s")
            % {
                "size": f"{len(sample.indices):,}",
                "stations": f"{figures.stations:,}",
                "strata": strata,
                "seed": options["seed"],
                "out": options["out"],
            }
        )

    def _estimate(self, options: dict[str, Any]) -> None:
        official = figures_of(options)
        with reported_as_command_error(InputError, ValueError):
            if options["election"]:
                if options["reports"] is not None:
                    raise CommandError(
                        _("--reports reads a file; with --election the reports are the copies")
                    )
                frame = _registry_frame(options)
                sample = read_sample(options["sample"], frame)
                reported, stratum = _observed_in_sample(
                    options, [frame.codes[i] for i in sample.indices.tolist()], sample.stratum
                )
            else:
                sample = read_sample(options["sample"], official)
                reported = official.take(sample.indices)
                stratum = sample.stratum
            if options["reports"] is not None:
                reports = read_figures(options["reports"], options)
                check_in_sample(reports, set(reported.codes))
                reported, stratum = _reported(reports, reported.codes, stratum)
            estimate = pvt_estimate(
                reported.options,
                reported.counted,
                reported.issued,
                reported.registered,
                stratum,
                sample.population,
            )
        report = pvt_output.estimate_report(
            estimate, official, len(sample.indices), len(sample.stratum_names)
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(pvt_output.report_json(report), ensure_ascii=False, indent=2)
            )
        else:
            self.stdout.write("\n".join(pvt_output.report_text(report)))


def _add_source_arguments(parser: CommandParser) -> None:
    parser.add_argument("file", nargs="?", type=Path, metavar="FILE", help=_("per-station results"))
    parser.add_argument(
        "--election",
        metavar="SLUG",
        help=_(
            "an election in the database instead of a file: the registry is the frame, the "
            "observers' consensus figures the reports, its official results the comparison"
        ),
    )
    add_mapping_arguments(parser, required=False)


def _registry_frame(options: dict[str, Any]) -> StationFigures:
    election = _election(options["election"])
    return registry_frame(election)


def _election(slug: str) -> Election:
    election = Election.objects.filter(slug=slug).first()
    if election is None:
        raise CommandError(_("No election %(slug)s in the database.") % {"slug": slug})
    return election


def _observed_in_sample(
    options: dict[str, Any], sample_codes: list[str], stratum: np.ndarray
) -> tuple[StationFigures, np.ndarray]:
    """The observers' consensus at the sample stations that have one, with their strata."""
    observed = observed_station_figures(_election(options["election"]))
    in_sample = set(sample_codes)
    reporting = np.array([code in in_sample for code in observed.codes], dtype=bool)
    return _reported(observed.take(np.flatnonzero(reporting)), sample_codes, stratum)


def _frame(figures: StationFigures, by_region: bool) -> SamplingFrame:
    """Strata: regions (or the whole country), split urban/rural when the file says which."""
    region = figures.region if by_region else np.zeros(figures.stations, dtype=np.intp)
    regions = figures.region_names if by_region else (NATIONAL,)
    if by_region and not any(regions):
        raise CommandError(_("--by-region: the mapping names no region column"))
    urban = figures.urban
    names = (
        regions
        if urban is None
        else tuple(f"{r} / {kind}" for r in regions for kind in (_("rural"), _("urban")))
    )
    return SamplingFrame(
        station_ids=np.arange(figures.stations, dtype=np.int64),
        stratum=strata_codes(region, urban),
        registered=figures.registered,
        stratum_names=names,
    )


def _reported(
    reports: StationFigures, sample_codes: list[str], stratum: np.ndarray
) -> tuple[StationFigures, np.ndarray]:
    """The reports, each with its sample station's stratum."""
    where = {code: k for k, code in enumerate(sample_codes)}
    positions = np.array([where[code] for code in reports.codes], dtype=np.intp)
    return reports, stratum[positions]
