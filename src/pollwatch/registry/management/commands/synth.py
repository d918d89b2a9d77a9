import sys
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from tqdm import tqdm

from pollwatch.commands import CommandHelp
from pollwatch.core.synth import (
    DEFAULT_SEED,
    DEFAULT_STATIONS,
    FORMATS,
    XLSX_MAX_ROWS,
    OutputFormat,
    Summary,
    SyntheticElection,
    SynthParameterError,
    SynthParams,
    generate,
    output_rows,
    summarise,
    write_files,
)


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Generate a realistic synthetic national referendum (structure and per-station "
            "results), deterministic from a seed."
        )
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stations",
            type=int,
            default=DEFAULT_STATIONS,
            help=_("polling stations (default %(default)s, like Kazakhstan)")
            % {"default": f"{DEFAULT_STATIONS:,}"},
        )
        parser.add_argument(
            "--regions",
            type=int,
            default=None,
            help=_("regions (default 20, fewer for tiny sizes)"),
        )
        parser.add_argument(
            "--territorials",
            type=int,
            default=None,
            help=_("territorial commissions (default ~10 per region, at most ~100 stations each)"),
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("random seed"))
        parser.add_argument(
            "--out", default=None, help=_("output directory (default synth-<seed>-<stations>)")
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default="csv",
            dest="output_format",
            help=_("csv (default, fast) or xlsx (structure.xlsx and results.xlsx)"),
        )
        parser.add_argument(
            "--force", action="store_true", help=_("write into a directory that is not empty")
        )
        observed = parser.add_argument_group(_("observers and injected faults"))
        for flag, kind, help_text in _OBSERVATION_FLAGS:
            default = getattr(_DEFAULTS, flag.replace("-", "_"))
            observed.add_argument(f"--{flag}", type=kind, default=default, help=str(help_text))

    def handle(
        self,
        *args: Any,
        stations: int,
        regions: int | None,
        territorials: int | None,
        seed: int,
        out: str | None,
        output_format: str,
        force: bool,
        **options: Any,
    ) -> None:
        observation = {
            flag.replace("-", "_"): options[flag.replace("-", "_")]
            for flag, _kind, _help in _OBSERVATION_FLAGS
        }
        try:
            params = SynthParams.build(stations, regions, territorials, seed, **observation)
        except SynthParameterError as error:
            raise CommandError(
                _("Cannot generate this election: %(reason)s.") % {"reason": error}
            ) from error
        out_dir = Path(out if out is not None else f"synth-{seed}-{stations}")
        self._check_output(out_dir, force)
        if output_format == "xlsx" and stations > XLSX_MAX_ROWS:
            raise CommandError(
                _("%(stations)s stations do not fit in an XLSX sheet (at most %(max)s); use CSV.")
                % {"stations": f"{stations:,}", "max": f"{XLSX_MAX_ROWS:,}"}
            )

        election = generate(params)
        with tqdm(
            total=output_rows(election),
            unit=" rows",
            unit_scale=True,
            desc=_("Writing"),
            file=sys.stderr,
            disable=options["verbosity"] == 0,
        ) as bar:
            try:
                paths = write_files(
                    election, out_dir, cast(OutputFormat, output_format), progress=bar.update
                )
            except ValueError as error:  # a table too long for a worksheet
                raise CommandError(str(error)) from error
        self.stdout.write(_summary(summarise(election)))
        self.stdout.write(_observation_summary(election))
        for path in paths:
            self.stdout.write(f"  {path}")

    @staticmethod
    def _check_output(out_dir: Path, force: bool) -> None:
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(_("%(path)s exists and is not a directory.") % {"path": out_dir})
        if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
            raise CommandError(
                _("%(path)s is not empty: choose another --out, or pass --force to overwrite.")
                % {"path": out_dir}
            )


_DEFAULTS = SynthParams.build(stations=1)
# --flag, type, help: the observer and fault parameters of SynthParams (argparse fills in
# %(default)s).
_OBSERVATION_FLAGS: tuple[tuple[str, type, Promise], ...] = (
    ("organisations", int, gettext_lazy("observer organisations (default %(default)s)")),
    (
        "coverage",
        float,
        gettext_lazy("share of stations with observers' copies (default %(default)s)"),
    ),
    (
        "slips",
        float,
        gettext_lazy("share of copies with one figure mistyped (default %(default)s)"),
    ),
    (
        "stuffed",
        float,
        gettext_lazy(
            "share of stations with copies whose official figures are inflated "
            "(default %(default)s)"
        ),
    ),
    (
        "arithmetic-errors",
        float,
        gettext_lazy(
            "share of stations with copies with one official figure published wrong "
            "(default %(default)s)"
        ),
    ),
    (
        "missing-official",
        float,
        gettext_lazy(
            "share of stations with copies whose official result is not published "
            "(default %(default)s)"
        ),
    ),
    (
        "faulty-totals",
        int,
        gettext_lazy(
            "territorial commissions whose total is not the sum of stations (default %(default)s)"
        ),
    ),
    (
        "unreported",
        float,
        gettext_lazy(
            "share of stations without copies where an assigned observer handed in nothing "
            "(default %(default)s)"
        ),
    ),
)


def _observation_summary(election: SyntheticElection) -> str:
    observation, faults = election.observation, election.faults
    return _(
        "%(organisations)s organisations, %(observers)s observers, %(copies)s protocol copies; "
        "injected: %(slips)s transcription slips, %(stuffed)s stuffed stations, %(errors)s "
        "official arithmetic errors, %(totals)s wrong territorial totals, %(missing)s missing "
        "official results, %(unreported)s stations without the copy expected, %(silent)s stations "
        "changed silently in a later publication."
    ) % {
        "organisations": len(observation.organisations),
        "observers": f"{observation.observer_station.size:,}",
        "copies": f"{observation.copies:,}",
        "slips": f"{faults.slip_copy.size:,}",
        "stuffed": f"{faults.stuffed_station.size:,}",
        "errors": f"{faults.error_station.size:,}",
        "totals": f"{faults.faulty_territorial.size:,}",
        "missing": f"{faults.missing_station.size:,}",
        "unreported": f"{observation.unreported_stations.size:,}",
        "silent": f"{faults.revised_station.size:,}",
    }


def _summary(summary: Summary) -> str:
    return _(
        "Generated a synthetic referendum: %(regions)s regions, %(territorials)s territorial "
        "commissions, %(stations)s polling stations and %(registered)s registered voters; "
        "turnout %(turnout).1f%%, Yes %(yes).1f%% of valid votes. Files:"
    ) % {
        "regions": f"{summary.regions:,}",
        "territorials": f"{summary.territorials:,}",
        "stations": f"{summary.stations:,}",
        "registered": f"{summary.registered:,}",
        "turnout": 100 * summary.turnout,
        "yes": 100 * summary.yes_share,
    }
