"""`pollwatch integrate`: the log's single integrator (DESIGN §5).

    pollwatch integrate                 # run until stopped, a pass every --interval seconds
    pollwatch integrate --once          # one pass: everything pending now, then exit

Refuses to start while another integrator runs (exit 1). See `pollwatch.ledger.integration`.
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pollwatch.commands import CommandHelp, reported_as_command_error
from pollwatch.ledger.errors import LedgerError
from pollwatch.ledger.integration import DEFAULT_BATCH, Published, run
from pollwatch.ledger.witnessing import WitnessPublisher


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Integrate pending log entries: assign indexes, write tiles, sign checkpoints "
            "(one process at a time)."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help=_("one pass, then exit"))
        parser.add_argument(
            "--interval",
            type=float,
            default=0.2,
            help=_("seconds between passes when running continuously (default 0.2)"),
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=DEFAULT_BATCH,
            help=_("entries per batch (default %(default)s)"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0 or options["batch"] < 1:
            raise CommandError(_("--interval must be positive and --batch at least 1"))
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        verbosity = options["verbosity"]

        witnessing = WitnessPublisher().start()

        def published(result: Published) -> None:
            witnessing.submit(result)
            if verbosity >= 2:
                self.stdout.write(
                    _("election %(election)s: size %(old)s -> %(size)s")
                    % {"election": result.election_id, "old": result.old_size, "size": result.size}
                )

        try:
            with reported_as_command_error(LedgerError):
                count = run(
                    once=options["once"],
                    interval=options["interval"],
                    batch=options["batch"],
                    on_published=published,
                    should_stop=lambda: stopping,
                )
        finally:
            witnessing.stop()
        if verbosity >= 1:
            self.stdout.write(
                ngettext("%(count)s checkpoint published", "%(count)s checkpoints published", count)
                % {"count": count}
            )
